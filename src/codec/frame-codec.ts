/**
 * The per-frame page path when codecs are on: encodePages on the sender (the codec counterpart of
 * the packPages kernel) and decodePages on the receiver (of unpackPages). Frame body layout as in
 * src/kernel/types.ts: 8-byte descriptors (u32 global page number, u32 codecId << 24 |
 * encodedLengthBytes), then the encoded pages in descriptor order; raw (codec 0) is the page itself.
 *
 * Encode time: each codec times its own encode() with two performance.now() calls and reports it
 * in its stats(), as CodecStats defines. The pair costs about 65 ns per attempt on the 2-core
 * machine this was built on, and the reported time includes it. Measured on 256-page frames of
 * mixed content (a quarter zero pages): +24 % frame encode time for the chain `zero` (70 -> 85 us a
 * frame; its kernel tests a page in 0.05-0.3 us), +5-10 % for `zero,xbzrle` at 1 % of bytes
 * changed, lost in the noise for chains with lz4.
 * Timing each codec once per frame instead would need the chain run codec by codec, staging every
 * encoded page to place it later, and a way to hand the time to the codec's stats, which PageCodec
 * does not have; pages go through the chain one at a time, each written straight into the frame.
 */
import { DESCRIPTOR_BYTES } from '../kernel/types.js';
import { CODEC_IDS, CodecError, type CodecStats, type PageCodec } from './codec.js';

/** The descriptor's length field is 24 bits: its mask, and the longest encoded page. */
export const MAX_ENCODED_BYTES = 0xff_ffff;

/** Fresh counters for the pages no codec took (raw); encodeMs stays 0: the copy is not timed. */
export function newRawStats(): CodecStats {
  return { pages: 0, bytesIn: 0, bytesOut: 0, encodeMs: 0 };
}

/** One page-sized scratch per thread: the stable copy of a page that stateful codecs need. */
let snapshot: Uint8Array | undefined;

/**
 * Encodes the pages whose slot-local numbers are in `list`, from the slot's page area `pages` (or
 * the page `pages(local, i)` makes: a procedural memory's), into a frame body in `out`: each page goes to the first codec of `chain` that takes it, else it
 * is copied raw. Returns the body length. Throws RangeError, writing nothing, when `out` is shorter
 * than list.length * (8 + pageSizeBytes), the size that always suffices (codecs take only pages
 * they shrink), or when a listed page lies outside `pages`.
 *
 * When a codec of the chain keeps state (has sent(), as xbzrle's cache), each page is first
 * copied once into a scratch page, and that copy is what every codec reads, raw sends and sent()
 * receives: the guest keeps writing while it migrates, and the state must match what the target
 * gets byte for byte, not what the page holds a moment later. Without such a codec the chain reads
 * the guest's page in place.
 *
 * `rawStats`, when given, counts the pages sent raw.
 */
export function encodePages(
  chain: readonly PageCodec[],
  pages: Uint8Array | ((local: number, i: number) => Uint8Array),
  pageSizeBytes: number,
  list: Uint32Array,
  pageBase: number,
  out: Uint8Array,
  rawStats?: CodecStats,
): number {
  if (pageSizeBytes > MAX_ENCODED_BYTES)
    throw new RangeError(`pages of ${pageSizeBytes} bytes do not fit a descriptor's 24-bit length`);
  const count = list.length;
  const capacity = count * (DESCRIPTOR_BYTES + pageSizeBytes);
  if (out.length < capacity) {
    throw new RangeError(
      `frame body buffer of ${out.length} bytes is too small for ${count} pages of ${pageSizeBytes} bytes (needs ${capacity})`,
    );
  }
  if (typeof pages !== 'function') {
    for (let i = 0; i < count; i++) {
      if ((list[i] + 1) * pageSizeBytes > pages.length)
        throw new RangeError(`page ${list[i]} is outside the slot's ${pages.length / pageSizeBytes} pages`);
    }
  }
  const stateful = chain.filter((c) => c.sent !== undefined);
  let stable: Uint8Array | null = null;
  if (stateful.length > 0) {
    if (snapshot === undefined || snapshot.length !== pageSizeBytes) snapshot = new Uint8Array(pageSizeBytes);
    stable = snapshot;
  }
  const descriptors = new DataView(out.buffer, out.byteOffset, count * DESCRIPTOR_BYTES);
  let data = count * DESCRIPTOR_BYTES;
  for (let i = 0; i < count; i++) {
    const at = list[i] * pageSizeBytes;
    let page = typeof pages === 'function' ? pages(list[i], i) : pages.subarray(at, at + pageSizeBytes);
    if (stable !== null) {
      stable.set(page);
      page = stable;
    }
    const pageNumber = pageBase + list[i];
    // Room for one page: a codec cannot overrun, and the capacity above holds whatever it returns.
    const room = out.subarray(data, data + pageSizeBytes);
    let id: number = CODEC_IDS.raw;
    let length = -1;
    for (const codec of chain) {
      length = codec.encode(page, pageNumber, room);
      if (length >= 0) {
        if (length > pageSizeBytes)
          throw new RangeError(`${codec.name} encoded page ${pageNumber} in ${length} bytes, more than the page`);
        id = codec.id;
        break;
      }
    }
    if (length < 0) {
      room.set(page);
      length = pageSizeBytes;
      if (rawStats !== undefined) {
        rawStats.pages++;
        rawStats.bytesIn += pageSizeBytes;
        rawStats.bytesOut += pageSizeBytes;
      }
    }
    descriptors.setUint32(i * DESCRIPTOR_BYTES, pageNumber >>> 0, true);
    descriptors.setUint32(i * DESCRIPTOR_BYTES + 4, ((id << 24) | length) >>> 0, true);
    data += length;
    for (const codec of stateful) codec.sent!(page, pageNumber);
  }
  return data;
}

const CODEC_NAMES = new Map<number, string>(Object.entries(CODEC_IDS).map(([name, id]) => [id, name]));

/**
 * Decodes a frame body of `count` pages into the slot's page area `targetPages` (slotPageCount
 * pages, global numbers from pageBase), or into the page `targetPages(local)` gives for each, which
 * holds the target's bytes of it (`decoded` runs after each page: a procedural target's check). The body is untrusted: every descriptor is checked before
 * any byte is written (the body holds the descriptors; each page number lies in the slot; each
 * codec is raw or one of `decoders`; raw pages are a page long and zero pages empty; the lengths
 * add up to exactly the bytes after the descriptors), and a CodecError says what is wrong. Then
 * pages are decoded in order; a codec that finds its page's bytes malformed leaves that page
 * untouched and its CodecError, prefixed with the descriptor's place, ends the frame (pages before
 * it are written). Returns the pages decoded.
 */
export function decodePages(
  body: Uint8Array,
  count: number,
  targetPages: Uint8Array | ((local: number) => Uint8Array),
  pageSizeBytes: number,
  slotPageCount: number,
  pageBase: number,
  decoders: ReadonlyMap<number, PageCodec>,
  decoded?: () => void,
): number {
  if (typeof targetPages !== 'function' && targetPages.length < slotPageCount * pageSizeBytes) {
    throw new RangeError(
      `target page area of ${targetPages.length} bytes is smaller than ${slotPageCount} pages of ${pageSizeBytes} bytes`,
    );
  }
  if (!Number.isInteger(count) || count < 0) throw new CodecError(`frame page count ${count} is not a whole number`);
  const descriptorBytes = count * DESCRIPTOR_BYTES;
  if (descriptorBytes > body.length) {
    throw new CodecError(
      `frame body of ${body.length} bytes is shorter than its ${count} descriptors (${descriptorBytes} bytes)`,
    );
  }
  const view = new DataView(body.buffer, body.byteOffset, descriptorBytes);
  let dataBytes = 0;
  for (let i = 0; i < count; i++) {
    const pageNumber = view.getUint32(i * DESCRIPTOR_BYTES, true);
    if (pageNumber < pageBase || pageNumber - pageBase >= slotPageCount) {
      throw new CodecError(
        `descriptor ${i}: page ${pageNumber} is outside the slot's pages ${pageBase} to ${pageBase + slotPageCount - 1}`,
      );
    }
    const codecLength = view.getUint32(i * DESCRIPTOR_BYTES + 4, true);
    const id = codecLength >>> 24;
    const length = codecLength & MAX_ENCODED_BYTES;
    if (id === CODEC_IDS.raw) {
      if (length !== pageSizeBytes)
        throw new CodecError(`descriptor ${i}: raw page ${pageNumber} of ${length} bytes, not ${pageSizeBytes}`);
    } else if (!decoders.has(id)) {
      throw new CodecError(`descriptor ${i}: page ${pageNumber} has unknown codec ${id}`);
    } else if (id === CODEC_IDS.zero && length !== 0) {
      throw new CodecError(`descriptor ${i}: zero page ${pageNumber} carries ${length} bytes, not 0`);
    }
    dataBytes += length;
  }
  if (descriptorBytes + dataBytes !== body.length) {
    throw new CodecError(
      `frame page lengths add up to ${dataBytes} bytes, but ${body.length - descriptorBytes} follow the descriptors`,
    );
  }
  let data = descriptorBytes;
  for (let i = 0; i < count; i++) {
    const pageNumber = view.getUint32(i * DESCRIPTOR_BYTES, true);
    const codecLength = view.getUint32(i * DESCRIPTOR_BYTES + 4, true);
    const id = codecLength >>> 24;
    const length = codecLength & MAX_ENCODED_BYTES;
    const local = pageNumber - pageBase;
    const target =
      typeof targetPages === 'function'
        ? targetPages(local)
        : targetPages.subarray(local * pageSizeBytes, (local + 1) * pageSizeBytes);
    const encoded = body.subarray(data, data + length);
    if (id === CODEC_IDS.raw) {
      target.set(encoded);
    } else {
      try {
        decoders.get(id)!.decode(encoded, pageNumber, target);
      } catch (error) {
        if (!(error instanceof CodecError)) throw error;
        throw new CodecError(
          `descriptor ${i} of ${count} (page ${pageNumber}, ${CODEC_NAMES.get(id) ?? `codec ${id}`}): ${error.message}`,
          { cause: error },
        );
      }
    }
    data += length;
    decoded?.();
  }
  return count;
}
