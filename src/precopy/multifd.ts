/**
 * QEMU's multifd channels as its loop sees them (QEMU-POSTCOPY.md part B; multifd.c, multifd.h):
 * each channel a thread writing one packet at a time, picked as the first idle one after the last
 * used; a packet's bytes count (multifd-bytes, migration_transferred_bytes, the rate limit) only
 * once its write has completed. Over an unlimited link each channel writes at the host's copy rate
 * on a stream of its own; over a link of finite rate they take it in turn. The QEMU loop
 * (qemu.ts) decides what goes when; this keeps the channels' time and their counts.
 */

/** MULTIFD_PACKET_SIZE: a multifd packet's pages, 512 KiB of them (128 at 4 KiB). */
const MULTIFD_PACKET_BYTES = 512 * 1024;
/** MultiFDPacket_t's fixed part; with 8 bytes per page offset, 1,344 bytes at 4 KiB pages (multifd.h). */
const MULTIFD_PACKET_FIXED_BYTES = 320;
/** MultiFDInit_t: each channel's first message. */
export const MULTIFD_INIT_BYTES = 64;
/** RAM_SAVE_FLAG_MULTIFD_FLUSH on the main channel at each per-round sync. */
export const MULTIFD_FLUSH_BYTES = 8;

export class MultifdChannels {
  /** Pages a packet holds. */
  readonly pagesPerPacket: number;
  /** A packet's header, and a SYNC packet's whole size. */
  readonly headerBytes: number;
  private readonly freeAtMs: number[];
  /** The channel after the last used (multifd_send's static next_channel). */
  private next = 0;
  private lastEndMs: number;
  /** Writes under way: when each completes and its bytes count. */
  private pending: Array<{ atMs: number; bytes: number }> = [];
  /** multifd-bytes counted so far. */
  bytes = 0;

  constructor(
    channels: number,
    pageSizeBytes: number,
    /** Bytes per ms one channel writes. */
    private readonly rateBytesPerMs: number,
    /** The channels share a link of finite rate, in turn. */
    private readonly serial: boolean,
    nowMs: number,
  ) {
    this.pagesPerPacket = Math.max(1, Math.floor(MULTIFD_PACKET_BYTES / pageSizeBytes));
    this.headerBytes = MULTIFD_PACKET_FIXED_BYTES + 8 * this.pagesPerPacket;
    this.freeAtMs = new Array<number>(channels).fill(nowMs);
    this.lastEndMs = nowMs;
  }

  get channels(): number {
    return this.freeAtMs.length;
  }

  /** The first idle channel after the last used, at `nowMs`; -1 when all are busy. */
  idle(nowMs: number): number {
    for (let k = 0; k < this.channels; k++) {
      const c = (this.next + k) % this.channels;
      if (this.freeAtMs[c] <= nowMs) return c;
    }
    return -1;
  }

  /** When the first busy channel is free. */
  firstFreeMs(): number {
    return Math.min(...this.freeAtMs);
  }

  /** When every channel is free. */
  allFreeMs(): number {
    return Math.max(...this.freeAtMs);
  }

  /** `channel` takes a packet: the next search starts after it. */
  take(channel: number): void {
    this.next = (channel + 1) % this.channels;
  }

  /** `channel` writes `bytes` from `fromMs`, after what it has under way; they count once written. */
  write(channel: number, fromMs: number, bytes: number): void {
    let startMs = Math.max(fromMs, this.freeAtMs[channel]);
    if (this.serial) startMs = Math.max(startMs, this.lastEndMs);
    const endMs = startMs + bytes / this.rateBytesPerMs;
    this.freeAtMs[channel] = endMs;
    this.lastEndMs = Math.max(this.lastEndMs, endMs);
    this.pending.push({ atMs: endMs, bytes });
  }

  /** Every channel writes `bytes` from `fromMs` (the init messages, a sync's SYNC packets). */
  writeAll(fromMs: number, bytes: number): void {
    for (let c = 0; c < this.channels; c++) this.write(c, fromMs, bytes);
  }

  /** The bytes of the writes completed by `nowMs` not counted yet (added to multifd-bytes). */
  settle(nowMs: number): number {
    if (!this.pending.some((w) => w.atMs <= nowMs)) return 0;
    let bytes = 0;
    for (const w of this.pending) if (w.atMs <= nowMs) bytes += w.bytes;
    this.pending = this.pending.filter((w) => w.atMs > nowMs);
    this.bytes += bytes;
    return bytes;
  }
}
