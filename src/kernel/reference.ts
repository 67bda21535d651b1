/**
 * The plain TypeScript kernels: the baseline the wasm kernels are tested and benchmarked against.
 * Written the way one would without wasm, not made slow on purpose: 32-bit words through an
 * Int32Array, Atomics where other threads write (the dirty bitmap), DataView for u32 fields at any
 * alignment, copyWithin (memmove) for page bytes, BigInt for XXH64.
 *
 * The bitmap's u64 words are handled as pairs of 32-bit words; the layout is little-endian, so the
 * bit of page p is bit (p & 31) of Int32 word (p >> 5) either way, and an atomic exchange of each
 * half loses no mark just as one 64-bit exchange does.
 */
import { CODEC_RAW, DESCRIPTOR_BYTES, type Kernels } from './types.js';

const MASK64 = 0xffff_ffff_ffff_ffffn;
const PRIME64_1 = 0x9e37_79b1_85eb_ca87n;
const PRIME64_2 = 0xc2b2_ae3d_27d4_eb4fn;
const PRIME64_3 = 0x1656_67b1_9e37_79f9n;
const PRIME64_4 = 0x85eb_ca77_c2b2_ae63n;
const PRIME64_5 = 0x27d4_eb2f_1656_67c5n;

const rotl64 = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & MASK64;
const xxhRound = (acc: bigint, lane: bigint): bigint =>
  (rotl64((acc + lane * PRIME64_2) & MASK64, 31n) * PRIME64_1) & MASK64;
const xxhMerge = (acc: bigint, v: bigint): bigint => ((acc ^ xxhRound(0n, v)) * PRIME64_1 + PRIME64_4) & MASK64;

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x5555_5555;
  x = (x & 0x3333_3333) + ((x >>> 2) & 0x3333_3333);
  x = (x + (x >>> 4)) & 0x0f0f_0f0f;
  return Math.imul(x, 0x0101_0101) >>> 24;
}

function checkBitmapAlignment(bitmapPtr: number): void {
  // The wasm kernels use 64-bit atomics, which trap when misaligned; keep both strict.
  if (bitmapPtr % 8 !== 0) throw new RangeError(`bitmapPtr must be 8-byte aligned, got ${bitmapPtr}`);
}

export class ReferenceKernels implements Kernels {
  private readonly memory: WebAssembly.Memory | null;
  private u8!: Uint8Array;
  private i32!: Int32Array;
  private view!: DataView;

  constructor(source: WebAssembly.Memory | ArrayBufferLike) {
    this.memory = source instanceof WebAssembly.Memory ? source : null;
    this.setViews(source instanceof WebAssembly.Memory ? source.buffer : source);
  }

  private setViews(buffer: ArrayBufferLike): void {
    this.u8 = new Uint8Array(buffer);
    this.i32 = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
    this.view = new DataView(buffer);
  }

  /**
   * Makes sure the views reach `endByte`: after memory.grow() the old views keep their old length,
   * so they are re-created from the current buffer. Past the end is an error, as it traps in wasm.
   */
  private reach(endByte: number): void {
    if (endByte <= this.u8.length) return;
    if (this.memory !== null) this.setViews(this.memory.buffer);
    if (endByte > this.u8.length)
      throw new RangeError(`kernel access up to byte ${endByte} is out of bounds (${this.u8.length})`);
  }

  markDirty(bitmapPtr: number, page: number): void {
    const index = (bitmapPtr >>> 2) + (page >>> 5);
    if (index >= this.i32.length || bitmapPtr % 8 !== 0) {
      checkBitmapAlignment(bitmapPtr);
      this.reach(index * 4 + 4);
    }
    Atomics.or(this.i32, index, 1 << (page & 31));
  }

  scanAndClear(bitmapPtr: number, firstWord: number, wordCount: number, outPtr: number, outCapPages: number): number {
    return this.scan(bitmapPtr, firstWord, wordCount, outPtr, outCapPages, true);
  }

  collectDirty(bitmapPtr: number, firstWord: number, wordCount: number, outPtr: number, outCapPages: number): number {
    return this.scan(bitmapPtr, firstWord, wordCount, outPtr, outCapPages, false);
  }

  private scan(
    bitmapPtr: number,
    firstWord: number,
    wordCount: number,
    outPtr: number,
    outCapPages: number,
    clear: boolean,
  ): number {
    if (outCapPages < wordCount * 64) return -1;
    checkBitmapAlignment(bitmapPtr);
    this.reach(bitmapPtr + (firstWord + wordCount) * 8);
    this.reach(outPtr + wordCount * 64 * 4);
    const i32 = this.i32;
    const view = this.view;
    const end = (bitmapPtr >>> 2) + (firstWord + wordCount) * 2;
    let out = outPtr;
    let page = firstWord * 64;
    for (let w = (bitmapPtr >>> 2) + firstWord * 2; w < end; w++, page += 32) {
      if (i32[w] === 0) continue;
      let bits = clear ? Atomics.exchange(i32, w, 0) : i32[w];
      while (bits !== 0) {
        const lowest = bits & -bits;
        view.setUint32(out, page + 31 - Math.clz32(lowest), true);
        out += 4;
        bits ^= lowest;
      }
    }
    return (out - outPtr) / 4;
  }

  clearPages(bitmapPtr: number, listPtr: number, count: number): number {
    checkBitmapAlignment(bitmapPtr);
    this.reach(listPtr + count * 4);
    const view = this.view;
    const base = bitmapPtr >>> 2;
    let cleared = 0;
    for (let i = 0; i < count; i++) {
      const page = view.getUint32(listPtr + i * 4, true);
      this.reach(bitmapPtr + (page >>> 5) * 4 + 4);
      const bit = 1 << (page & 31);
      if ((Atomics.and(this.i32, base + (page >>> 5), ~bit) & bit) !== 0) cleared++;
    }
    return cleared;
  }

  scanAndClearTwoLevel(
    summaryPtr: number,
    bitmapPtr: number,
    bitmapWords: number,
    outPtr: number,
    outCapPages: number,
  ): number {
    if (outCapPages < bitmapWords * 64) return -1;
    checkBitmapAlignment(summaryPtr);
    checkBitmapAlignment(bitmapPtr);
    const summaryWords = Math.ceil(bitmapWords / 64);
    this.reach(summaryPtr + summaryWords * 8);
    this.reach(bitmapPtr + bitmapWords * 8);
    this.reach(outPtr + bitmapWords * 64 * 4);
    const i32 = this.i32;
    let out = outPtr;
    // Summary word halves in order: half h of summary word s flags bitmap words s*64 + h*32 + k.
    for (let half = 0; half < summaryWords * 2; half++) {
      const si = (summaryPtr >>> 2) + half;
      if (i32[si] === 0) continue;
      let flags = Atomics.exchange(i32, si, 0);
      while (flags !== 0) {
        const lowest = flags & -flags;
        flags ^= lowest;
        const w = half * 32 + 31 - Math.clz32(lowest);
        if (w >= bitmapWords) break;
        // Both 32-bit halves of bitmap word w, low first, so pages come out ascending.
        for (let h = 0; h < 2; h++) {
          const bi = (bitmapPtr >>> 2) + w * 2 + h;
          if (i32[bi] === 0) continue;
          let bits = Atomics.exchange(i32, bi, 0);
          const page = w * 64 + h * 32;
          while (bits !== 0) {
            const low = bits & -bits;
            this.view.setUint32(out, page + 31 - Math.clz32(low), true);
            out += 4;
            bits ^= low;
          }
        }
      }
    }
    return (out - outPtr) / 4;
  }

  countUnchanged(pagesPtr: number, pageSizeBytes: number, listPtr: number, count: number, hashesPtr: number): number {
    this.reach(listPtr + count * 4);
    let same = 0;
    for (let i = 0; i < count; i++) {
      const page = this.view.getUint32(listPtr + i * 4, true);
      this.reach(hashesPtr + page * 8 + 8);
      const h = this.hash64(pagesPtr + page * pageSizeBytes, pageSizeBytes, 0n);
      if (this.view.getBigUint64(hashesPtr + page * 8, true) === h) same++;
      this.view.setBigUint64(hashesPtr + page * 8, h, true);
    }
    return same;
  }

  countDirty(bitmapPtr: number, firstWord: number, wordCount: number): number {
    checkBitmapAlignment(bitmapPtr);
    this.reach(bitmapPtr + (firstWord + wordCount) * 8);
    const i32 = this.i32;
    const end = (bitmapPtr >>> 2) + (firstWord + wordCount) * 2;
    let n = 0;
    for (let w = (bitmapPtr >>> 2) + firstWord * 2; w < end; w++) {
      if (i32[w] !== 0) n += popcount32(i32[w]);
    }
    return n;
  }

  fillBytes(ptr: number, len: number, value: number): void {
    this.reach(ptr + len);
    this.u8.fill(value & 0xff, ptr, ptr + len);
  }

  fillXorshift32x4(
    p0: number,
    s0: number,
    p1: number,
    s1: number,
    p2: number,
    s2: number,
    p3: number,
    s3: number,
    len: number,
  ): void {
    for (const [ptr, seed] of [
      [p0, s0],
      [p1, s1],
      [p2, s2],
      [p3, s3],
    ]) {
      this.reach(ptr + len);
      let x = seed | 0;
      for (let at = ptr; at < ptr + len; at += 4) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        this.view.setUint32(at, x >>> 0, true);
      }
    }
  }

  copyBytes(dst: number, src: number, len: number): void {
    this.reach(Math.max(dst, src) + len);
    this.u8.copyWithin(dst, src, src + len);
  }

  isZero(ptr: number, len: number): number {
    this.reach(ptr + len);
    const u8 = this.u8;
    const end = ptr + len;
    let p = ptr;
    for (; p < end && p % 4 !== 0; p++) if (u8[p] !== 0) return 0;
    const wordsEnd = end - ((end - p) % 4);
    const i32 = this.i32;
    for (let w = p / 4; w < wordsEnd / 4; w++) if (i32[w] !== 0) return 0;
    for (p = wordsEnd; p < end; p++) if (u8[p] !== 0) return 0;
    return 1;
  }

  packPages(
    pagesPtr: number,
    pageSizeBytes: number,
    listPtr: number,
    count: number,
    pageBase: number,
    outPtr: number,
    outCapBytes: number,
  ): number {
    const total = count * (DESCRIPTOR_BYTES + pageSizeBytes);
    if (total > outCapBytes) return -1;
    this.reach(listPtr + count * 4);
    this.reach(outPtr + total);
    const view = this.view;
    const codecLength = ((CODEC_RAW << 24) | (pageSizeBytes & 0xff_ffff)) >>> 0;
    let data = outPtr + count * DESCRIPTOR_BYTES;
    for (let i = 0; i < count; i++) {
      const local = view.getUint32(listPtr + i * 4, true);
      const d = outPtr + i * DESCRIPTOR_BYTES;
      view.setUint32(d, (pageBase + local) >>> 0, true);
      view.setUint32(d + 4, codecLength, true);
      const src = pagesPtr + local * pageSizeBytes;
      this.reach(src + pageSizeBytes); // may re-create the views: use them through `this` below
      this.u8.copyWithin(data, src, src + pageSizeBytes);
      data += pageSizeBytes;
    }
    return total;
  }

  checkPages(
    ptr: number,
    bodyLenBytes: number,
    count: number,
    stride: number,
    pageBase: number,
    slotPageCount: number,
    rawPageBytes: number,
  ): number {
    if (count * (stride + rawPageBytes) > bodyLenBytes) return -3;
    this.reach(ptr + count * stride);
    const view = this.view;
    for (let i = 0; i < count; i++) {
      const d = ptr + i * stride;
      const page = view.getUint32(d, true);
      if (page < pageBase || page - pageBase >= slotPageCount) return -1;
      if (rawPageBytes !== 0) {
        const codecLength = view.getUint32(d + 4, true);
        if (codecLength >>> 24 !== CODEC_RAW || (codecLength & 0xff_ffff) !== rawPageBytes) return -2;
      }
    }
    return 0;
  }

  /**
   * Error precedence (the wasm kernel's too): -3 first, so no descriptor is read past the body;
   * then descriptors in order, each -1 (page range) before -2 (codec, length).
   */
  unpackPages(
    pagesPtr: number,
    pageSizeBytes: number,
    slotPageCount: number,
    pageBase: number,
    inPtr: number,
    inLenBytes: number,
    count: number,
  ): number {
    const checked = this.checkPages(inPtr, inLenBytes, count, DESCRIPTOR_BYTES, pageBase, slotPageCount, pageSizeBytes);
    if (checked < 0) return checked;
    let data = inPtr + count * DESCRIPTOR_BYTES;
    for (let i = 0; i < count; i++) {
      const dst = pagesPtr + (this.view.getUint32(inPtr + i * DESCRIPTOR_BYTES, true) - pageBase) * pageSizeBytes;
      this.reach(dst + pageSizeBytes); // may re-create the views: use them through `this`
      this.u8.copyWithin(dst, data, data + pageSizeBytes);
      data += pageSizeBytes;
    }
    return count;
  }

  /** XXH64 by Yann Collet (xxHash, doc/xxhash_spec.md), in BigInt arithmetic modulo 2^64. */
  hash64(ptr: number, len: number, seed: bigint): bigint {
    this.reach(ptr + len);
    const view = this.view;
    const s = BigInt.asUintN(64, seed);
    let p = ptr;
    const end = ptr + len;
    let h: bigint;
    if (len >= 32) {
      let v1 = (s + PRIME64_1 + PRIME64_2) & MASK64;
      let v2 = (s + PRIME64_2) & MASK64;
      let v3 = s;
      let v4 = (s - PRIME64_1) & MASK64;
      for (; end - p >= 32; p += 32) {
        v1 = xxhRound(v1, view.getBigUint64(p, true));
        v2 = xxhRound(v2, view.getBigUint64(p + 8, true));
        v3 = xxhRound(v3, view.getBigUint64(p + 16, true));
        v4 = xxhRound(v4, view.getBigUint64(p + 24, true));
      }
      h = (rotl64(v1, 1n) + rotl64(v2, 7n) + rotl64(v3, 12n) + rotl64(v4, 18n)) & MASK64;
      h = xxhMerge(h, v1);
      h = xxhMerge(h, v2);
      h = xxhMerge(h, v3);
      h = xxhMerge(h, v4);
    } else {
      h = (s + PRIME64_5) & MASK64;
    }
    h = (h + BigInt(len)) & MASK64;
    for (; end - p >= 8; p += 8) {
      h ^= xxhRound(0n, view.getBigUint64(p, true));
      h = (rotl64(h, 27n) * PRIME64_1 + PRIME64_4) & MASK64;
    }
    if (end - p >= 4) {
      h ^= (BigInt(view.getUint32(p, true)) * PRIME64_1) & MASK64;
      h = (rotl64(h, 23n) * PRIME64_2 + PRIME64_3) & MASK64;
      p += 4;
    }
    for (; p < end; p++) {
      h ^= (BigInt(view.getUint8(p)) * PRIME64_5) & MASK64;
      h = (rotl64(h, 11n) * PRIME64_1) & MASK64;
    }
    h ^= h >> 33n;
    h = (h * PRIME64_2) & MASK64;
    h ^= h >> 29n;
    h = (h * PRIME64_3) & MASK64;
    h ^= h >> 32n;
    return h;
  }

  hashPages(pagesPtr: number, pageSizeBytes: number, count: number, outPtr: number): void {
    this.reach(outPtr + count * 8);
    for (let i = 0; i < count; i++) {
      this.view.setBigUint64(outPtr + i * 8, this.hash64(pagesPtr + i * pageSizeBytes, pageSizeBytes, 0n), true);
    }
  }

  firstDifference(aPtr: number, bPtr: number, len: number): number {
    this.reach(Math.max(aPtr, bPtr) + len);
    const u8 = this.u8;
    let i = 0;
    if ((aPtr - bPtr) % 4 === 0) {
      // Same alignment: bytes up to a word boundary, then whole 32-bit words.
      for (; i < len && (aPtr + i) % 4 !== 0; i++) if (u8[aPtr + i] !== u8[bPtr + i]) return i;
      const i32 = this.i32;
      let a = (aPtr + i) / 4;
      let b = (bPtr + i) / 4;
      for (; len - i >= 4 && i32[a] === i32[b]; a++, b++) i += 4;
    }
    for (; i < len; i++) if (u8[aPtr + i] !== u8[bPtr + i]) return i;
    return -1;
  }

  /** XBZRLE (QEMU migration/xbzrle.c): zero runs skipped a 32-bit word at a time where aligned. */
  xbzrleEncode(oldPtr: number, newPtr: number, len: number, outPtr: number, outCapBytes: number): number {
    this.reach(Math.max(oldPtr, newPtr) + len);
    const u8 = this.u8;
    const i32 = this.i32;
    const wordsAligned = (oldPtr - newPtr) % 4 === 0;
    let d = 0;
    let i = 0;
    while (i < len) {
      const zStart = i;
      if (wordsAligned) {
        for (; i < len && (oldPtr + i) % 4 !== 0 && u8[oldPtr + i] === u8[newPtr + i]; i++);
        if ((oldPtr + i) % 4 === 0) {
          for (let a = (oldPtr + i) >>> 2, b = (newPtr + i) >>> 2; len - i >= 4 && i32[a] === i32[b]; a++, b++) i += 4;
        }
      }
      for (; i < len && u8[oldPtr + i] === u8[newPtr + i]; i++);
      if (i === len) break; // the trailing zero run is not encoded
      const nzStart = i;
      for (; i < len && u8[oldPtr + i] !== u8[newPtr + i]; i++);
      const z = nzStart - zStart;
      const nz = i - nzStart;
      const need = varintBytes(z) + varintBytes(nz) + nz;
      if (d + need > outCapBytes) return -1;
      this.reach(outPtr + d + need);
      let o = putVarint(u8, putVarint(u8, outPtr + d, z), nz);
      if (nz < 32) {
        for (let k = nzStart; k < i; k++) u8[o++] = u8[newPtr + k];
      } else {
        u8.copyWithin(o, newPtr + nzStart, newPtr + i);
        o += nz;
      }
      d = o - outPtr;
    }
    return d;
  }

  /** Validates the whole delta (same checks, same order, same codes as the wasm kernel), then applies it. */
  xbzrleDecode(inPtr: number, inLenBytes: number, targetPtr: number, len: number): number {
    this.reach(inPtr + inLenBytes);
    this.reach(targetPtr + len);
    const u8 = this.u8;
    const end = inPtr + inLenBytes;
    let i = inPtr;
    let d = 0;
    while (i < end) {
      const first = i === inPtr;
      let r = readVarint(u8, i, end);
      if (r < 0) return -1;
      i += r % 8;
      const z = Math.floor(r / 8);
      if (z === 0 && !first) return -3;
      d += z;
      if (d > len) return -2;
      if (i === end) return -3;
      r = readVarint(u8, i, end);
      if (r < 0) return -1;
      i += r % 8;
      const nz = Math.floor(r / 8);
      if (nz === 0) return -3;
      if (d + nz > len) return -2;
      if (nz > end - i) return -1;
      i += nz;
      d += nz;
    }
    i = inPtr;
    let t = targetPtr;
    while (i < end) {
      let r = readVarint(u8, i, end);
      i += r % 8;
      t += Math.floor(r / 8);
      r = readVarint(u8, i, end);
      i += r % 8;
      const nz = Math.floor(r / 8);
      if (nz < 32) {
        for (let k = 0; k < nz; k++) u8[t + k] = u8[i + k];
      } else {
        u8.copyWithin(t, i, i + nz);
      }
      i += nz;
      t += nz;
    }
    return t - targetPtr;
  }
}

/** ULEB128 bytes of v (v < 2^35). */
function varintBytes(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x20_0000 ? 3 : v < 0x1000_0000 ? 4 : 5;
}

/** Writes v as ULEB128 at p; returns the index after it. */
function putVarint(u8: Uint8Array, p: number, v: number): number {
  while (v >= 0x80) {
    u8[p++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  u8[p++] = v;
  return p;
}

/**
 * The ULEB128 at p, of at most 5 bytes and ending before `end`, as value * 8 + its byte count
 * (exact: values stay below 2^35); -1 when the input ends inside it or it is longer.
 */
function readVarint(u8: Uint8Array, p: number, end: number): number {
  if (p === end) return -1;
  const first = u8[p];
  if (first < 0x80) return first * 8 + 1;
  let v = first & 0x7f;
  let scale = 128;
  for (let k = 1; k < 5; k++, scale *= 128) {
    if (p + k === end) return -1;
    const byte = u8[p + k];
    v += (byte & 0x7f) * scale;
    if (byte < 0x80) return v * 8 + k + 1;
  }
  return -1;
}
