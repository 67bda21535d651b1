/**
 * scan-and-clear over the dirty bitmaps of a 4 GiB and a 64 GiB guest (4 KiB pages: 1 Mi and
 * 16 Mi pages, bitmaps of 128 KiB and 2 MiB) at 0, 1, 10 and 50 % of pages dirty, uniformly at
 * random (seeded). GB/s counts bitmap bytes scanned.
 *
 * The kernel clears what it scans, so each timed call must find the bitmap dirty again. A
 * beforeEach hook, outside tinybench's timed region, copies a pristine bitmap back: only the scan
 * is timed. The restore leaves the bitmap in cache (2 MiB fits this machine's L2 or L3), as it is
 * in a migration, where vCPUs keep writing it. The hook takes turns among PRISTINE_BITMAPS
 * different bitmaps of the same density: restoring the same one every time let the branch
 * predictor learn a 128 KiB bitmap's pattern across calls, which no migration round would allow.
 * Each call's count is checked against its bitmap's: a scan that dropped work would fail.
 */
import type { Kernels } from '../../src/kernel/types.js';
import { Xorshift128 } from '../../src/util/prng.js';
import { type Arena } from '../lib/arena.js';
import type { CaseSpec } from '../lib/tinybench.js';
import { GiB, sizeLabel } from '../lib/units.js';

export const SCAN_GROUP = 'scan-and-clear';
export const SCAN_GUEST_BYTES = [4 * GiB, 64 * GiB] as const;
export const SCAN_DIRTY_PERCENT = [0, 1, 10, 50] as const;
const PAGE_BYTES = 4096;
const PRISTINE_BITMAPS = 8;

export function scanVariant(guestBytes: number, dirtyPercent: number): string {
  return `${sizeLabel(guestBytes)} guest (bitmap ${sizeLabel(guestBytes / PAGE_BYTES / 8)}), ${dirtyPercent} % dirty`;
}

/** A bitmap of `pages` bits, each set with probability dirtyPercent / 100; and how many are. */
function randomBitmap(pages: number, dirtyPercent: number, seed: number): { bits: Uint8Array; dirty: number } {
  const bits = new Uint8Array(pages / 8);
  const rng = new Xorshift128(seed);
  const threshold = Math.round((dirtyPercent / 100) * 2 ** 32);
  let dirty = 0;
  for (let p = 0; p < pages; p++) {
    if (rng.nextU32() < threshold) {
      bits[p >>> 3] |= 1 << (p & 7);
      dirty++;
    }
  }
  return { bits, dirty };
}

export interface ScanSetup {
  arena: Arena;
  bitmapPtr: number;
  outPtr: number;
  maxPages: number;
}

/** Reserves the bitmap and output list for the largest guest. */
export function reserveScan(arena: Arena): ScanSetup {
  const maxPages = Math.max(...SCAN_GUEST_BYTES) / PAGE_BYTES;
  return {
    arena,
    bitmapPtr: arena.reserve('bitmap', maxPages / 8),
    outPtr: arena.reserve('scan output', maxPages * 4),
    maxPages,
  };
}

export function scanCases(s: ScanSetup, memory: WebAssembly.Memory, wasm: Kernels, ts: Kernels): CaseSpec[] {
  const cases: CaseSpec[] = [];
  for (const guestBytes of SCAN_GUEST_BYTES) {
    const pages = guestBytes / PAGE_BYTES;
    const words = pages / 64;
    const bitmap = new Uint8Array(memory.buffer, s.bitmapPtr, pages / 8);
    for (const dirtyPercent of SCAN_DIRTY_PERCENT) {
      const pristine = Array.from({ length: PRISTINE_BITMAPS }, (_, i) =>
        randomBitmap(pages, dirtyPercent, 0x5ca9 + 16 * dirtyPercent + i),
      );
      let turn = 0;
      let dirty = 0;
      const restore = (): void => {
        const p = pristine[turn++ % PRISTINE_BITMAPS];
        bitmap.set(p.bits);
        dirty = p.dirty;
      };
      const task = (k: Kernels) => (): void => {
        const n = k.scanAndClear(s.bitmapPtr, 0, words, s.outPtr, pages);
        if (n !== dirty) throw new Error(`scan found ${n} dirty pages, expected ${dirty}`);
      };
      cases.push({
        group: SCAN_GROUP,
        variant: scanVariant(guestBytes, dirtyPercent),
        bytesPerOp: pages / 8,
        tasks: [
          { implementation: 'wasm', fn: task(wasm), beforeEach: restore },
          { implementation: 'ts-reference', fn: task(ts), beforeEach: restore },
        ],
      });
    }
  }
  return cases;
}
