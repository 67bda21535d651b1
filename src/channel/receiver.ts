/**
 * The target side of a migration stream: takes one frame that sits in a target slot's frame
 * buffer, checks it (header, checksum, then every page number and length, by the unpack kernel)
 * and only then writes pages into target memory. Used by receiving threads, the virtual
 * channel and the TCP receiver; nothing in a frame is trusted.
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

export interface ReceiverOptions {
  /** Check each frame's checksum: false only where no wire exists (frames handed over in memory). */
  verifyChecksums: boolean;
  /** With codecs on, the decoders of page frames (src/codec/frame-codec.ts); without, the unpack kernel takes raw frames. */
  decoders?: Map<number, PageCodec>;
  /** Where the source's memory is shared with this thread (in process): PAGE_REFS frames are read from it. */
  sourceSlots?: SlotHandle[];
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

  constructor(
    private readonly targetSlots: SlotHandle[],
    private readonly kernels: Kernels[],
    private readonly options: ReceiverOptions,
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
    if (this.options.verifyChecksums && k.hash64(body, h.bodyLengthBytes, 0n) !== h.checksum) {
      throw new FrameError(`frame checksum mismatch in round ${h.round}`);
    }
    if (h.type === FrameType.Pages && this.options.decoders) {
      const bytes = new Uint8Array(this.targetSlots[slot].memory.buffer);
      const pages = bytes.subarray(layout.pagesPtr, layout.pagesPtr + layout.pageCount * layout.pageSizeBytes);
      try {
        this.counts.pages += decodePages(bytes.subarray(body, body + h.bodyLengthBytes), h.count, pages, layout.pageSizeBytes, layout.pageCount, layout.firstPage, this.options.decoders);
      } catch (err) {
        if (err instanceof CodecError || err instanceof RangeError) throw new FrameError(`frame in round ${h.round}: ${err.message}`);
        throw err;
      }
      if (this.trackArrivals) this.arrivedPages(slot, this.descriptorPages(slot, body, h.count));
    } else if (h.type === FrameType.Pages) {
      const r = k.unpackPages(layout.pagesPtr, layout.pageSizeBytes, layout.pageCount, layout.firstPage, body, h.bodyLengthBytes, h.count);
      if (r === -1) throw new FrameError(`frame in round ${h.round} names a page outside the target's slot ${slot}`);
      if (r === -2) throw new FrameError(`frame in round ${h.round} has a page of unknown codec or wrong length`);
      if (r < 0) throw new FrameError(`frame in round ${h.round} is shorter than its ${h.count} pages`);
      this.counts.pages += r;
      if (this.trackArrivals) this.arrivedPages(slot, this.descriptorPages(slot, body, h.count));
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
    if (h.type === FrameType.Pages || h.type === FrameType.PageRefs) {
      try {
        if (h.type === FrameType.PageRefs) {
          const source = this.options.sourceSlots?.[slot];
          if (source === undefined) throw new FrameError(`a page-reference frame in round ${h.round}, but this receiver does not share the source's memory`);
          if (body.length < h.count * 4) throw new RangeError(`a page-reference frame is shorter than its ${h.count} page numbers`);
          const locals = localPages(body, h.count, 4, layout.firstPage, layout.pageCount);
          const from = new Uint8Array(source.memory.buffer, source.layout.pagesPtr, layout.pageCount * size);
          this.placeRaw(slot, locals, from, (i) => locals[i] * size, h.round, pages);
        } else if (this.options.decoders) {
          this.counts.pages += decodePages(body, h.count, pages, size, layout.pageCount, layout.firstPage, this.options.decoders);
          if (this.trackArrivals) this.arrivedPages(slot, localPages(body, h.count, DESCRIPTOR_BYTES, layout.firstPage, layout.pageCount));
        } else {
          const locals = checkRawPages(body, h.count, size, layout.pageCount, layout.firstPage);
          const data = h.count * DESCRIPTOR_BYTES;
          this.placeRaw(slot, locals, body, (i) => data + i * size, h.round, pages);
        }
      } catch (err) {
        if (err instanceof CodecError || err instanceof RangeError) throw new FrameError(`frame in round ${h.round}: ${err.message}`);
        throw err;
      }
    } else if (h.type === FrameType.DeviceState) {
      this.counts.deviceStateBytes += h.bodyLengthBytes;
    }
    this.counts.frames++;
    return h.type;
  }

  /**
   * Checked raw pages into the slot: page i's bytes at from[at(i)] (a raw frame's body, or the
   * source's memory for PAGE_REFS) into page locals[i]. Metered first, then copied.
   */
  private placeRaw(slot: number, locals: Uint32Array, from: Uint8Array, at: (i: number) => number, round: number, pages: Uint8Array): void {
    const size = this.targetSlots[slot].layout.pageSizeBytes;
    if (this.meterResends && round > 0 && !this.trackArrivals) this.counts.unchanged += countSame(locals, from, at, pages, size);
    copyPages(locals, from, at, pages, size);
    this.counts.pages += locals.length;
    if (this.trackArrivals) this.arrivedPages(slot, locals);
  }

  /** The slot-local pages of the `count` descriptors at byte `body` of the slot's memory (already checked). */
  private descriptorPages(slot: number, body: number, count: number): Uint32Array {
    const l = this.targetSlots[slot].layout;
    return localPages(new Uint8Array(this.views[slot].buffer, body, count * DESCRIPTOR_BYTES), count, DESCRIPTOR_BYTES, l.firstPage, l.pageCount);
  }

  /** These pages have arrived: clear their bits and wake blocked vCPUs. */
  private arrivedPages(slot: number, locals: Uint32Array): void {
    const missing = this.missing[slot];
    for (const local of locals) {
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
 * The slot-local numbers of `count` pages whose global u32 numbers lie `stride` bytes apart from
 * the start of `list`, each checked to lie in the slot (a RangeError otherwise).
 */
function localPages(list: Uint8Array, count: number, stride: number, pageBase: number, slotPageCount: number): Uint32Array {
  const view = new DataView(list.buffer, list.byteOffset, list.length);
  const locals = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const page = view.getUint32(i * stride, true);
    if (page < pageBase || page - pageBase >= slotPageCount) throw new RangeError(`page ${page} lies outside the target slot`);
    locals[i] = page - pageBase;
  }
  return locals;
}

/**
 * Checks a raw frame body as the unpack kernel does (its length, every page number, every length
 * field), for a body that lies in another memory; returns its slot-local pages.
 */
function checkRawPages(body: Uint8Array, count: number, size: number, slotPageCount: number, pageBase: number): Uint32Array {
  if (body.length < count * (DESCRIPTOR_BYTES + size)) throw new RangeError(`a frame of ${count} raw pages is shorter than its pages`);
  const locals = localPages(body, count, DESCRIPTOR_BYTES, pageBase, slotPageCount);
  const d = new DataView(body.buffer, body.byteOffset, count * DESCRIPTOR_BYTES);
  for (let i = 0; i < count; i++) {
    if (d.getUint32(i * DESCRIPTOR_BYTES + 4, true) !== size) throw new RangeError('a page is not raw or not a page long');
  }
  return locals;
}

/** How many pages (page i's bytes at from[at(i)]) equal what the target holds for locals[i] (memcmp). */
function countSame(locals: Uint32Array, from: Uint8Array, at: (i: number) => number, pages: Uint8Array, size: number): number {
  const sent = Buffer.from(from.buffer, from.byteOffset, from.length);
  const held = Buffer.from(pages.buffer, pages.byteOffset, pages.length);
  let same = 0;
  for (let i = 0; i < locals.length; i++) {
    if (sent.compare(held, locals[i] * size, (locals[i] + 1) * size, at(i), at(i) + size) === 0) same++;
  }
  return same;
}

/**
 * Page i's bytes at from[at(i)] into page locals[i] of the slot. Consecutive pages (all of round 0,
 * runs in later rounds) lie consecutive in `from` too, and go in one copy each.
 */
function copyPages(locals: Uint32Array, from: Uint8Array, at: (i: number) => number, pages: Uint8Array, size: number): void {
  for (let i = 0; i < locals.length; ) {
    let run = 1;
    while (i + run < locals.length && locals[i + run] === locals[i] + run) run++;
    pages.set(from.subarray(at(i), at(i) + run * size), locals[i] * size);
    i += run;
  }
}
