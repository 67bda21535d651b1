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
import { ProceduralMemory, type ProceduralHandle } from '../memory/procedural.js';
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
  /** The run's procedural memory (src/memory/procedural.ts), when the pages are: the target keeps page states. */
  procedural?: ProceduralHandle | null;
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
   * Where set, a frame's pages are handed here instead of being marked arrived at once: the
   * caller marks them (markArrived) at the instant the frame arrives (the virtual clock's link).
   */
  onArrived?: (slot: number, locals: Uint32Array) => void;
  /**
   * The resend meter at the target (raw frames): a page of a pre-copy round after round 0 has been
   * sent before, and what the target holds is its last send, so it went again unchanged when its
   * new bytes equal those. Round 0 sends each page for the first time and costs nothing; only
   * pages sent again are compared (memcmp), where a per-page hash at the source would hash every
   * page of round 0. Off in post-copy, where a page may never have been sent.
   */
  meterResends = false;
  private readonly missing: Int32Array[];
  /** The target's procedural memory (src/memory/procedural.ts), or null: pages in the slots. */
  private readonly procedural: ProceduralMemory | null;
  /** Two pages where procedural pages are made to be compared. */
  private readonly scratch: Uint8Array;

  constructor(
    private readonly targetSlots: SlotHandle[],
    private readonly kernels: Kernels[],
    private readonly options: ReceiverOptions,
  ) {
    this.missing = targetSlots.map(
      (s) => new Int32Array(s.memory.buffer, s.layout.bitmapPtr, s.layout.bitmapWords * 2),
    );
    this.procedural = options.procedural ? new ProceduralMemory(options.procedural) : null;
    this.scratch = new Uint8Array(this.procedural ? 2 * options.procedural!.spec.pageSizeBytes : 0);
  }

  /**
   * Receives the frame at `frame` into target slot `slot`. `header`: the frame's header where the
   * caller has checked it already (the TCP receiver, as the bytes came in), else it is checked here.
   */
  receive(slot: number, frame: FrameAt, header?: FrameHeader): FrameType {
    const layout = this.targetSlots[slot].layout;
    const h =
      header ??
      parseFrameHeader(
        new DataView(frame.memory.buffer),
        frame.ptr,
        frame.lengthBytes,
        layout.frameBytes - HEADER_BYTES,
      );
    if (
      this.options.verifyChecksums &&
      frame.kernels.hash64(frame.ptr + HEADER_BYTES, h.bodyLengthBytes, 0n) !== h.checksum
    ) {
      throw new FrameError(`frame checksum mismatch in round ${h.round}`);
    }
    if (h.type === FrameType.PageRefs) this.receiveRefs(slot, frame, h);
    else if (h.type === FrameType.Pages && this.options.decoders)
      this.receiveEncoded(slot, frame, h, this.options.decoders);
    else if (h.type === FrameType.Pages) this.receiveRaw(slot, frame, h);
    else if (h.type === FrameType.DeviceState) this.counts.deviceStateBytes += h.bodyLengthBytes;
    this.counts.frames++;
    return h.type;
  }

  /** The target slot's page area (pages in memory only). */
  private pagesOf(slot: number): Uint8Array {
    const { memory, layout } = this.targetSlots[slot];
    return new Uint8Array(memory.buffer, layout.pagesPtr, layout.pageCount * layout.pageSizeBytes);
  }

  /** Whether the resend meter weighs this frame's pages (sent again, in pre-copy). */
  private metered(round: number): boolean {
    return this.meterResends && round > 0 && !this.trackArrivals;
  }

  /** Pages by reference: read from the source's memory, or (procedural) the states the frame lists after them. */
  private receiveRefs(slot: number, frame: FrameAt, h: FrameHeader): void {
    const layout = this.targetSlots[slot].layout;
    const bodyPtr = frame.ptr + HEADER_BYTES;
    const body = new Uint8Array(frame.memory.buffer, bodyPtr, h.bodyLengthBytes);
    const source = this.options.sourceSlots?.[slot];
    if (source === undefined)
      throw new FrameError(
        `a page-reference frame in round ${h.round}, but this receiver does not share the source's memory`,
      );
    const checked = frame.kernels.checkPages(
      bodyPtr,
      h.bodyLengthBytes,
      h.count,
      4,
      layout.firstPage,
      layout.pageCount,
      0,
    );
    if (checked < 0) throw checkFailure(checked, h.round, slot, h.count, 'page numbers');
    const locals = localPages(body, h.count, 4, layout.firstPage);
    if (this.procedural) {
      if (h.bodyLengthBytes < h.count * 8)
        throw new FrameError(`a page-reference frame in round ${h.round} without its pages' states`);
      const states = new Uint32Array(body.buffer.slice(body.byteOffset + h.count * 4, body.byteOffset + h.count * 8));
      this.acceptAll(slot, locals, states, null, h.round);
      return;
    }
    const size = layout.pageSizeBytes;
    const from = new Uint8Array(source.memory.buffer, source.layout.pagesPtr, layout.pageCount * size);
    this.placeRaw(slot, locals, from, (i) => locals[i] * size, h.round);
  }

  /**
   * A page frame's body, its descriptors checked by the kernel against the slot (and, for raw
   * pages, each a page long); the slot-local page numbers they name.
   */
  private checkedBody(
    slot: number,
    frame: FrameAt,
    h: FrameHeader,
    raw: boolean,
  ): { bodyPtr: number; body: Uint8Array; locals: Uint32Array } {
    const layout = this.targetSlots[slot].layout;
    const bodyPtr = frame.ptr + HEADER_BYTES;
    const body = new Uint8Array(frame.memory.buffer, bodyPtr, h.bodyLengthBytes);
    const checked = frame.kernels.checkPages(
      bodyPtr,
      h.bodyLengthBytes,
      h.count,
      DESCRIPTOR_BYTES,
      layout.firstPage,
      layout.pageCount,
      raw ? layout.pageSizeBytes : 0,
    );
    if (checked < 0) throw checkFailure(checked, h.round, slot, h.count, raw ? 'pages' : 'descriptors');
    return { bodyPtr, body, locals: localPages(body, h.count, DESCRIPTOR_BYTES, layout.firstPage) };
  }

  /** A frame of raw pages: checked by the kernel, then unpacked, copied or (procedural) checked against their states. */
  private receiveRaw(slot: number, frame: FrameAt, h: FrameHeader): void {
    const target = this.targetSlots[slot];
    const layout = target.layout;
    const size = layout.pageSizeBytes;
    const { bodyPtr, body, locals } = this.checkedBody(slot, frame, h, true);
    const data = h.count * DESCRIPTOR_BYTES;
    if (this.procedural) {
      this.acceptAll(
        slot,
        locals,
        this.statesOf(slot, frame, h),
        (i) => body.subarray(data + i * size, data + (i + 1) * size),
        h.round,
      );
    } else if (frame.memory === target.memory && !this.meterResends) {
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
      if (this.trackArrivals) this.arrived(slot, locals);
    } else {
      this.placeRaw(slot, locals, body, (i) => data + i * size, h.round);
    }
  }

  /** A frame of encoded pages: page ranges checked by the kernel, codecs and lengths by the decoders. */
  private receiveEncoded(slot: number, frame: FrameAt, h: FrameHeader, decoders: Map<number, PageCodec>): void {
    const layout = this.targetSlots[slot].layout;
    const size = layout.pageSizeBytes;
    const { body, locals } = this.checkedBody(slot, frame, h, false);
    try {
      if (this.procedural) {
        // Each page is decoded onto the target's bytes of it, made from its state, then checked.
        const states = this.statesOf(slot, frame, h);
        const decoded = new Uint8Array(size);
        const pm = this.procedural;
        const into = (local: number): Uint8Array => {
          pm.targetBytes(layout.firstPage + local, decoded);
          return decoded;
        };
        let i = 0;
        this.counts.pages += decodePages(
          body,
          h.count,
          into,
          size,
          layout.pageCount,
          layout.firstPage,
          decoders,
          () => {
            this.acceptOne(slot, locals[i], states[i], decoded, false);
            i++;
          },
        );
      } else {
        this.counts.pages += decodePages(
          body,
          h.count,
          this.pagesOf(slot),
          size,
          layout.pageCount,
          layout.firstPage,
          decoders,
        );
      }
    } catch (err) {
      if (err instanceof CodecError || err instanceof RangeError)
        throw new FrameError(`frame in round ${h.round}: ${err.message}`);
      throw err;
    }
    if (this.trackArrivals) this.arrived(slot, locals);
  }

  /** The states of a packed frame's pages, beside its buffer in the memory it lies in (SlotLayout.statesPtr). */
  private statesOf(slot: number, frame: FrameAt, h: FrameHeader): Uint32Array {
    const l = this.options.sourceSlots?.[slot]?.layout ?? this.targetSlots[slot].layout;
    const index = (frame.ptr - l.framesPtr) / l.frameBytes;
    if (!Number.isInteger(index) || index < 0 || index >= l.frameBuffers || h.count > l.pagesPerFrame)
      throw new FrameError(`a frame in round ${h.round} outside the frame buffers, where its pages' states would be`);
    return new Uint32Array(frame.memory.buffer, l.statesPtr + index * l.pagesPerFrame * 4, h.count);
  }

  /** Procedural pages into the target: each kept in its state, after its bytes (where given) are checked. */
  private acceptAll(
    slot: number,
    locals: Uint32Array,
    states: Uint32Array,
    bytes: ((i: number) => Uint8Array) | null,
    round: number,
  ): void {
    const meter = this.metered(round);
    for (let i = 0; i < locals.length; i++) this.acceptOne(slot, locals[i], states[i], bytes?.(i) ?? null, meter);
    this.counts.pages += locals.length;
    if (this.trackArrivals) this.arrived(slot, locals);
  }

  private acceptOne(slot: number, local: number, state: number, bytes: Uint8Array | null, meter: boolean): void {
    const pm = this.procedural as ProceduralMemory;
    const page = this.targetSlots[slot].layout.firstPage + local;
    // Bytes that are not the state's stay with the page (CORRUPT): verification finds them, as in memory.
    const { same } = pm.accept(page, state, bytes, this.scratch, meter);
    if (same) this.counts.unchanged++;
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
  ): void {
    const size = this.targetSlots[slot].layout.pageSizeBytes;
    const pages = this.pagesOf(slot);
    if (this.metered(round)) this.counts.unchanged += countSame(locals, from, at, pages, size);
    copyPages(locals, from, at, pages, size);
    this.counts.pages += locals.length;
    if (this.trackArrivals) this.arrived(slot, locals);
  }

  private arrived(slot: number, locals: Uint32Array): void {
    if (this.onArrived) this.onArrived(slot, locals);
    else this.markArrived(slot, locals);
  }

  /** These pages have arrived: clear their bits and wake blocked vCPUs. */
  markArrived(slot: number, locals: Uint32Array): void {
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
