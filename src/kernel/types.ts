/**
 * The kernel interface: the hot loops of a migration, as pure functions over `(ptr, len)` in one
 * linear memory. Two implementations exist and must agree exactly: the AssemblyScript build
 * (`assembly/`, loaded by `src/kernel/loader.ts`) and the plain TypeScript reference
 * (`src/kernel/reference.ts`). All pointers are byte offsets into the memory the kernel is bound
 * to; page numbers and counts are unsigned 32-bit.
 *
 * Dirty bitmap layout: an array of little-endian 64-bit words; page p is bit (p & 63) of word
 * (p >> 6). Because it is little-endian the same bit is also bit (p & 31) of 32-bit word (p >> 5),
 * so JavaScript code may mark pages with `Atomics.or` on an Int32Array.
 *
 * Frame body layout written by `packPages` and read by `unpackPages` (little-endian):
 *   count descriptors of 8 bytes: u32 global page number, u32 (codec << 24 | encodedLengthBytes)
 *   then the encoded page bytes, concatenated in descriptor order.
 * The raw codec is 0 and its encoded length is the page size.
 */
export interface Kernels {
  /** Atomically sets the dirty bit of `page` (atomic OR on its 64-bit word). */
  markDirty(bitmapPtr: number, page: number): void;

  /**
   * Scans bitmap words [firstWord, firstWord + wordCount). Each non-zero word (tested with a plain
   * load first) is atomically exchanged with 0 and the page numbers of its set bits are written,
   * ascending, as u32 at outPtr. Returns the number of pages written. Returns -1 and touches
   * nothing when outCapPages < wordCount * 64 (so no cleared bit can ever be dropped).
   */
  scanAndClear(bitmapPtr: number, firstWord: number, wordCount: number, outPtr: number, outCapPages: number): number;

  /** Like scanAndClear but leaves the bitmap untouched (KVM's CLEAR_DIRTY_LOG fetch). */
  collectDirty(bitmapPtr: number, firstWord: number, wordCount: number, outPtr: number, outCapPages: number): number;

  /** Atomically clears the dirty bits of `count` u32 page numbers listed at listPtr (atomic AND-NOT); returns how many were set. */
  clearPages(bitmapPtr: number, listPtr: number, count: number): number;

  /** Population count of bitmap words [firstWord, firstWord + wordCount). */
  countDirty(bitmapPtr: number, firstWord: number, wordCount: number): number;

  /** 1 if the `len` bytes at ptr are all zero, else 0. Any alignment, any length. */
  isZero(ptr: number, len: number): number;

  /** Sets the `len` bytes at ptr to the low byte of `value`. */
  fillBytes(ptr: number, len: number, value: number): void;

  /**
   * Fills `len` bytes (a multiple of 4) at each of p0..p3 with the xorshift32 (13, 17, 5) stream of
   * the non-zero seeds s0..s3, first output first, as little-endian u32 words.
   */
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
  ): void;

  /** Copies `len` bytes from src to dst (as memmove). */
  copyBytes(dst: number, src: number, len: number): void;

  /**
   * Packs `count` pages, whose slot-local numbers are u32 at listPtr, from the page area at
   * pagesPtr into a frame body at outPtr: descriptors (global page = pageBase + local, codec raw)
   * then the page bytes. Returns the bytes written, or -1 (writing nothing) when
   * count * (8 + pageSizeBytes) > outCapBytes.
   */
  packPages(
    pagesPtr: number,
    pageSizeBytes: number,
    listPtr: number,
    count: number,
    pageBase: number,
    outPtr: number,
    outCapBytes: number,
  ): number;

  /**
   * Checks a frame body's page list before a byte of it is used: `count` entries `stride` bytes
   * apart from ptr, each starting with a u32 global page number in [pageBase, pageBase +
   * slotPageCount); with rawPageBytes > 0 (raw descriptors) each entry's second u32 must be codec
   * raw with length rawPageBytes, and the body must hold count * (stride + rawPageBytes) bytes.
   * Returns 0, -3 (body too short), or per entry in order -1 (page outside) or -2 (not raw or
   * wrong length). unpackPages runs it first; the in-process receivers run it where the frame lies.
   */
  checkPages(
    ptr: number,
    bodyLenBytes: number,
    count: number,
    stride: number,
    pageBase: number,
    slotPageCount: number,
    rawPageBytes: number,
  ): number;

  /**
   * Unpacks a raw frame body of `count` descriptors at inPtr (of inLenBytes bytes) into the page area
   * at pagesPtr, which holds slotPageCount pages whose global numbers start at pageBase. Every
   * descriptor is validated before any byte is written: returns -1 if a page number is outside
   * [pageBase, pageBase + slotPageCount), -2 if a codec is not raw or a length is not the page size,
   * -3 if the body is shorter than count * (8 + pageSizeBytes); otherwise copies and returns count.
   */
  unpackPages(
    pagesPtr: number,
    pageSizeBytes: number,
    slotPageCount: number,
    pageBase: number,
    inPtr: number,
    inLenBytes: number,
    count: number,
  ): number;

  /** xxHash64 (Yann Collet's XXH64) of `len` bytes at ptr with the given seed. */
  hash64(ptr: number, len: number, seed: bigint): bigint;

  /** XXH64 of each of `count` consecutive pages at pagesPtr (seed 0), written as u64 at outPtr. */
  hashPages(pagesPtr: number, pageSizeBytes: number, count: number, outPtr: number): void;

  /** Offset of the first byte where [aPtr, aPtr+len) and [bPtr, bPtr+len) differ, or -1 if equal. */
  firstDifference(aPtr: number, bPtr: number, len: number): number;

  /**
   * Two-level scan-and-clear: summary bit w (bit w & 63 of u64 summary word w >> 6) flags bitmap
   * word w. Writers set the page bit, then the summary bit; this exchanges each non-zero summary
   * word with 0 before exchanging the bitmap words it flags, and writes their pages, ascending, as
   * u32 at outPtr. Returns the count, or -1 (touching nothing) when outCapPages < bitmapWords * 64.
   */
  scanAndClearTwoLevel(
    summaryPtr: number,
    bitmapPtr: number,
    bitmapWords: number,
    outPtr: number,
    outCapPages: number,
  ): number;

  /**
   * The resend meter: for each of `count` slot-local page numbers (u32 at listPtr) hashes the page
   * (XXH64, seed 0), compares with the u64 stored for that page at hashesPtr + 8 * page, stores
   * the new hash and returns how many were equal: pages sent again though unchanged.
   */
  countUnchanged(pagesPtr: number, pageSizeBytes: number, listPtr: number, count: number, hashesPtr: number): number;

  /**
   * XBZRLE encoding (QEMU migration/xbzrle.c) of the `len` bytes at newPtr against the old version
   * at oldPtr, written at outPtr: records of zero-run length (ULEB128, bytes equal in both
   * versions), non-zero-run length (ULEB128) and the non-zero run's new bytes; the trailing zero
   * run is left out, so equal pages encode to 0 bytes. Returns the encoded length, or -1 when it
   * would be longer than outCapBytes (QEMU's overflow: send the page another way). Never writes at
   * or past outPtr + outCapBytes; bytes between the result and outCapBytes may be overwritten.
   */
  xbzrleEncode(oldPtr: number, newPtr: number, len: number, outPtr: number, outCapBytes: number): number;

  /**
   * Applies an XBZRLE delta of inLenBytes at inPtr to the `len`-byte page at targetPtr, which holds
   * the old version. Input is untrusted: it is validated whole before any byte is written. Returns
   * the offset just past the last byte written (0 for an empty delta), or, writing nothing:
   * -1 the input ends inside a length or a run's bytes, or a length is longer than 5 bytes;
   * -2 a run reaches past the end of the page;
   * -3 an empty run where none may be (a zero run other than the first, any non-zero run), or a
   *    zero run with no non-zero run after it (trailing bytes).
   */
  xbzrleDecode(inPtr: number, inLenBytes: number, targetPtr: number, len: number): number;
}

/** Codec identifiers in frame descriptors (more arrive with the codec strategies). */
export const CODEC_RAW = 0;

/** Bytes of one frame descriptor: u32 page number + u32 codec/length. */
export const DESCRIPTOR_BYTES = 8;

/**
 * Low bytes of every memory left to the runtime (asc static data); kernels never use them. Set-up
 * keeps the text corpus of the initial content in a source slot's (src/memory/setup-work.ts).
 */
export const RESERVED_LOW_BYTES = 64 * 1024;
