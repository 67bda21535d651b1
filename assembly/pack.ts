/**
 * Frame bodies (layout in src/kernel/types.ts): `count` 8-byte descriptors, u32 global page and
 * u32 (codec << 24 | encodedLengthBytes), then the page bytes in descriptor order. Each page moves
 * with one memory.copy (bulk memory): a hand-written v128 copy loop measured no faster. The length
 * field is 24 bits, so pageSizeBytes must be below 16 MiB.
 */

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
  let size = <usize>pageSizeBytes;
  let data = outPtr + (<usize>count << 3);
  for (let i: usize = 0; i < <usize>count; i++) {
    let local = load<u32>(listPtr + (i << 2));
    let d = outPtr + (i << 3);
    store<u32>(d, pageBase + local);
    store<u32>(d, pageSizeBytes & 0xFFFFFF, 4); // codec raw (0) in the top byte
    memory.copy(data, pagesPtr + <usize>local * size, size);
    data += size;
  }
  return <i32>total;
}

/**
 * Unpacks a raw frame body into the slot's page area. Validates everything before writing a byte;
 * errors in order of precedence: -3 body shorter than count * (8 + pageSizeBytes) (checked first,
 * so no descriptor is read past the body), then per descriptor in order -1 page outside
 * [pageBase, pageBase + slotPageCount), -2 codec not raw or length not the page size.
 */
export function unpackPages(
  pagesPtr: usize, pageSizeBytes: u32, slotPageCount: u32, pageBase: u32,
  inPtr: usize, inLenBytes: u32, count: u32,
): i32 {
  if (<u64>count * (8 + <u64>pageSizeBytes) > <u64>inLenBytes) return -3;
  for (let i: usize = 0; i < <usize>count; i++) {
    let d = inPtr + (i << 3);
    let page = load<u32>(d);
    if (page < pageBase || page - pageBase >= slotPageCount) return -1;
    let codecLength = load<u32>(d, 4);
    if ((codecLength >> 24) != 0 || (codecLength & 0xFFFFFF) != pageSizeBytes) return -2;
  }
  let size = <usize>pageSizeBytes;
  let data = inPtr + (<usize>count << 3);
  for (let i: usize = 0; i < <usize>count; i++) {
    let local = load<u32>(inPtr + (i << 3)) - pageBase;
    memory.copy(pagesPtr + <usize>local * size, data, size);
    data += size;
  }
  return <i32>count;
}
