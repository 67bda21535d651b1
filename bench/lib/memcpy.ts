/**
 * The machine's memcpy as the end-to-end benchmark's physical reference: `TypedArray.prototype.set`
 * from one shared wasm memory into another (guest memories are such memories), warm: the first
 * copy faults the destination in and is not timed, since a copy into fresh memory pays a page fault
 * per 4 KiB and would understate the machine. The copy lands 64 KiB into the destination: V8
 * places wasm memories a multiple of 256 MiB apart, and a copy between addresses equal modulo
 * 256 MiB runs at half speed here (TARGET_PAGES_OFFSET_BYTES in src/memory/layout.ts), which would
 * understate it as well.
 */
import { gbPerSec } from './units.js';
import { TARGET_PAGES_OFFSET_BYTES } from '../../src/memory/layout.js';

export interface MemcpyMeasure {
  bytesPerRepeat: number;
  chunkBytes: number;
  repeats: number;
  medianMs: number;
  gbPerSec: number;
}

/** Copies `totalBytes` as `totalBytes / chunkBytes` copies of one chunk-sized buffer into another. */
export function measureMemcpy(totalBytes: number, chunkBytes: number, repeats: number): MemcpyMeasure {
  const pages = chunkBytes / 65536;
  const skew = TARGET_PAGES_OFFSET_BYTES / 65536;
  const src = new Uint8Array(new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }).buffer);
  const dst = new Uint8Array(
    new WebAssembly.Memory({ initial: pages + skew, maximum: pages + skew, shared: true }).buffer,
  ).subarray(TARGET_PAGES_OFFSET_BYTES);
  for (let i = 0; i < src.length; i += 4096) src[i] = ((i >>> 12) & 0xff) | 1;
  const copies = Math.ceil(totalBytes / chunkBytes);
  dst.set(src); // faults the destination in
  const times: number[] = [];
  let sink = 0;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    for (let c = 0; c < copies; c++) dst.set(src);
    times.push(performance.now() - t0);
    sink += dst[(r * 4096) % dst.length];
  }
  if (sink === 0) throw new Error('memcpy reference did not copy');
  times.sort((a, b) => a - b);
  const medianMs = times[times.length >> 1];
  return {
    bytesPerRepeat: copies * chunkBytes,
    chunkBytes,
    repeats,
    medianMs,
    gbPerSec: gbPerSec(copies * chunkBytes, medianMs),
  };
}
