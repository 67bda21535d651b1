/**
 * LZ4 (lz4-wasm-nodejs, the library the lz4 codec uses) page by page over mixed content: the
 * driver's default initial content, 25 % zero, 40 % text-like and 35 % random pages of 4 KiB,
 * 16,384 pages = 64 MiB (beyond L3). It has no TypeScript reference; memcpy of the same 64 MiB
 * (one `TypedArray.prototype.set`) is the physical one. GB/s counts uncompressed bytes, in for
 * compress and out for decompress. The library allocates its output on every call: that is part of
 * what a codec built on it pays.
 */
import { compress, decompress } from 'lz4-wasm-nodejs';
import { DEFAULT_RUN_CONFIG } from '../../src/config/options.js';
import { fillInitialContent } from '../../src/memory/content.js';
import { type Arena, faultIn } from '../lib/arena.js';
import type { CaseSpec } from '../lib/tinybench.js';
import { MiB } from '../lib/units.js';

export const LZ4_COMPRESS_GROUP = 'lz4 compress';
export const LZ4_DECOMPRESS_GROUP = 'lz4 decompress';
const PAGE_BYTES = 4096;
const REGION_BYTES = 64 * MiB;
const PAGES = REGION_BYTES / PAGE_BYTES;

export interface Lz4Setup {
  pagesPtr: number;
  copyPtr: number;
}

export function reserveLz4(arena: Arena): Lz4Setup {
  return {
    pagesPtr: arena.reserve('mixed pages', REGION_BYTES),
    copyPtr: arena.reserve('memcpy destination', REGION_BYTES),
  };
}

export function lz4Cases(s: Lz4Setup, memory: WebAssembly.Memory): CaseSpec[] {
  const region = new Uint8Array(memory.buffer, s.pagesPtr, REGION_BYTES);
  const copy = new Uint8Array(memory.buffer, s.copyPtr, REGION_BYTES);
  const mix = DEFAULT_RUN_CONFIG.content;
  fillInitialContent(region, 0, PAGES, PAGE_BYTES, 1, mix);
  faultIn(copy, 1);
  const pages: Uint8Array[] = [];
  for (let p = 0; p < PAGES; p++) pages.push(region.subarray(p * PAGE_BYTES, (p + 1) * PAGE_BYTES));
  const compressed = pages.map((p) => compress(p));
  const compressedBytes = compressed.reduce((n, c) => n + c.length, 0);
  const variant =
    `${PAGES.toLocaleString('en-US')} pages of 4 KiB, ${mix.zeroPercent}/${mix.textPercent}/${mix.randomPercent} % ` +
    `zero/text/random (compressed to ${((100 * compressedBytes) / REGION_BYTES).toFixed(0)} %)`;

  const compressAll = (): void => {
    let out = 0;
    for (let p = 0; p < PAGES; p++) out += compress(pages[p]).length;
    if (out !== compressedBytes) throw new Error(`lz4 compressed to ${out} bytes, expected ${compressedBytes}`);
  };
  const decompressAll = (): void => {
    let out = 0;
    for (let p = 0; p < PAGES; p++) out += decompress(compressed[p]).length;
    if (out !== REGION_BYTES) throw new Error(`lz4 decompressed to ${out} bytes, expected ${REGION_BYTES}`);
  };
  const memcpy = (): void => {
    copy.set(region);
    if (copy[REGION_BYTES - 1] !== region[REGION_BYTES - 1]) throw new Error('memcpy reference did not copy');
  };
  return [
    {
      group: LZ4_COMPRESS_GROUP,
      variant,
      bytesPerOp: REGION_BYTES,
      tasks: [
        { implementation: 'lz4-wasm-nodejs', fn: compressAll },
        { implementation: 'memcpy', fn: memcpy },
      ],
    },
    {
      group: LZ4_DECOMPRESS_GROUP,
      variant,
      bytesPerOp: REGION_BYTES,
      tasks: [
        { implementation: 'lz4-wasm-nodejs', fn: decompressAll },
        { implementation: 'memcpy', fn: memcpy },
      ],
    },
  ];
}
