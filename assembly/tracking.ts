/**
 * Kernels for the dirty-tracking strategies beyond the plain bitmap: the two-level scan (a summary
 * bit per bitmap word lets a scan skip clean regions without reading them) and the resend meter
 * (which sent pages had not changed since their last send).
 */
import { nonZeroWords16 } from './simd';
import { hash64 } from './hash';

/**
 * Two-level scan-and-clear. Summary bit w (bit w & 63 of summary word w >> 6) says bitmap word w
 * may be dirty. Writers set the page bit first and the summary bit after; this clears a summary
 * word (atomic exchange) before it exchanges the bitmap words under it, so a page bit set at any
 * moment is either emitted now or still flagged for the next scan. Emits ascending page numbers
 * as u32 at outPtr; returns the count, or -1 (touching nothing) when outCapPages < bitmapWords * 64.
 */
export function scanAndClearTwoLevel(summaryPtr: usize, bitmapPtr: usize, bitmapWords: u32, outPtr: usize, outCapPages: u32): i32 {
  if (<u64>outCapPages < (<u64>bitmapWords << 6)) return -1;
  let summaryWords = (bitmapWords + 63) >> 6;
  let out = outPtr;
  let s: u32 = 0;
  for (; s + 16 <= summaryWords; s += 16) {
    let sp = summaryPtr + (<usize>s << 3);
    for (let mask = nonZeroWords16(sp); mask; mask &= mask - 1) {
      let j = <u32>ctz(mask);
      out = drainSummaryWord(sp + (<usize>j << 3), s + j, bitmapPtr, bitmapWords, out);
    }
  }
  for (; s < summaryWords; s++) {
    let sp = summaryPtr + (<usize>s << 3);
    if (load<u64>(sp) != 0) out = drainSummaryWord(sp, s, bitmapPtr, bitmapWords, out);
  }
  return <i32>((out - outPtr) >> 2);
}

// @ts-ignore: decorator
@inline function drainSummaryWord(sp: usize, s: u32, bitmapPtr: usize, bitmapWords: u32, out: usize): usize {
  let flags = atomic.xchg<u64>(sp, 0);
  while (flags) {
    let w = (s << 6) + <u32>ctz<u64>(flags);
    flags &= flags - 1;
    if (w >= bitmapWords) break; // bits past the bitmap are never set by writers
    let wp = bitmapPtr + (<usize>w << 3);
    if (load<u64>(wp) == 0) continue;
    let word = atomic.xchg<u64>(wp, 0);
    let page = w << 6;
    while (word) {
      store<u32>(out, page + <u32>ctz<u64>(word));
      out += 4;
      word &= word - 1;
    }
  }
  return out;
}

/**
 * The resend meter: for each of `count` slot-local page numbers at listPtr, hashes the page (XXH64,
 * seed 0), compares with the hash stored for it at hashesPtr (u64 per page) when it was last sent,
 * stores the new hash, and returns how many pages were unchanged: sent again for nothing.
 */
export function countUnchanged(pagesPtr: usize, pageSizeBytes: u32, listPtr: usize, count: u32, hashesPtr: usize): i32 {
  let same: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    let page = <usize>load<u32>(listPtr + (<usize>i << 2));
    let h = hash64(pagesPtr + page * <usize>pageSizeBytes, pageSizeBytes, 0);
    let hp = hashesPtr + (page << 3);
    if (load<u64>(hp) == h) same++;
    store<u64>(hp, h);
  }
  return <i32>same;
}
