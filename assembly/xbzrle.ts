/**
 * XBZRLE, Xor-Based Zero Run Length Encoding, as QEMU's migration/xbzrle.c defines it: the delta
 * from the cached old version of a page to the new one, as a sequence of records
 *   zero-run length (ULEB128), non-zero-run length (ULEB128), the non-zero run's new bytes
 * where a zero run is bytes equal in both versions (their XOR is zero). The trailing zero run is
 * not encoded, so an unchanged page encodes to nothing. Only the first record's zero run may be
 * empty; no non-zero run is. Lengths are ULEB128 of any size up to 5 bytes (QEMU's encoder writes
 * at most 2, for its 4 KiB pages).
 *
 * The encoder skips equal stretches 64 bytes per test (XOR, OR, any_true); a block with a
 * difference becomes a 64-bit equality mask (four i8x16.eq and bitmask) whose run boundaries (mask
 * XOR mask shifted by a byte) are visited with ctz and clear-lowest-bit, so a block costs one pass
 * however many runs it holds. A short non-zero run is copied with one v128 store where the output
 * has room (the LZ4 "wild copy"): the bytes past the run are overwritten by the next record or lie
 * past the result. Measured on 4 KiB pages against a port of QEMU's u64-word loop: 3.7x faster
 * unchanged, 2.4x at 1 % of bytes changed, 4x at 30 %. The decoder is scalar: it follows a chain
 * of lengths, where SIMD has nothing to compare; it writes only the bytes of the runs.
 */

/** ULEB128 bytes of v. */
// @ts-ignore: decorator
@inline function varintBytes(v: usize): usize {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x20_0000 ? 3 : v < 0x1000_0000 ? 4 : 5;
}

/** Writes v as ULEB128 at p; returns the byte after it. */
// @ts-ignore: decorator
@inline function putVarint(p: usize, v: usize): usize {
  while (v >= 0x80) {
    store<u8>(p, <u8>(v | 0x80));
    v >>= 7;
    p++;
  }
  store<u8>(p, <u8>v);
  return p + 1;
}

/** Bit i set when byte i of the 64 at a equals byte i of the 64 at b (any alignment). */
// @ts-ignore: decorator
@inline function equalMask64(a: usize, b: usize): u64 {
  let m0 = <u64><u32>i8x16.bitmask(i8x16.eq(v128.load(a), v128.load(b)));
  let m1 = <u64><u32>i8x16.bitmask(i8x16.eq(v128.load(a, 16), v128.load(b, 16)));
  let m2 = <u64><u32>i8x16.bitmask(i8x16.eq(v128.load(a, 32), v128.load(b, 32)));
  let m3 = <u64><u32>i8x16.bitmask(i8x16.eq(v128.load(a, 48), v128.load(b, 48)));
  return m0 | (m1 << 16) | (m2 << 32) | (m3 << 48);
}

/** Returned by emit() when the record does not fit; no real output offset comes near it. */
const OVERFLOW: usize = <usize>-1;

/**
 * Writes the record for the zero run [zStart, nzStart) and the non-zero run [nzStart, end) at
 * outPtr + d; returns the new output length, or OVERFLOW (writing nothing) when it would pass cap.
 */
// @ts-ignore: decorator
@inline function emit(newPtr: usize, len: usize, outPtr: usize, cap: usize, d: usize, zStart: usize, nzStart: usize, end: usize): usize {
  let z = nzStart - zStart;
  let nz = end - nzStart;
  let need = varintBytes(z) + varintBytes(nz) + nz;
  if (<u64>d + <u64>need > <u64>cap) return OVERFLOW;
  let p = putVarint(putVarint(outPtr + d, z), nz);
  if (nz <= 16 && nzStart + 16 <= len && p - outPtr + 16 <= cap) {
    v128.store(p, v128.load(newPtr + nzStart));
  } else {
    memory.copy(p, newPtr + nzStart, nz);
  }
  return p - outPtr + nz;
}

/**
 * Encodes the delta from the `len` bytes at oldPtr to those at newPtr into outPtr. Returns the
 * bytes of the encoding (0 when the pages are equal), or -1 when it is longer than outCap. Never
 * writes at or past outPtr + outCap; bytes past the returned length may be overwritten.
 */
export function xbzrleEncode(oldPtr: usize, newPtr: usize, len: u32, outPtr: usize, outCap: u32): i32 {
  let n = <usize>len;
  let cap = <usize>outCap;
  let d: usize = 0;
  let zStart: usize = 0; // where the current zero run began
  let nzStart: usize = 0; // where the current non-zero run began, while inNz
  let inNz = false;
  let b: usize = 0;
  while (b < n) {
    let base: usize;
    let m: u64;
    let done: u64 = 0; // bits of this block already handled
    if (!inNz) {
      // In a zero run, skip equal 64-byte blocks with a cheaper test than the mask.
      while (n - b >= 64) {
        let o = oldPtr + b;
        let w = newPtr + b;
        let x = v128.or(
          v128.or(v128.xor(v128.load(o), v128.load(w)), v128.xor(v128.load(o, 16), v128.load(w, 16))),
          v128.or(v128.xor(v128.load(o, 32), v128.load(w, 32)), v128.xor(v128.load(o, 48), v128.load(w, 48))),
        );
        if (v128.any_true(x)) break;
        b += 64;
      }
      if (b == n) break;
    }
    if (n - b >= 64) {
      base = b;
      m = equalMask64(oldPtr + b, newPtr + b);
      b += 64;
    } else if (n >= 64) {
      // The last partial block, as an overlapping one whose first bytes are done already.
      base = n - 64;
      m = equalMask64(oldPtr + base, newPtr + base);
      done = (<u64>1 << <u64>(b - base)) - 1;
      b = n;
    } else {
      // A page shorter than one block. Bytes past its end count as equal, so a non-zero run
      // reaching the end closes there.
      base = 0;
      m = <u64>-1;
      for (let i: usize = 0; i < n; i++) {
        if (load<u8>(oldPtr + i) != load<u8>(newPtr + i)) m ^= <u64>1 << <u64>i;
      }
      b = n;
    }
    // Run boundaries: bit i set where byte i's equality differs from byte i - 1's (for bit 0, from
    // the state carried in: the byte before was equal unless a non-zero run is open). A block
    // that only continues the current run has none, the common case at low change rates.
    let bounds = (m ^ ((m << 1) | <u64>(inNz ? 0 : 1))) & ~done;
    while (bounds != 0) {
      let at = base + <usize>ctz(bounds);
      bounds &= bounds - 1;
      if (inNz) {
        d = emit(newPtr, n, outPtr, cap, d, zStart, nzStart, at);
        if (d == OVERFLOW) return -1;
        zStart = at;
      } else {
        nzStart = at;
      }
      inNz = !inNz;
    }
  }
  if (inNz) {
    d = emit(newPtr, n, outPtr, cap, d, zStart, nzStart, n);
    if (d == OVERFLOW) return -1;
  }
  return <i32>d;
}

/**
 * Reads a ULEB128 of at most 5 bytes from the `left` bytes at p. Returns (bytes << 40) | value,
 * or 0 when the input ends inside it or it runs past 5 bytes (no valid varint yields 0: it has at
 * least one byte). One-byte lengths, nearly all of them, take the inlined first test.
 */
// @ts-ignore: decorator
@inline function readVarint(p: usize, left: usize): u64 {
  if (left == 0) return 0;
  let b0 = <u64>load<u8>(p);
  return b0 < 0x80 ? (<u64>1 << 40) | b0 : readLongVarint(p, left);
}

// @ts-ignore: decorator
@inline function readLongVarint(p: usize, left: usize): u64 {
  let v: u64 = 0;
  for (let k: usize = 0; k < 5; k++) {
    if (k == left) return 0;
    let byte = <u64>load<u8>(p + k);
    v |= (byte & 0x7F) << (<u64>k * 7);
    if (byte < 0x80) return (<u64>(k + 1) << 40) | v;
  }
  return 0;
}

const VALUE_MASK: u64 = (<u64>1 << 40) - 1;

/**
 * Applies the delta of `inLen` bytes at inPtr to the `len`-byte page at targetPtr, which holds the
 * old version. Validates the whole input first and writes nothing unless it is well formed.
 * Returns the offset just past the last byte written (0 for an empty delta), as QEMU's decoder
 * does, or, touching nothing:
 *   -1 the input ends inside a length or a run's bytes, or a length is longer than 5 bytes;
 *   -2 a run reaches past the end of the page;
 *   -3 an empty run where none may be (a zero run after the first, any non-zero run), or a zero
 *      run with no non-zero run after it (trailing bytes).
 */
export function xbzrleDecode(inPtr: usize, inLen: u32, targetPtr: usize, len: u32): i32 {
  let end = <usize>inLen;
  let pageEnd = <u64>len;
  let i: usize = 0;
  let d: u64 = 0;
  while (i < end) {
    let first = i == 0;
    let r = readVarint(inPtr + i, end - i);
    if (r == 0) return -1;
    i += <usize>(r >> 40);
    let z = r & VALUE_MASK;
    if (z == 0 && !first) return -3;
    d += z;
    if (d > pageEnd) return -2;
    if (i == end) return -3;
    r = readVarint(inPtr + i, end - i);
    if (r == 0) return -1;
    i += <usize>(r >> 40);
    let nz = r & VALUE_MASK;
    if (nz == 0) return -3;
    if (d + nz > pageEnd) return -2;
    if (nz > <u64>(end - i)) return -1;
    i += <usize>nz;
    d += nz;
  }
  // Well formed: apply it.
  i = 0;
  let t: usize = 0;
  while (i < end) {
    let r = readVarint(inPtr + i, end - i);
    i += <usize>(r >> 40);
    t += <usize>(r & VALUE_MASK);
    r = readVarint(inPtr + i, end - i);
    i += <usize>(r >> 40);
    let nz = <usize>(r & VALUE_MASK);
    if (nz <= 8) {
      for (let k: usize = 0; k < nz; k++) store<u8>(targetPtr + t + k, load<u8>(inPtr + i + k));
    } else {
      memory.copy(targetPtr + t, inPtr + i, nz);
    }
    i += nz;
    t += nz;
  }
  return <i32>t;
}
