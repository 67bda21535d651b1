/**
 * Frame bodies (layout in src/kernel/types.ts): `count` 8-byte descriptors, u32 global page and
 * u32 (codec << 24 | encodedLengthBytes), then the page bytes in descriptor order. The length
 * field is 24 bits, so pageSizeBytes must be below 16 MiB.
 *
 * Pages move four at a time (copy4). One memory.copy per random 4 KiB page ran at 0.60-0.65x
 * memcpy on the bench: every page starts with a TLB miss and a cold prefetcher, and the call leaves
 * nothing to overlap them with (loads of the next pages' first lines ahead of it did not help).
 * Copying 64 bytes of each of four pages in turn overlaps four pages' misses: 0.66-0.77x (8 pages
 * measured no better, 2 worse). Four pages a quarter of a frame apart rather than neighbours
 * overlap better still (0.70-0.84x; see packPages and unpackPages).
 */

/**
 * Copies pages s0..s3 to d0..d3, `size` bytes each. Four pages contiguous on both sides, and sizes
 * not a multiple of 64, go by memory.copy: on contiguous pages it keeps memcpy speed, where the
 * v128 loop reaches ~0.85x. Equal destinations end as sequential copies leave them: every 64-byte
 * step writes d0..d3 in order.
 */
@inline
function copy4(d0: usize, s0: usize, d1: usize, s1: usize, d2: usize, s2: usize, d3: usize, s3: usize, size: usize): void {
  if (s1 == s0 + size && s2 == s1 + size && s3 == s2 + size && d1 == d0 + size && d2 == d1 + size && d3 == d2 + size) {
    memory.copy(d0, s0, size << 2);
  } else if ((size & 63) != 0) {
    memory.copy(d0, s0, size); memory.copy(d1, s1, size); memory.copy(d2, s2, size); memory.copy(d3, s3, size);
  } else {
    for (let o: usize = 0; o < size; o += 64) { copy64(d0 + o, s0 + o); copy64(d1 + o, s1 + o); copy64(d2 + o, s2 + o); copy64(d3 + o, s3 + o); }
  }
}

@inline
function copy64(d: usize, s: usize): void {
  let a = v128.load(s), b = v128.load(s, 16), c = v128.load(s, 32), e = v128.load(s, 48);
  v128.store(d, a); v128.store(d, b, 16); v128.store(d, c, 32); v128.store(d, e, 48);
}

/**
 * Packs the pages whose slot-local numbers are u32 at listPtr into a raw frame body at outPtr.
 * Returns the bytes written, or -1 (writing nothing) when they would exceed outCapBytes.
 */
export function packPages(
  pagesPtr: usize, pageSizeBytes: u32, listPtr: usize, count: u32, pageBase: u32,
  outPtr: usize, outCapBytes: u32,
): i32 {
  let total = <u64>count * (8 + <u64>pageSizeBytes);
  if (total > <u64>outCapBytes) return -1;
  let n = <usize>count;
  let contiguous = true;
  for (let i: usize = 0; i < n; i++) {
    let d = outPtr + (i << 3);
    let local = load<u32>(listPtr + (i << 2));
    if (i > 0 && local != load<u32>(listPtr + ((i - 1) << 2)) + 1) contiguous = false;
    store<u32>(d, pageBase + local);
    store<u32>(d, pageSizeBytes & 0xFFFFFF, 4); // codec raw (0) in the top byte
  }
  let size = <usize>pageSizeBytes;
  let data = outPtr + (n << 3);
  // Pages i, i + m, i + 2m, i + 3m together (m = a quarter of the frame), as in unpack: 0.73-0.84x
  // memcpy against 0.67-0.70x for four neighbours (3 alternating runs). Each goes to its own place
  // in the body, so copy order does not matter; one run keeps neighbours, copied by memory.copy.
  let m = n >> 2;
  let apart: usize = contiguous ? 1 : m, step: usize = contiguous ? 4 : 1;
  for (let g: usize = 0; g < m; g++) {
    let i = g * step;
    let l = listPtr + (i << 2), o = data + i * size, a = apart << 2, b = apart * size;
    copy4(
      o, pagesPtr + <usize>load<u32>(l) * size,
      o + b, pagesPtr + <usize>load<u32>(l + a) * size,
      o + 2 * b, pagesPtr + <usize>load<u32>(l + 2 * a) * size,
      o + 3 * b, pagesPtr + <usize>load<u32>(l + 3 * a) * size,
      size,
    );
  }
  for (let i = m << 2; i < n; i++) memory.copy(data + i * size, pagesPtr + <usize>load<u32>(listPtr + (i << 2)) * size, size);
  return <i32>total;
}

/**
 * Checks a frame body's page list before a byte of it is used: `count` entries `stride` bytes apart
 * from ptr, each starting with a u32 global page number that must lie in [pageBase, pageBase +
 * slotPageCount). With rawPageBytes > 0 (raw descriptors, stride 8) each entry's second u32 must
 * say codec raw and a length of rawPageBytes. The body, bodyLenBytes long, must hold the entries
 * and, for raw pages, their bytes. Returns 0, or -3 (body too short: no entry read), then per entry
 * in order -1 (page outside the slot) or -2 (not raw, or not a page long). Every receiver runs it:
 * unpackPages below, and the in-process receivers on frames in the source's memory.
 */
export function checkPages(
  ptr: usize, bodyLenBytes: u32, count: u32, stride: u32, pageBase: u32, slotPageCount: u32, rawPageBytes: u32,
): i32 {
  if (<u64>count * (<u64>stride + <u64>rawPageBytes) > <u64>bodyLenBytes) return -3;
  let n = <usize>count;
  let step = <usize>stride;
  for (let i: usize = 0; i < n; i++) {
    let d = ptr + i * step;
    let page = load<u32>(d);
    if (page < pageBase || page - pageBase >= slotPageCount) return -1;
    if (rawPageBytes != 0) {
      let codecLength = load<u32>(d, 4);
      if ((codecLength >> 24) != 0 || (codecLength & 0xFFFFFF) != rawPageBytes) return -2;
    }
  }
  return 0;
}

/**
 * Unpacks a raw frame body into the slot's page area. Validates everything before writing a byte;
 * errors in order of precedence: -3 body shorter than count * (8 + pageSizeBytes) (checked first,
 * so no descriptor is read past the body), then per descriptor in order -1 page outside
 * [pageBase, pageBase + slotPageCount), -2 codec not raw or length not the page size.
 *
 * When the pages strictly ascend (as a scan lists them; then none repeats, so order does not
 * matter) and do not form one run, copy4 takes pages a quarter of the frame apart, not four
 * neighbours: on the bench's random 4 KiB pages 0.70-0.77x memcpy (median 0.75x, 4 runs) against
 * 0.65-0.75x (0.68x) for neighbours. Otherwise groups are four neighbours in order, so later
 * duplicates win. Touching the next pages' destinations ahead, memory.copy per page, 128 or 256
 * bytes per page per step and descending copies all measured worse (0.53-0.67x).
 */
export function unpackPages(
  pagesPtr: usize, pageSizeBytes: u32, slotPageCount: u32, pageBase: u32,
  inPtr: usize, inLenBytes: u32, count: u32,
): i32 {
  let checked = checkPages(inPtr, inLenBytes, count, 8, pageBase, slotPageCount, pageSizeBytes);
  if (checked < 0) return checked;
  let n = <usize>count;
  let ascending = true, contiguous = true;
  for (let i: usize = 1; i < n; i++) {
    let d = inPtr + (i << 3);
    let page = load<u32>(d), previous = load<u32>(d - 8);
    if (page <= previous) ascending = false;
    if (page != previous + 1) contiguous = false;
  }
  let size = <usize>pageSizeBytes;
  let data = inPtr + (n << 3);
  let m = n >> 2;
  // Pages i, i + apart, i + 2 * apart, i + 3 * apart: a quarter of the frame apart when no page
  // repeats (ascending) and the pages are not one run (copy4 moves a run by memory.copy).
  let spread = ascending && !contiguous;
  let apart: usize = spread ? m : 1, step: usize = spread ? 1 : 4;
  for (let g: usize = 0; g < m; g++) {
    let i = g * step;
    let d = inPtr + (i << 3), s = data + i * size, a = apart << 3, b = apart * size;
    copy4(
      pagesPtr + <usize>(load<u32>(d) - pageBase) * size, s,
      pagesPtr + <usize>(load<u32>(d + a) - pageBase) * size, s + b,
      pagesPtr + <usize>(load<u32>(d + 2 * a) - pageBase) * size, s + 2 * b,
      pagesPtr + <usize>(load<u32>(d + 3 * a) - pageBase) * size, s + 3 * b,
      size,
    );
  }
  for (let i = m << 2; i < n; i++) memory.copy(pagesPtr + <usize>(load<u32>(inPtr + (i << 3)) - pageBase) * size, data + i * size, size);
  return <i32>count;
}
