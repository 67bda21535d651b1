/**
 * XXH64, the 64-bit xxHash by Yann Collet (https://github.com/Cyan4973/xxHash, doc/xxhash_spec.md):
 * frame checksums and page fingerprints. Constants are inline literals so the module carries no
 * static data; lanes are read with unaligned little-endian loads, as the spec reads them.
 */

// @ts-ignore: decorator
@inline const PRIME64_1: u64 = 0x9E3779B185EBCA87;
// @ts-ignore: decorator
@inline const PRIME64_2: u64 = 0xC2B2AE3D27D4EB4F;
// @ts-ignore: decorator
@inline const PRIME64_3: u64 = 0x165667B19E3779F9;
// @ts-ignore: decorator
@inline const PRIME64_4: u64 = 0x85EBCA77C2B2AE63;
// @ts-ignore: decorator
@inline const PRIME64_5: u64 = 0x27D4EB2F165667C5;

// @ts-ignore: decorator
@inline function round(acc: u64, lane: u64): u64 {
  return rotl<u64>(acc + lane * PRIME64_2, 31) * PRIME64_1;
}

// @ts-ignore: decorator
@inline function mergeRound(acc: u64, v: u64): u64 {
  return (acc ^ round(0, v)) * PRIME64_1 + PRIME64_4;
}

/** XXH64 of `len` bytes at ptr with the given seed. */
export function hash64(ptr: usize, len: usize, seed: u64): u64 {
  let p = ptr;
  let left = len;
  let h: u64;
  if (left >= 32) {
    let v1 = seed + PRIME64_1 + PRIME64_2;
    let v2 = seed + PRIME64_2;
    let v3 = seed;
    let v4 = seed - PRIME64_1;
    do {
      v1 = round(v1, load<u64>(p));
      v2 = round(v2, load<u64>(p, 8));
      v3 = round(v3, load<u64>(p, 16));
      v4 = round(v4, load<u64>(p, 24));
      p += 32;
      left -= 32;
    } while (left >= 32);
    h = rotl<u64>(v1, 1) + rotl<u64>(v2, 7) + rotl<u64>(v3, 12) + rotl<u64>(v4, 18);
    h = mergeRound(h, v1);
    h = mergeRound(h, v2);
    h = mergeRound(h, v3);
    h = mergeRound(h, v4);
  } else {
    h = seed + PRIME64_5;
  }
  h += <u64>len;
  while (left >= 8) {
    h ^= round(0, load<u64>(p));
    h = rotl<u64>(h, 27) * PRIME64_1 + PRIME64_4;
    p += 8;
    left -= 8;
  }
  if (left >= 4) {
    h ^= <u64>load<u32>(p) * PRIME64_1;
    h = rotl<u64>(h, 23) * PRIME64_2 + PRIME64_3;
    p += 4;
    left -= 4;
  }
  while (left) {
    h ^= <u64>load<u8>(p) * PRIME64_5;
    h = rotl<u64>(h, 11) * PRIME64_1;
    p++;
    left--;
  }
  h ^= h >> 33;
  h *= PRIME64_2;
  h ^= h >> 29;
  h *= PRIME64_3;
  h ^= h >> 32;
  return h;
}

/** XXH64 (seed 0) of each of `count` consecutive pages at pagesPtr, as u64 at outPtr. */
export function hashPages(pagesPtr: usize, pageSizeBytes: u32, count: u32, outPtr: usize): void {
  let size = <usize>pageSizeBytes;
  for (let i: usize = 0; i < <usize>count; i++) {
    store<u64>(outPtr + (i << 3), hash64(pagesPtr + i * size, size, 0));
  }
}
