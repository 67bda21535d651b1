/**
 * Zero-page detection (what QEMU's buffer_is_zero does for zero-page elision). The body reads 128
 * bytes per iteration, OR-ing eight v128 loads into one test, so it runs at memory bandwidth; the
 * unaligned head and tail are covered by one overlapping v128 load each instead of byte loops.
 * Lengths are counted down rather than compared with an end pointer, which would wrap to 0 for a
 * region that ends at the top of a 4 GiB memory.
 */

/** 1 if the `len` bytes at ptr are all zero, else 0. Any alignment, any length. */
export function isZero(ptr: usize, len: usize): i32 {
  if (len < 16) {
    if (len >= 8) return i32((load<u64>(ptr) | load<u64>(ptr + len - 8)) == 0);
    if (len >= 4) return i32((load<u32>(ptr) | load<u32>(ptr + len - 4)) == 0);
    let acc: u32 = 0;
    for (let i: usize = 0; i < len; i++) acc |= load<u8>(ptr + i);
    return i32(acc == 0);
  }
  // Head and tail, unaligned and possibly overlapping the body: checked once up front.
  if (v128.any_true(v128.or(v128.load(ptr), v128.load(ptr + len - 16)))) return 0;
  let p = (ptr + 15) & ~(<usize>15);
  let left = len - (p - ptr);
  while (left >= 128) {
    let a = v128.or(v128.or(v128.load(p), v128.load(p, 16)), v128.or(v128.load(p, 32), v128.load(p, 48)));
    let b = v128.or(v128.or(v128.load(p, 64), v128.load(p, 80)), v128.or(v128.load(p, 96), v128.load(p, 112)));
    if (v128.any_true(v128.or(a, b))) return 0;
    p += 128;
    left -= 128;
  }
  while (left >= 16) {
    if (v128.any_true(v128.load(p))) return 0;
    p += 16;
    left -= 16;
  }
  return 1;
}
