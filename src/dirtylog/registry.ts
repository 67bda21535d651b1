/** CLI name to dirty tracking strategy: adding one is adding a file and a line here. */
import type { GuestMemory } from '../memory/guest-memory.js';
import type { DirtyLog, DirtyLogName } from './dirty-log.js';
import { BitmapDirtyLog } from './bitmap.js';
import { ChunkedBitmapDirtyLog } from './bitmap-chunked.js';
import { TwoLevelDirtyLog } from './two-level.js';
import { DirtyRingLog } from './dirty-ring.js';

export interface DirtyLogOptions {
  vcpus: number;
  ringSizeEntries: number;
}

export const DIRTY_LOGS: Record<DirtyLogName, (memory: GuestMemory, o: DirtyLogOptions) => DirtyLog> = {
  bitmap: (m) => new BitmapDirtyLog(m),
  'bitmap-chunked': (m) => new ChunkedBitmapDirtyLog(m),
  'two-level': (m) => new TwoLevelDirtyLog(m),
  ring: (m, o) => new DirtyRingLog(m, o.vcpus, o.ringSizeEntries),
};

export const DIRTY_LOG_NAMES = Object.keys(DIRTY_LOGS) as DirtyLogName[];

export function createDirtyLog(name: DirtyLogName, memory: GuestMemory, options: DirtyLogOptions): DirtyLog {
  return DIRTY_LOGS[name](memory, options);
}
