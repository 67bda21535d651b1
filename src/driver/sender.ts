/**
 * Sends page lists as frames: the driver's per-page path. Pages are packed by the kernel straight
 * from guest memory into a frame buffer of the same slot, checksummed, and handed to the channel.
 */
import type { GuestMemory } from '../memory/guest-memory.js';
import type { FrameBuffer, Transport } from './parts.js';
import type { DirtyLog } from '../dirtylog/dirty-log.js';
import { FrameType, HEADER_BYTES, writeFrameHeader } from '../wire/frame.js';

export interface SendTotals {
  pages: number;
  /** Bytes on the wire, headers and descriptors included. */
  bytes: number;
  /** Pages whose bytes had not changed since they were last sent. */
  unchanged: number;
}

export class Sender {
  private readonly views: DataView[];

  /** `checkpoint` runs before every frame: it throws to abandon a round (timeout, interrupt). */
  constructor(
    private readonly source: GuestMemory,
    private readonly channel: Transport,
    private readonly dirtyLog: DirtyLog,
    private readonly checkpoint: () => void,
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

  /** Sends the first `count` pages of the slot's list. */
  async sendList(slot: number, count: number, round: number): Promise<SendTotals> {
    const l = this.source.slots[slot].layout;
    const k = this.source.kernels[slot];
    const totals: SendTotals = { pages: 0, bytes: 0, unchanged: 0 };
    for (let off = 0; off < count; off += l.pagesPerFrame) {
      this.checkpoint();
      this.dirtyLog.service();
      const n = Math.min(l.pagesPerFrame, count - off);
      const buf = await this.channel.acquire(slot);
      const listPtr = l.listPtr + off * 4;
      this.dirtyLog.beforeSend(slot, off, n, round === 0);
      totals.unchanged += k.countUnchanged(l.pagesPtr, l.pageSizeBytes, listPtr, n, l.hashesPtr);
      const body = buf.ptr + HEADER_BYTES;
      const len = k.packPages(l.pagesPtr, l.pageSizeBytes, listPtr, n, l.firstPage, body, buf.capacityBytes - HEADER_BYTES);
      if (len < 0) throw new Error(`frame buffer too small for ${n} pages`);
      this.finish(buf, FrameType.Pages, n, len, round);
      totals.pages += n;
      totals.bytes += HEADER_BYTES + len;
    }
    return totals;
  }

  /** Sends a non-page frame whose body is `body` (device state, end of migration, announce). */
  async sendBlob(type: FrameType, body: Uint8Array, round: number): Promise<number> {
    const buf = await this.channel.acquire(0);
    if (body.length > buf.capacityBytes - HEADER_BYTES) throw new Error(`${body.length}-byte frame body exceeds a frame buffer`);
    new Uint8Array(this.source.slots[0].memory.buffer).set(body, buf.ptr + HEADER_BYTES);
    this.finish(buf, type, 0, body.length, round);
    return HEADER_BYTES + body.length;
  }

  private finish(buf: FrameBuffer, type: FrameType, count: number, bodyLengthBytes: number, round: number): void {
    const checksum = this.channel.checksums ? this.source.kernels[buf.slot].hash64(buf.ptr + HEADER_BYTES, bodyLengthBytes, 0n) : 0n;
    writeFrameHeader(this.views[buf.slot], buf.ptr, { type, count, bodyLengthBytes, round, checksum });
    this.channel.send(buf, HEADER_BYTES + bodyLengthBytes);
  }
}
