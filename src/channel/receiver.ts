/**
 * The target side of a migration stream, the one receive path of every transport: takes one frame
 * where it lies (a target slot's frame buffer over TCP; the source's frame buffer, or the target's
 * for the virtual transport's own page-reference frames, in process), checks it (header, checksum
 * over a wire, then every page number and length by the checkPages kernel, in the frame's own
 * memory) and only then writes pages into target memory: by the unpack kernel where the frame lies
 * in the target slot's memory, else by one copy across memories. Nothing in a frame is trusted.
 */
import type { Kernels } from '../kernel/types.js';
import type { SlotHandle } from '../memory/layout.js';
import { FrameError, FrameType, HEADER_BYTES, parseFrameHeader, type FrameHeader } from '../wire/frame.js';
import { DESCRIPTOR_BYTES } from '../kernel/types.js';
import { CodecError, type PageCodec } from '../codec/codec.js';
import { decodePages } from '../codec/frame-codec.js';
import { createDecoders } from '../codec/registry.js';
import type { UserStrategyConfig } from '../util/user-file.js';

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
  /** With codecs on, the decoders of page frames (src/codec/frame-codec.ts); without, raw frames only. */
  decoders?: Map<number, PageCodec>;
  /** Where the source's memory is shared with this thread (in process): PAGE_REFS frames are read from it. */
  sourceSlots?: SlotHandle[];
}

/** Where a frame lies: a wasm memory, kernels bound to it, and the frame's offset and length there. */
export interface FrameAt {
  memory: WebAssembly.Memory;
  kernels: Kernels;
  ptr: number;
  lengthBytes: number;
}

/** Why checkPages refused a page list, by its return code. */
function checkFailure(code: number, round: number, slot: number, count: number, what: string): FrameError {
  if (code === -1) return new FrameError(`frame in round ${round} names a page outside the target's slot ${slot}`);
  if (code === -2) return new FrameError(`frame in round ${round} has a page of unknown codec or wrong length`);
  return new FrameError(`frame in round ${round} is shorter than its ${count} ${what}`);
}

export class FrameReceiver {
  readonly counts: ReceiveCounts = { frames: 0, pages: 0, deviceStateBytes: 0, unchanged: 0 };
  /** Post-copy: clear each page's "not arrived" bit (the target bitmap) as it lands, and wake waiters. */
  trackArrivals = false;
  /**
   * The resend meter at the target (raw frames): a page of a pre-copy round after round 0 has been
   * sent before, and what the target holds is its last send, so it went again unchanged when its
   * new bytes equal those. Round 0 sends each page for the first time and costs nothing; only
   * pages sent again are compared (memcmp), where a per-page hash at the source would hash every
   * page of round 0. Off in post-copy, where a page may never have been sent.
   */
  meterResends = false;
  private readonly missing: Int32Array[];

  constructor(
    private readonly targetSlots: SlotHandle[],
    private readonly kernels: Kernels[],
    private readonly options: ReceiverOptions,
  ) {
    this.missing = targetSlots.map(
      (s) => new Int32Array(s.memory.buffer, s.layout.bitmapPtr, s.layout.bitmapWords * 2),
    );
  }

  /**
   * Receives the frame at `frame` into target slot `slot`. `header`: the frame's header where the
   * caller has checked it already (the TCP receiver, as the bytes came in), else it is checked here.
   */
  receive(slot: number, frame: FrameAt, header?: FrameHeader): FrameType {
    const layout = this.targetSlots[slot].layout;
    const size = layout.pageSizeBytes;
    const h =
      header ??
      parseFrameHeader(
        new DataView(frame.memory.buffer),
        frame.ptr,
        frame.lengthBytes,
        layout.frameBytes - HEADER_BYTES,
      );
    const bodyPtr = frame.ptr + HEADER_BYTES;
    const k = frame.kernels;
    if (this.options.verifyChecksums && k.hash64(bodyPtr, h.bodyLengthBytes, 0n) !== h.checksum) {
      throw new FrameError(`frame checksum mismatch in round ${h.round}`);
    }
    const body = new Uint8Array(frame.memory.buffer, bodyPtr, h.bodyLengthBytes);
    const target = this.targetSlots[slot];
    const pages = new Uint8Array(target.memory.buffer, layout.pagesPtr, layout.pageCount * size);
    if (h.type === FrameType.PageRefs) {
      const source = this.options.sourceSlots?.[slot];
      if (source === undefined)
        throw new FrameError(
          `a page-reference frame in round ${h.round}, but this receiver does not share the source's memory`,
        );
      const checked = k.checkPages(bodyPtr, h.bodyLengthBytes, h.count, 4, layout.firstPage, layout.pageCount, 0);
      if (checked < 0) throw checkFailure(checked, h.round, slot, h.count, 'page numbers');
      const locals = localPages(body, h.count, 4, layout.firstPage);
      const from = new Uint8Array(source.memory.buffer, source.layout.pagesPtr, layout.pageCount * size);
      this.placeRaw(slot, locals, from, (i) => locals[i] * size, h.round, pages);
    } else if (h.type === FrameType.Pages && this.options.decoders) {
      // Page ranges by the kernel; codecs and lengths by the decoders.
      const checked = k.checkPages(
        bodyPtr,
        h.bodyLengthBytes,
        h.count,
        DESCRIPTOR_BYTES,
        layout.firstPage,
        layout.pageCount,
        0,
      );
      if (checked < 0) throw checkFailure(checked, h.round, slot, h.count, 'descriptors');
      try {
        this.counts.pages += decodePages(
          body,
          h.count,
          pages,
          size,
          layout.pageCount,
          layout.firstPage,
          this.options.decoders,
        );
      } catch (err) {
        if (err instanceof CodecError || err instanceof RangeError)
          throw new FrameError(`frame in round ${h.round}: ${err.message}`);
        throw err;
      }
      if (this.trackArrivals) this.arrivedPages(slot, localPages(body, h.count, DESCRIPTOR_BYTES, layout.firstPage));
    } else if (h.type === FrameType.Pages) {
      const checked = k.checkPages(
        bodyPtr,
        h.bodyLengthBytes,
        h.count,
        DESCRIPTOR_BYTES,
        layout.firstPage,
        layout.pageCount,
        size,
      );
      if (checked < 0) throw checkFailure(checked, h.round, slot, h.count, 'pages');
      if (frame.memory === target.memory && !this.meterResends) {
        // In the target slot's own memory: the unpack kernel copies four pages at a time.
        this.counts.pages += this.kernels[slot].unpackPages(
          layout.pagesPtr,
          size,
          layout.pageCount,
          layout.firstPage,
          bodyPtr,
          h.bodyLengthBytes,
          h.count,
        );
        if (this.trackArrivals) this.arrivedPages(slot, localPages(body, h.count, DESCRIPTOR_BYTES, layout.firstPage));
      } else {
        const locals = localPages(body, h.count, DESCRIPTOR_BYTES, layout.firstPage);
        const data = h.count * DESCRIPTOR_BYTES;
        this.placeRaw(slot, locals, body, (i) => data + i * size, h.round, pages);
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
  private placeRaw(
    slot: number,
    locals: Uint32Array,
    from: Uint8Array,
    at: (i: number) => number,
    round: number,
    pages: Uint8Array,
  ): void {
    const size = this.targetSlots[slot].layout.pageSizeBytes;
    if (this.meterResends && round > 0 && !this.trackArrivals)
      this.counts.unchanged += countSame(locals, from, at, pages, size);
    copyPages(locals, from, at, pages, size);
    this.counts.pages += locals.length;
    if (this.trackArrivals) this.arrivedPages(slot, locals);
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
export function receiverDecoders(
  targetSlots: SlotHandle[],
  kernels: Kernels[],
  userCodecs: readonly UserStrategyConfig[] = [],
): Map<number, PageCodec> {
  return createDecoders(targetSlots[0].layout.pageSizeBytes, {
    targetMemories: targetSlots.map((s, i) => ({ memory: s.memory, kernels: kernels[i] })),
    userCodecs,
  });
}

/** The slot-local numbers of `count` pages whose global u32 numbers lie `stride` bytes apart in `list` (already checked). */
function localPages(list: Uint8Array, count: number, stride: number, pageBase: number): Uint32Array {
  const view = new DataView(list.buffer, list.byteOffset, list.length);
  const locals = new Uint32Array(count);
  for (let i = 0; i < count; i++) locals[i] = view.getUint32(i * stride, true) - pageBase;
  return locals;
}

/** How many pages (page i's bytes at from[at(i)]) equal what the target holds for locals[i] (memcmp). */
function countSame(
  locals: Uint32Array,
  from: Uint8Array,
  at: (i: number) => number,
  pages: Uint8Array,
  size: number,
): number {
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
function copyPages(
  locals: Uint32Array,
  from: Uint8Array,
  at: (i: number) => number,
  pages: Uint8Array,
  size: number,
): void {
  for (let i = 0; i < locals.length;) {
    let run = 1;
    while (i + run < locals.length && locals[i + run] === locals[i] + run) run++;
    pages.set(from.subarray(at(i), at(i) + run * size), locals[i] * size);
    i += run;
  }
}
