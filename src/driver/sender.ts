/**
 * Sends page lists as frames: the driver's per-page path. Pages are packed by the kernel straight
 * from guest memory into a frame buffer of the same slot, checksummed, and handed to the channel.
 */
import type { GuestMemory } from '../memory/guest-memory.js';
import type { FrameBuffer, Transport } from '../channel/transport.js';
import type { Clock } from '../clock/clock.js';
import type { DirtyLog } from '../dirtylog/dirty-log.js';
import { FrameType, HEADER_BYTES, writeFrameHeader } from '../wire/frame.js';
import type { EncodedBody, FrameEncoding } from '../codec/encoding.js';
import { CODEC_IDS, MAX_USER_CODECS, USER_CODEC_BASE_ID } from '../codec/codec.js';
import { countCodec, noTotals, type SendHow, type SendTotals } from '../precopy/port.js';
import { DESCRIPTOR_BYTES } from '../kernel/types.js';
import { MAX_ENCODED_BYTES } from '../codec/frame-codec.js';

/** Codec ids a frame's descriptors may carry: the built-in ones and the user's (USER_CODEC_BASE_ID + n). */
const CODEC_ID_LIMIT = USER_CODEC_BASE_ID + MAX_USER_CODECS;

export class Sender {
  private readonly views: DataView[];
  /** Bytes of every frame handed to the channel so far (the run's series samples it). */
  sentBytes = 0;

  /**
   * `checkpoint` runs before every frame: it throws to abandon a round (timeout, interrupt).
   * `encoding` is absent for raw pages (the pack kernel); `chargeCpu`, when given, is handed the
   * CPU time of each frame's packing or encoding (the virtual clock's --charge-cpu).
   */
  constructor(
    private readonly source: GuestMemory,
    private readonly channel: Transport,
    private readonly dirtyLog: DirtyLog,
    /** The run's clock: the sender waits the dirty log's host costs on it (src/dirtylog/cost.ts). */
    private readonly clock: Clock,
    private readonly checkpoint: () => void,
    private readonly encoding?: FrameEncoding,
    private readonly chargeCpu?: (ms: number) => Promise<void>,
  ) {
    this.views = source.slots.map((s) => new DataView(s.memory.buffer));
  }

  /** Writes the slot-local page numbers 0 .. pageCount-1 into the slot's list: round 0 sends all. */
  listAllPages(slot: number): number {
    const l = this.source.slots[slot].layout;
    const list = new Uint32Array(this.source.slots[slot].memory.buffer, l.listPtr, l.pageCount);
    for (let i = 0; i < l.pageCount; i++) list[i] = i;
    return l.pageCount;
  }

  /**
   * Sends the first `count` pages of the slot's list as frames of round `round` (see SendHow).
   */
  async sendList(slot: number, count: number, round: number, how: SendHow = {}): Promise<SendTotals> {
    const firstPass = how.firstPass ?? round === 0;
    if (this.encoding) return this.sendEncoded(this.encoding, slot, count, round, firstPass, how);
    const l = this.source.slots[slot].layout;
    const k = this.source.kernels[slot];
    const totals = noTotals();
    // Pages go by reference where the receiver reads the source's memory; that transport meters
    // raw pages itself.
    const refs = this.channel.pageRefs;
    for (let off = 0; off < count; off += l.pagesPerFrame) {
      const n = Math.min(l.pagesPerFrame, count - off);
      if (refs) {
        this.checkpoint();
        this.dirtyLog.service(this.clock.nowMs());
        await this.dirtyLog.costs.meter.pay(this.clock);
        const bytes = await refs.send(slot, off, n, round, () => this.dirtyLog.beforeSend(slot, off, n, firstPass));
        this.sentBytes += bytes;
        totals.bytes += bytes;
        totals.pages += n;
        countCodec(totals, CODEC_IDS.raw, n, 0, n * l.pageSizeBytes);
        continue;
      }
      const buf = await this.nextBuffer(slot, off, n, firstPass, totals);
      const t0 = performance.now();
      const body = buf.ptr + HEADER_BYTES;
      const pm = this.source.procedural;
      const len = pm
        ? pm.packRaw(this.listOf(slot, off, n), l.firstPage, this.bodyOf(buf, n), this.statesOf(buf, n))
        : k.packPages(
            l.pagesPtr,
            l.pageSizeBytes,
            l.listPtr + off * 4,
            n,
            l.firstPage,
            body,
            buf.capacityBytes - HEADER_BYTES,
          );
      if (len < 0) throw new Error(`frame buffer too small for ${n} pages`);
      await this.chargeCpu?.(performance.now() - t0);
      this.finish(buf, FrameType.Pages, n, len, round, how.lane);
      totals.pages += n;
      totals.bytes += HEADER_BYTES + len;
      countCodec(totals, CODEC_IDS.raw, n, 0, n * l.pageSizeBytes);
    }
    return totals;
  }

  /**
   * The codec path: frames are encoded by the encoding's lanes, several at once, and handed to the
   * channel in the order their buffers were taken (the channel frees buffers in that order).
   */
  private async sendEncoded(
    encoding: FrameEncoding,
    slot: number,
    count: number,
    round: number,
    firstPass: boolean,
    { phase, lane: channel }: SendHow,
  ): Promise<SendTotals> {
    const l = this.source.slots[slot].layout;
    const totals = noTotals();
    const segments =
      encoding.lanes > 1 && encoding.sticky
        ? this.partitionByLane(slot, count, encoding.lanes)
        : [{ offset: 0, count, lane: -1 }];
    const inflight: { buf: FrameBuffer; n: number; body: Promise<EncodedBody> }[] = [];
    const finishOldest = async (): Promise<void> => {
      const f = inflight.shift() as (typeof inflight)[number];
      const { bodyLength, cpuMs } = await f.body;
      await this.chargeCpu?.(cpuMs / encoding.lanes);
      this.countCodecs(f.buf, f.n, l.pageSizeBytes, totals);
      this.finish(f.buf, FrameType.Pages, f.n, bodyLength, round, channel);
      totals.pages += f.n;
      totals.bytes += HEADER_BYTES + bodyLength;
    };
    let next = 0;
    try {
      for (const seg of segments) {
        for (let off = seg.offset; off < seg.offset + seg.count; off += l.pagesPerFrame) {
          while (inflight.length >= encoding.depth) await finishOldest();
          const n = Math.min(l.pagesPerFrame, seg.offset + seg.count - off);
          const buf = await this.nextBuffer(slot, off, n, firstPass, totals);
          const lane = seg.lane >= 0 ? seg.lane : next++ % encoding.lanes;
          const body = encoding.encode(
            lane,
            slot,
            l.listPtr + off * 4,
            n,
            buf.ptr + HEADER_BYTES,
            buf.capacityBytes - HEADER_BYTES,
            phase,
          );
          body.catch(() => undefined); // awaited in order below; a failure must not go unhandled meanwhile
          inflight.push({ buf, n, body });
        }
      }
      while (inflight.length > 0) await finishOldest();
    } finally {
      // Abandoned (timeout, interrupt, error): let encodings in flight end before buffers are reused.
      await Promise.allSettled(inflight.map((f) => f.body));
    }
    return totals;
  }

  /** Per frame, before its pages are copied: checks, the dirty log's clear, the resend meter. */
  private async nextBuffer(
    slot: number,
    off: number,
    n: number,
    firstPass: boolean,
    totals: SendTotals,
  ): Promise<FrameBuffer> {
    this.checkpoint();
    this.dirtyLog.service(this.clock.nowMs());
    const l = this.source.slots[slot].layout;
    const buf = await this.channel.acquire(slot);
    this.dirtyLog.beforeSend(slot, off, n, firstPass);
    await this.dirtyLog.costs.meter.pay(this.clock); // the harvest and the clear, before the copy
    const pm = this.source.procedural;
    // The resend meter, unless the transport runs it over the packed raw frames itself.
    if (!(this.channel.resendMeter && !this.encoding)) {
      totals.unchanged += pm
        ? pm.countUnchanged(this.listOf(slot, off, n), l.firstPage, this.scratch(), pm.remoteTarget)
        : this.source.kernels[slot].countUnchanged(l.pagesPtr, l.pageSizeBytes, l.listPtr + off * 4, n, l.hashesPtr);
    }
    // Procedural pages an encoder reads later: their states now, which the frame stands for.
    if (pm && this.encoding) pm.snapshot(this.listOf(slot, off, n), l.firstPage, this.statesOf(buf, n));
    return buf;
  }

  /** `n` pages of the slot's list from `off`. */
  private listOf(slot: number, off: number, n: number): Uint32Array {
    const s = this.source.slots[slot];
    return new Uint32Array(s.memory.buffer, s.layout.listPtr + off * 4, n);
  }

  /** A frame buffer's body, room for `n` raw pages. */
  private bodyOf(buf: FrameBuffer, n: number): Uint8Array {
    const s = this.source.slots[buf.slot];
    return new Uint8Array(s.memory.buffer, buf.ptr + HEADER_BYTES, n * (DESCRIPTOR_BYTES + s.layout.pageSizeBytes));
  }

  /** The states of a frame buffer's pages (SlotLayout.statesPtr). */
  private statesOf(buf: FrameBuffer, n: number): Uint32Array {
    const s = this.source.slots[buf.slot];
    return new Uint32Array(s.memory.buffer, s.layout.statesPtr + buf.index * s.layout.pagesPerFrame * 4, n);
  }

  /** Two pages where the procedural resend meter makes pages to compare. */
  private scratch(): Uint8Array {
    return (this.scratchPages ??= new Uint8Array(2 * this.source.layout.pageSizeBytes));
  }

  private scratchPages?: Uint8Array;

  /**
   * Reorders the slot's list so each lane's pages are contiguous (a stable partition by 64-page
   * block): a page always goes to the same encoder thread, where its xbzrle cache entry lives.
   */
  private partitionByLane(
    slot: number,
    count: number,
    lanes: number,
  ): { offset: number; count: number; lane: number }[] {
    const s = this.source.slots[slot];
    const list = new Uint32Array(s.memory.buffer, s.layout.listPtr, count);
    const byLane: number[][] = Array.from({ length: lanes }, () => []);
    for (const page of list) byLane[(page >>> 6) % lanes].push(page);
    const segments: { offset: number; count: number; lane: number }[] = [];
    let at = 0;
    byLane.forEach((pages, lane) => {
      list.set(pages, at);
      if (pages.length > 0) segments.push({ offset: at, count: pages.length, lane });
      at += pages.length;
    });
    return segments;
  }

  /** Adds an encoded frame's pages to the totals by codec, from its descriptors (codec id, length). */
  private countCodecs(buf: FrameBuffer, count: number, pageSizeBytes: number, totals: SendTotals): void {
    const view = this.views[buf.slot];
    const at = buf.ptr + HEADER_BYTES;
    const pages = new Array<number>(CODEC_ID_LIMIT).fill(0);
    const empty = new Array<number>(CODEC_ID_LIMIT).fill(0);
    const bytes = new Array<number>(CODEC_ID_LIMIT).fill(0);
    for (let i = 0; i < count; i++) {
      const word = view.getUint32(at + i * DESCRIPTOR_BYTES + 4, true);
      const id = word >>> 24;
      const length = word & MAX_ENCODED_BYTES;
      pages[id]++;
      if (length === 0) empty[id]++;
      bytes[id] += id === CODEC_IDS.raw ? pageSizeBytes : length;
    }
    for (let id = 0; id < CODEC_ID_LIMIT; id++)
      if (pages[id] > 0) countCodec(totals, id, pages[id], empty[id], bytes[id]);
  }

  /** Sends a non-page frame whose body is `body` (device state, end of migration, announce). */
  async sendBlob(type: FrameType, body: Uint8Array, round: number): Promise<number> {
    const buf = await this.channel.acquire(0);
    if (body.length > buf.capacityBytes - HEADER_BYTES)
      throw new Error(`${body.length}-byte frame body exceeds a frame buffer`);
    new Uint8Array(this.source.slots[0].memory.buffer).set(body, buf.ptr + HEADER_BYTES);
    this.finish(buf, type, 0, body.length, round);
    return HEADER_BYTES + body.length;
  }

  private finish(
    buf: FrameBuffer,
    type: FrameType,
    count: number,
    bodyLengthBytes: number,
    round: number,
    lane?: number,
  ): void {
    const checksum = this.channel.checksums
      ? this.source.kernels[buf.slot].hash64(buf.ptr + HEADER_BYTES, bodyLengthBytes, 0n)
      : 0n;
    writeFrameHeader(this.views[buf.slot], buf.ptr, { type, count, bodyLengthBytes, round, checksum });
    this.sentBytes += HEADER_BYTES + bodyLengthBytes;
    this.channel.send(buf, HEADER_BYTES + bodyLengthBytes, lane);
  }
}
