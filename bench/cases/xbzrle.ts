/**
 * XBZRLE encode and decode (QEMU migration/xbzrle.c) of 4,096 page pairs of 4 KiB (16 MiB of old
 * versions, as in the xbzrle cache, and 16 MiB of new ones, as in guest memory) with 1 % and 30 % of
 * bytes changed to a different value, over random old content, spread two ways (seeded):
 *   8-byte writes   writes of 8 bytes at random offsets, as the emulated vCPUs make them (the
 *                   default --write-size), until the share of changed bytes is reached;
 *   scattered bytes each byte changed independently: the worst spread for a given count, every
 *                   change opening a run of its own.
 * Encode writes into one reused page-sized scratch buffer with the codec's cap (page size - 1), as
 * XbzrleCodec does; decode applies each page's delta to a copy of the old versions (idempotent, so
 * every call does the same work). GB/s counts page bytes. memcpy reference: the 16 MiB of new
 * pages, one `set`.
 */
import type { Kernels } from '../../src/kernel/types.js';
import { Xorshift128 } from '../../src/util/prng.js';
import { type Arena, faultIn } from '../lib/arena.js';
import type { CaseSpec } from '../lib/tinybench.js';

export const XBZRLE_ENCODE_GROUP = 'xbzrle encode';
export const XBZRLE_DECODE_GROUP = 'xbzrle decode';
export const XBZRLE_CHANGED_PERCENT = [1, 30] as const;
export type ChangeSpread = '8-byte writes' | 'scattered bytes';
export const XBZRLE_SPREADS: readonly ChangeSpread[] = ['8-byte writes', 'scattered bytes'];
const WRITE_BYTES = 8;
const VARIANTS = XBZRLE_CHANGED_PERCENT.flatMap((changedPercent) =>
  XBZRLE_SPREADS.map((spread) => ({ changedPercent, spread })),
);
const PAGE_BYTES = 4096;
const PAGES = 4096;
const REGION_BYTES = PAGES * PAGE_BYTES;
const CAP_BYTES = PAGE_BYTES - 1;

export function xbzrleVariant(changedPercent: number, spread: ChangeSpread): string {
  return `${PAGES.toLocaleString('en-US')} pages of 4 KiB, ${changedPercent} % of bytes changed, ${spread}`;
}

/** Changes `changedPercent` of the bytes of every page of `pages` (a copy of the old versions). */
function change(pages: Uint8Array, changedPercent: number, spread: ChangeSpread, seed: number): void {
  const rng = new Xorshift128(seed);
  if (spread === 'scattered bytes') {
    const threshold = Math.round((changedPercent / 100) * 2 ** 32);
    for (let i = 0; i < pages.length; i++) if (rng.nextU32() < threshold) pages[i] ^= 1 + rng.below(255);
    return;
  }
  const wanted = Math.round((changedPercent / 100) * PAGE_BYTES);
  const changed = new Uint8Array(PAGE_BYTES);
  for (let at = 0; at < pages.length; at += PAGE_BYTES) {
    changed.fill(0);
    for (let n = 0; n < wanted;) {
      const off = rng.below(PAGE_BYTES - WRITE_BYTES + 1);
      for (let k = off; k < off + WRITE_BYTES && n < wanted; k++) {
        // A byte written twice keeps its first change: the second write would only re-change it.
        if (changed[k] === 0) {
          changed[k] = 1;
          pages[at + k] ^= 1 + rng.below(255);
          n++;
        }
      }
    }
  }
}

interface VariantRegions {
  newPtr: number;
  targetPtr: number;
  /** Deltas of every page, back to back, for decode. */
  deltasPtr: number;
}

export interface XbzrleSetup {
  oldPtr: number;
  scratchPtr: number;
  variants: VariantRegions[];
}

export function reserveXbzrle(arena: Arena): XbzrleSetup {
  return {
    oldPtr: arena.reserve('old pages', REGION_BYTES),
    scratchPtr: arena.reserve('encode scratch', PAGE_BYTES),
    variants: VARIANTS.map((v) => ({
      newPtr: arena.reserve(`new pages, ${v.changedPercent} %, ${v.spread}`, REGION_BYTES),
      targetPtr: arena.reserve(`decode target, ${v.changedPercent} %, ${v.spread}`, REGION_BYTES),
      deltasPtr: arena.reserve(`deltas, ${v.changedPercent} %, ${v.spread}`, REGION_BYTES),
    })),
  };
}

export function xbzrleCases(s: XbzrleSetup, memory: WebAssembly.Memory, wasm: Kernels, ts: Kernels): CaseSpec[] {
  const u8 = new Uint8Array(memory.buffer);
  const view = (ptr: number): Uint8Array => u8.subarray(ptr, ptr + REGION_BYTES);
  const oldPages = view(s.oldPtr);
  faultIn(u8.subarray(s.scratchPtr, s.scratchPtr + PAGE_BYTES));
  const rng = new Xorshift128(0x2b2e);
  const words = new Uint32Array(memory.buffer, s.oldPtr, REGION_BYTES / 4);
  for (let i = 0; i < words.length; i++) words[i] = rng.nextU32();

  const cases: CaseSpec[] = [];
  VARIANTS.forEach(({ changedPercent, spread }, v) => {
    const r = s.variants[v];
    const newPages = view(r.newPtr);
    const target = view(r.targetPtr);
    faultIn(view(r.deltasPtr));
    newPages.set(oldPages);
    change(newPages, changedPercent, spread, 0xc4a9 + v);
    // The deltas decode applies, by the wasm kernel; a page that overflows has none (stays old).
    const deltaAt = new Int32Array(PAGES + 1);
    let encodedBytes = 0;
    let overflows = 0;
    for (let p = 0; p < PAGES; p++) {
      deltaAt[p] = encodedBytes;
      const n = wasm.xbzrleEncode(
        s.oldPtr + p * PAGE_BYTES,
        r.newPtr + p * PAGE_BYTES,
        PAGE_BYTES,
        r.deltasPtr + encodedBytes,
        CAP_BYTES,
      );
      if (n < 0) overflows++;
      else encodedBytes += n;
    }
    deltaAt[PAGES] = encodedBytes;

    const encodeAll = (k: Kernels) => (): void => {
      let total = 0;
      let over = 0;
      for (let p = 0; p < PAGES; p++) {
        const n = k.xbzrleEncode(
          s.oldPtr + p * PAGE_BYTES,
          r.newPtr + p * PAGE_BYTES,
          PAGE_BYTES,
          s.scratchPtr,
          CAP_BYTES,
        );
        if (n < 0) over++;
        else total += n;
      }
      if (total !== encodedBytes || over !== overflows) {
        throw new Error(`xbzrle encoded ${total} bytes (${over} overflows), expected ${encodedBytes} (${overflows})`);
      }
    };
    let expectedEnd = -1;
    const decodeAll = (k: Kernels) => (): void => {
      let ends = 0;
      for (let p = 0; p < PAGES; p++) {
        const end = k.xbzrleDecode(
          r.deltasPtr + deltaAt[p],
          deltaAt[p + 1] - deltaAt[p],
          r.targetPtr + p * PAGE_BYTES,
          PAGE_BYTES,
        );
        if (end < 0) throw new Error(`xbzrle decode of page ${p} failed with ${end}`);
        ends += end;
      }
      if (expectedEnd >= 0 && ends !== expectedEnd)
        throw new Error(`xbzrle decode ended at ${ends} in all, expected ${expectedEnd}`);
      expectedEnd = ends;
    };
    // Decoding onto the old versions must give the new ones, for every page that did not overflow.
    target.set(oldPages);
    decodeAll(wasm)();
    for (let p = 0; p < PAGES; p++) {
      const at = p * PAGE_BYTES;
      if (
        deltaAt[p + 1] > deltaAt[p] &&
        Buffer.compare(target.subarray(at, at + PAGE_BYTES), newPages.subarray(at, at + PAGE_BYTES)) !== 0
      ) {
        throw new Error(`xbzrle decode did not rebuild page ${p}`);
      }
    }
    const memcpy = (): void => {
      target.set(newPages);
      if (target[REGION_BYTES - 1] !== newPages[REGION_BYTES - 1]) throw new Error('memcpy reference did not copy');
    };
    const variant =
      `${xbzrleVariant(changedPercent, spread)} (delta ${((100 * encodedBytes) / REGION_BYTES).toFixed(1)} % of page bytes` +
      `${overflows > 0 ? `, ${overflows} pages overflow` : ''})`;
    cases.push({
      group: XBZRLE_ENCODE_GROUP,
      variant,
      bytesPerOp: REGION_BYTES,
      tasks: [
        { implementation: 'wasm', fn: encodeAll(wasm) },
        { implementation: 'ts-reference', fn: encodeAll(ts) },
        { implementation: 'memcpy', fn: memcpy },
      ],
    });
    cases.push({
      group: XBZRLE_DECODE_GROUP,
      variant,
      bytesPerOp: REGION_BYTES,
      tasks: [
        { implementation: 'wasm', fn: decodeAll(wasm) },
        { implementation: 'ts-reference', fn: decodeAll(ts) },
        { implementation: 'memcpy', fn: memcpy },
      ],
    });
  });
  return cases;
}
