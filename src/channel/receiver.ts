/**
 * The target side of a migration stream: takes one frame that sits in a target slot's frame
 * buffer, checks it (header, checksum, then every page number and length, by the unpack kernel)
 * and only then writes pages into target memory. Used by the in-process channel's worker and by
 * the virtual channel; nothing in a frame is trusted.
 */
import type { Kernels } from '../kernel/types.js';
import type { SlotHandle } from '../protocol.js';
import { FrameError, FrameType, HEADER_BYTES, parseFrameHeader } from '../wire/frame.js';
import { DESCRIPTOR_BYTES } from '../kernel/types.js';
import { CodecError, type PageCodec } from '../codec/codec.js';
import { decodePages } from '../codec/frame-codec.js';
import { createDecoders } from '../codec/registry.js';

export interface ReceiveCounts {
  frames: number;
  pages: number;
  deviceStateBytes: number;
  /** Raw pages sent again with the bytes the target already holds (with meterResends). */
  unchanged: number;
}

export class FrameReceiver {
  readonly counts: ReceiveCounts = { frames: 0, pages: 0, deviceStateBytes: 0, unchanged: 0 };
  /** Post-copy: clear each page's "not arrived" bit (the target bitmap) as it lands, and wake waiters. */
  trackArrivals = false;
  /**
   * The resend meter at the target (receiveView, raw frames): a page of a pre-copy round after
   * round 0 has been sent before, and what the target holds is its last send, so it went again
   * unchanged when its new bytes equal those. Round 0 sends each page for the first time and costs
   * nothing; only pages sent again are compared (memcmp), where a per-page hash at the source
   * would hash every page of round 0. Off in post-copy, where a page may never have been sent.
   */
  meterResends = false;
  private readonly views: DataView[];
  private readonly missing: Int32Array[];

  /**
   * `verifyChecksums` is false only where no wire exists (the virtual clock's channel hands frames
   * over in memory); every real transport checks them.
   */
  /**
   * `decoders`, when codecs are on, decode page frames (src/codec/frame-codec.ts); without them
   * the unpack kernel takes raw frames. `sourceSlots`, where the source's memory is shared with
   * this thread (the in-process channels), is where PAGE_REFS frames are read from.
   */
  constructor(
    private readonly targetSlots: SlotHandle[],
    private readonly kernels: Kernels[],
    private readonly verifyChecksums: boolean,
    private readonly decoders?: Map<number, PageCodec>,
    private readonly sourceSlots?: SlotHandle[],
  ) {
    this.views = targetSlots.map((s) => new DataView(s.memory.buffer));
    this.missing = targetSlots.map((s) => new Int32Array(s.memory.buffer, s.layout.bitmapPtr, s.layout.bitmapWords * 2));
  }

  /** Receives the frame of `lengthBytes` at byte `at` of target slot `slot`'s memory. */
  receive(slot: number, at: number, lengthBytes: number): FrameType {
    const layout = this.targetSlots[slot].layout;
    const k = this.kernels[slot];
    const h = parseFrameHeader(this.views[slot], at, lengthBytes, layout.frameBytes - HEADER_BYTES);
    if (h.type === FrameType.PageRefs) throw new FrameError(`a page-reference frame in round ${h.round}, but this receiver does not share the source's memory`);
    const body = at + HEADER_BYTES;
    if (this.verifyChecksums && k.hash64(body, h.bodyLengthBytes, 0n) !== h.checksum) {
      throw new FrameError(`frame checksum mismatch in round ${h.round}`);
    }
    if (h.type === FrameType.Pages && this.decoders) {
      const bytes = new Uint8Array(this.targetSlots[slot].memory.buffer);
      const pages = bytes.subarray(layout.pagesPtr, layout.pagesPtr + layout.pageCount * layout.pageSizeBytes);
      try {
        this.counts.pages += decodePages(bytes.subarray(body, body + h.bodyLengthBytes), h.count, pages, layout.pageSizeBytes, layout.pageCount, layout.firstPage, this.decoders);
      } catch (err) {
        if (err instanceof CodecError || err instanceof RangeError) throw new FrameError(`frame in round ${h.round}: ${err.message}`);
        throw err;
      }
      if (this.trackArrivals) this.arrived(slot, body, h.count);
    } else if (h.type === FrameType.Pages) {
      const r = k.unpackPages(layout.pagesPtr, layout.pageSizeBytes, layout.pageCount, layout.firstPage, body, h.bodyLengthBytes, h.count);
      if (r === -1) throw new FrameError(`frame in round ${h.round} names a page outside the target's slot ${slot}`);
      if (r === -2) throw new FrameError(`frame in round ${h.round} has a page of unknown codec or wrong length`);
      if (r < 0) throw new FrameError(`frame in round ${h.round} is shorter than its ${h.count} pages`);
      this.counts.pages += r;
      if (this.trackArrivals) this.arrived(slot, body, h.count);
    } else if (h.type === FrameType.DeviceState) {
      this.counts.deviceStateBytes += h.bodyLengthBytes;
    }
    this.counts.frames++;
    return h.type;
  }

  /**
   * Receives a frame where it lies, in the sender's frame buffer (the in-process and virtual
   * channels: no wire to stage into, nor checksum). The same checks otherwise; raw pages are
   * copied straight into place once every descriptor has been checked.
   */
  receiveView(slot: number, frame: Uint8Array): FrameType {
    const layout = this.targetSlots[slot].layout;
    const size = layout.pageSizeBytes;
    const h = parseFrameHeader(new DataView(frame.buffer, frame.byteOffset, frame.length), 0, frame.length, layout.frameBytes - HEADER_BYTES);
    const body = frame.subarray(HEADER_BYTES, HEADER_BYTES + h.bodyLengthBytes);
    const bytes = new Uint8Array(this.targetSlots[slot].memory.buffer);
    const pages = bytes.subarray(layout.pagesPtr, layout.pagesPtr + layout.pageCount * size);
    if (h.type === FrameType.Pages) {
      try {
        if (this.decoders) {
          this.counts.pages += decodePages(body, h.count, pages, size, layout.pageCount, layout.firstPage, this.decoders);
        } else {
          checkRawPages(body, h.count, size, layout.pageCount, layout.firstPage);
          if (this.meterResends && h.round > 0 && !this.trackArrivals) {
            this.counts.unchanged += countSameRawPages(body, h.count, pages, size, layout.firstPage);
          }
          this.counts.pages += copyRawPages(body, h.count, pages, size, layout.firstPage);
        }
      } catch (err) {
        if (err instanceof CodecError || err instanceof RangeError) throw new FrameError(`frame in round ${h.round}: ${err.message}`);
        throw err;
      }
      if (this.trackArrivals) this.arrivedPages(slot, new DataView(body.buffer, body.byteOffset, body.length), h.count);
    } else if (h.type === FrameType.PageRefs) {
      this.receiveRefs(slot, body, h.count, h.round, pages);
    } else if (h.type === FrameType.DeviceState) {
      this.counts.deviceStateBytes += h.bodyLengthBytes;
    }
    this.counts.frames++;
    return h.type;
  }

  /**
   * A PAGE_REFS frame: the listed pages of the slot copied from the source's memory (consecutive
   * ones at once), once every number is checked to lie in the slot, and metered first as raw
   * pages are.
   */
  private receiveRefs(slot: number, body: Uint8Array, count: number, round: number, pages: Uint8Array): void {
    const source = this.sourceSlots?.[slot];
    if (source === undefined) throw new FrameError(`a page-reference frame in round ${round}, but this receiver does not share the source's memory`);
    const layout = this.targetSlots[slot].layout;
    if (body.length < count * 4) throw new FrameError(`a page-reference frame in round ${round} is shorter than its ${count} page numbers`);
    const list = new DataView(body.buffer, body.byteOffset, count * 4);
    for (let i = 0; i < count; i++) {
      const local = list.getUint32(i * 4, true) - layout.firstPage;
      if (local < 0 || local >= layout.pageCount) throw new FrameError(`frame in round ${round} names a page outside the target's slot ${slot}`);
    }
    const size = layout.pageSizeBytes;
    const from = new Uint8Array(source.memory.buffer, source.layout.pagesPtr, layout.pageCount * size);
    if (this.meterResends && round > 0 && !this.trackArrivals) {
      const sent = Buffer.from(from.buffer, from.byteOffset, from.length);
      const held = Buffer.from(pages.buffer, pages.byteOffset, pages.length);
      for (let i = 0; i < count; i++) {
        const at = (list.getUint32(i * 4, true) - layout.firstPage) * size;
        if (sent.compare(held, at, at + size, at, at + size) === 0) this.counts.unchanged++;
      }
    }
    for (let i = 0; i < count; ) {
      const first = list.getUint32(i * 4, true) - layout.firstPage;
      let run = 1;
      while (i + run < count && list.getUint32((i + run) * 4, true) - layout.firstPage === first + run) run++;
      pages.set(from.subarray(first * size, (first + run) * size), first * size);
      i += run;
    }
    this.counts.pages += count;
    if (this.trackArrivals) {
      const missing = this.missing[slot];
      for (let i = 0; i < count; i++) {
        const local = list.getUint32(i * 4, true) - layout.firstPage;
        Atomics.and(missing, local >>> 5, ~(1 << (local & 31)));
        Atomics.notify(missing, local >>> 5);
      }
    }
  }

  /** The pages of a frame just unpacked have arrived: clear their bits and wake blocked vCPUs. */
  private arrived(slot: number, body: number, count: number): void {
    this.arrivedPages(slot, new DataView(this.views[slot].buffer, body), count);
  }

  private arrivedPages(slot: number, descriptors: DataView, count: number): void {
    const missing = this.missing[slot];
    const first = this.targetSlots[slot].layout.firstPage;
    for (let i = 0; i < count; i++) {
      const local = descriptors.getUint32(i * DESCRIPTOR_BYTES, true) - first;
      Atomics.and(missing, local >>> 5, ~(1 << (local & 31)));
      Atomics.notify(missing, local >>> 5);
    }
  }
}

/** Every codec's decoder, bound to the target's slot memories (xbzrle decodes in place there). */
export function receiverDecoders(targetSlots: SlotHandle[], kernels: Kernels[]): Map<number, PageCodec> {
  return createDecoders(targetSlots[0].layout.pageSizeBytes, {
    targetMemories: targetSlots.map((s, i) => ({ memory: s.memory, kernels: kernels[i] })),
  });
}

/**
 * Checks a raw frame body as the unpack kernel does (length, then every descriptor), for a body
 * that lies in another memory: nothing is written before all of it has passed.
 */
function checkRawPages(body: Uint8Array, count: number, size: number, slotPageCount: number, pageBase: number): void {
  if (body.length < count * (DESCRIPTOR_BYTES + size)) throw new RangeError(`a frame of ${count} raw pages is shorter than its pages`);
  const d = new DataView(body.buffer, body.byteOffset, count * DESCRIPTOR_BYTES);
  for (let i = 0; i < count; i++) {
    const local = d.getUint32(i * DESCRIPTOR_BYTES, true) - pageBase;
    if (local < 0 || local >= slotPageCount) throw new RangeError(`page ${local + pageBase} lies outside the target slot`);
    if (d.getUint32(i * DESCRIPTOR_BYTES + 4, true) !== size) throw new RangeError('a page is not raw or not a page long');
  }
}

/** How many pages of a checked raw frame body equal what the target holds for them (memcmp). */
function countSameRawPages(body: Uint8Array, count: number, pages: Uint8Array, size: number, pageBase: number): number {
  const d = new DataView(body.buffer, body.byteOffset, count * DESCRIPTOR_BYTES);
  const sent = Buffer.from(body.buffer, body.byteOffset, body.length);
  const held = Buffer.from(pages.buffer, pages.byteOffset, pages.length);
  let same = 0;
  for (let i = 0, at = count * DESCRIPTOR_BYTES; i < count; i++, at += size) {
    const local = d.getUint32(i * DESCRIPTOR_BYTES, true) - pageBase;
    if (sent.compare(held, local * size, local * size + size, at, at + size) === 0) same++;
  }
  return same;
}

/** A checked raw frame body's pages into the slot's page area; consecutive pages in one copy. */
function copyRawPages(body: Uint8Array, count: number, pages: Uint8Array, size: number, pageBase: number): number {
  const d = new DataView(body.buffer, body.byteOffset, count * DESCRIPTOR_BYTES);
  // Consecutive pages (all of round 0, runs in later rounds) go in one copy each.
  let at = count * DESCRIPTOR_BYTES;
  for (let i = 0; i < count; ) {
    const first = d.getUint32(i * DESCRIPTOR_BYTES, true) - pageBase;
    let run = 1;
    while (i + run < count && d.getUint32((i + run) * DESCRIPTOR_BYTES, true) - pageBase === first + run) run++;
    pages.set(body.subarray(at, at + run * size), first * size);
    at += run * size;
    i += run;
  }
  return count;
}
