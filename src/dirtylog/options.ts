/** The dirty log's options: the tracking strategy, its ring size, what it costs a KVM host. */
import type { OptionTable } from '../util/options.js';
import { OptionError } from '../util/errors.js';
import { parseName } from '../util/options.js';
import { isPowerOfTwo, parseCount } from '../util/units.js';
import type { DirtyLogName } from './dirty-log.js';
import { DIRTY_LOG_NAMES } from './registry.js';
import { costParams, parseDirtyCost, type DirtyCostSpec } from './cost.js';

export interface DirtyLogConfig {
  /** Dirty tracking strategy (src/dirtylog/). */
  dirtyLog: DirtyLogName;
  /** Entries of each vCPU's dirty ring, a power of two (dirtyLog 'ring' only). */
  ringSizeEntries: number;
  /** What dirty tracking costs the host and the guest (src/dirtylog/cost.ts). */
  dirtyCost: DirtyCostSpec;
}

export const DIRTY_LOG_LIMITS = {
  /** Dirty ring entries per vCPU (KVM accepts 4096 .. 65536 for 4 KiB entries; smaller ones help tests). */
  ringSize: { min: 16, max: 1 << 20 },
} as const;

export type DirtyLogOptionKey = 'dirtyLog' | 'ringSize' | 'dirtyCost';

export const DIRTY_LOG_OPTIONS: OptionTable<DirtyLogOptionKey, DirtyLogOptionKey, DirtyLogConfig> = {
  dirtyLog: {
    flags: '--dirty-log <name>',
    description:
      'dirty tracking: bitmap (KVM GET_DIRTY_LOG: fetch and clear all each round), bitmap-chunked (KVM CLEAR_DIRTY_LOG: clear each 64-page chunk just before sending it), two-level (a summary bit per bitmap word lets scans skip clean regions), ring (KVM dirty ring: per-vCPU rings of page numbers, a full ring stalls its vCPU)',
    defaultText: 'bitmap',
    example: 'ring',
    resolve: (c) => ({ dirtyLog: parseName('--dirty-log', c.typed('dirtyLog'), DIRTY_LOG_NAMES) }),
  },
  ringSize: {
    flags: '--ring-size <entries>',
    description: "entries of each vCPU's dirty ring with --dirty-log ring, a power of two",
    defaultText: '4096',
    example: '1024',
    resolve: (c) => ({ ringSizeEntries: parseRingSize(c.typed('ringSize')) }),
  },
  dirtyCost: {
    flags: '--dirty-cost <model>',
    description:
      "what dirty tracking costs a KVM host, charged on both clocks: kvm (write-protect faults hold the vCPU; enabling the log, syncs, clears, ring harvests and resets hold the migration thread; defaults per --dirty-log from published measurements, see docs/strategies.md), kvm with parameters over it such as kvm,fault=5us,sync-per-gib=1ms (fault, ring-full-exit, enable-per-gib, sync, sync-per-gib, protect-per-page, clear, harvest-per-entry, reset), or none (the emulator's own work only; what QEMU's TCG references match)",
    defaultText: 'kvm',
    example: 'kvm,fault=5us',
    resolve: (c) => {
      const dirtyCost = parseDirtyCost(c.typed('dirtyCost'));
      costParams(dirtyCost, c.config.dirtyLog as DirtyLogName); // a parameter the strategy does not charge is refused here
      return { dirtyCost };
    },
  },
};

function parseRingSize(text: string): number {
  const n = parseCount('--ring-size', text, DIRTY_LOG_LIMITS.ringSize);
  if (!isPowerOfTwo(n)) {
    throw new OptionError(
      '--ring-size',
      `--ring-size must be a power of two from 16 to 1048576 entries such as 4096 (got ${JSON.stringify(text)})`,
    );
  }
  return n;
}
