/** CLI name to dirty tracking strategy: adding one is adding a file and a line here. */
import type { GuestMemory } from '../memory/guest-memory.js';
import type { DirtyLog, DirtyLogName } from './dirty-log.js';
import { BitmapDirtyLog } from './bitmap.js';
import { ChunkedBitmapDirtyLog } from './bitmap-chunked.js';
import { TwoLevelDirtyLog } from './two-level.js';
import { DirtyRingLog } from './dirty-ring.js';
import { NO_DIRTY_COST } from './cost.js';
import { dirtyCosts, type DirtyCostParams, type DirtyCosts } from './cost-meter.js';

export interface DirtyLogOptions {
  vcpus: number;
  ringSizeEntries: number;
  /** The host's and guest's costs (src/dirtylog/cost.ts); absent: none. */
  cost?: DirtyCostParams;
}

export const DIRTY_LOGS: Record<DirtyLogName, (memory: GuestMemory, o: DirtyLogOptions, c: DirtyCosts) => DirtyLog> = {
  bitmap: (m, _o, c) => new BitmapDirtyLog(m, c),
  'bitmap-chunked': (m, _o, c) => new ChunkedBitmapDirtyLog(m, c),
  'two-level': (m, _o, c) => new TwoLevelDirtyLog(m, c),
  ring: (m, o, c) => new DirtyRingLog(m, o.vcpus, o.ringSizeEntries, c),
};

export const DIRTY_LOG_NAMES = Object.keys(DIRTY_LOGS) as DirtyLogName[];

export function createDirtyLog(name: DirtyLogName, memory: GuestMemory, options: DirtyLogOptions): DirtyLog {
  const costs = dirtyCosts(options.cost ?? NO_DIRTY_COST, options.vcpus);
  return DIRTY_LOGS[name](memory, options, costs);
}
