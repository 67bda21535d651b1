/**
 * Zero-page test on all-zero 4 KiB pages, its worst case (every byte must be read): 16,384 pages
 * = 64 MiB, twice the 32 MiB L3 of the machine this was written on, one kernel call per page as
 * the sender makes them. memcpy reference: `TypedArray.prototype.set` of the same 64 MiB into a
 * second region of the same memory. GB/s counts page bytes tested (or copied).
 */
import type { Kernels } from '../../src/kernel/types.js';
import { type Arena, faultIn } from '../lib/arena.js';
import type { CaseSpec } from '../lib/tinybench.js';
import { MiB, sizeLabel } from '../lib/units.js';

export const ZERO_GROUP = 'zero test';
const PAGE_BYTES = 4096;
const REGION_BYTES = 64 * MiB;
const PAGES = REGION_BYTES / PAGE_BYTES;
export const ZERO_VARIANT = `${PAGES.toLocaleString('en-US')} all-zero pages of 4 KiB (${sizeLabel(REGION_BYTES)})`;

export interface ZeroSetup {
  pagesPtr: number;
  copyPtr: number;
}

export function reserveZero(arena: Arena): ZeroSetup {
  return {
    pagesPtr: arena.reserve('zero pages', REGION_BYTES),
    copyPtr: arena.reserve('memcpy destination', REGION_BYTES),
  };
}

export function zeroCases(s: ZeroSetup, memory: WebAssembly.Memory, wasm: Kernels, ts: Kernels): CaseSpec[] {
  const pages = new Uint8Array(memory.buffer, s.pagesPtr, REGION_BYTES);
  const copy = new Uint8Array(memory.buffer, s.copyPtr, REGION_BYTES);
  faultIn(pages);
  faultIn(copy, 1);
  const task = (k: Kernels) => (): void => {
    let zero = 0;
    for (let p = 0, ptr = s.pagesPtr; p < PAGES; p++, ptr += PAGE_BYTES) zero += k.isZero(ptr, PAGE_BYTES);
    if (zero !== PAGES) throw new Error(`zero test found ${zero} zero pages of ${PAGES}`);
  };
  const memcpy = (): void => {
    copy.set(pages);
    // Consumed: a byte of the copy is read back (the whole copy is one call the JIT cannot drop).
    if (copy[REGION_BYTES - 1] !== 0) throw new Error('memcpy of zero pages copied a non-zero byte');
  };
  return [
    {
      group: ZERO_GROUP,
      variant: ZERO_VARIANT,
      bytesPerOp: REGION_BYTES,
      tasks: [
        { implementation: 'wasm', fn: task(wasm) },
        { implementation: 'ts-reference', fn: task(ts) },
        { implementation: 'memcpy', fn: memcpy },
      ],
    },
  ];
}
