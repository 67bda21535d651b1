/**
 * QEMU's multifd channels as its loop sees them (QEMU-POSTCOPY.md part B; multifd.c, multifd.h):
 * each channel a thread writing one packet at a time, picked as the first idle one after the last
 * used; a packet's bytes count (multifd-bytes, migration_transferred_bytes, the rate limit) only
 * once its write has completed. The QEMU loop (qemu.ts) decides what goes when; a MultifdChannels
 * keeps the channels' state and their counts, in one of two ways:
 * - ModelledChannels (the virtual clock): each channel's time, modelled. Over an unlimited link
 *   each writes at the host's copy rate on a stream of its own; over a link of finite rate they
 *   take it in turn.
 * - SocketChannels (over TCP): each channel a connection of its own; a packet's write completes
 *   when its frames' socket writes have (SendPort.laneWritten), as a channel thread's writev returns.
 * A SYNC packet and each channel's init message are counted, as QEMU counts them, once the writes
 * before them on the channel are done; they are not frames on migbench's wire.
 */

/** MULTIFD_PACKET_SIZE: a multifd packet's pages, 512 KiB of them (128 at 4 KiB). */
const MULTIFD_PACKET_BYTES = 512 * 1024;
/** MultiFDPacket_t's fixed part; with 8 bytes per page offset, 1,344 bytes at 4 KiB pages (multifd.h). */
const MULTIFD_PACKET_FIXED_BYTES = 320;
/** MultiFDInit_t: each channel's first message. */
export const MULTIFD_INIT_BYTES = 64;
/** RAM_SAVE_FLAG_MULTIFD_FLUSH on the main channel at each per-round sync. */
export const MULTIFD_FLUSH_BYTES = 8;

export interface MultifdChannels {
  /** Pages a packet holds. */
  readonly pagesPerPacket: number;
  /** A packet's header, and a SYNC packet's whole size. */
  readonly headerBytes: number;
  /** multifd-bytes counted so far. */
  readonly bytes: number;
  /** The first idle channel after the last used, at `nowMs`; -1 when all are busy. */
  idle(nowMs: number): number;
  /** Waits until a channel is idle. */
  waitIdle(): Promise<void>;
  /** Waits until every channel is idle. */
  waitAllIdle(): Promise<void>;
  /** `channel` takes a packet: the next search starts after it. */
  take(channel: number): void;
  /** `channel` writes `bytes` from `fromMs`, after what it has under way; they count once written. */
  write(channel: number, fromMs: number, bytes: number): void;
  /** Every channel writes `bytes` from `fromMs` (the init messages, a sync's SYNC packets). */
  writeAll(fromMs: number, bytes: number): void;
  /** The bytes of the writes completed by `nowMs` not counted yet (added to multifd-bytes). */
  settle(nowMs: number): number;
}

/** A packet's pages and header at this page size. */
function packetShape(pageSizeBytes: number): { pagesPerPacket: number; headerBytes: number } {
  const pagesPerPacket = Math.max(1, Math.floor(MULTIFD_PACKET_BYTES / pageSizeBytes));
  return { pagesPerPacket, headerBytes: MULTIFD_PACKET_FIXED_BYTES + 8 * pagesPerPacket };
}

/** The channels in simulated time: when each is free, and what it has under way. */
export class ModelledChannels implements MultifdChannels {
  readonly pagesPerPacket: number;
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
    /** Lets simulated time pass to `ms`. */
    private readonly sleepUntil: (ms: number) => Promise<void>,
  ) {
    ({ pagesPerPacket: this.pagesPerPacket, headerBytes: this.headerBytes } = packetShape(pageSizeBytes));
    this.freeAtMs = new Array<number>(channels).fill(nowMs);
    this.lastEndMs = nowMs;
  }

  get channels(): number {
    return this.freeAtMs.length;
  }

  idle(nowMs: number): number {
    for (let k = 0; k < this.channels; k++) {
      const c = (this.next + k) % this.channels;
      if (this.freeAtMs[c] <= nowMs) return c;
    }
    return -1;
  }

  waitIdle(): Promise<void> {
    return this.sleepUntil(Math.min(...this.freeAtMs));
  }

  waitAllIdle(): Promise<void> {
    return this.sleepUntil(Math.max(...this.freeAtMs));
  }

  take(channel: number): void {
    this.next = (channel + 1) % this.channels;
  }

  write(channel: number, fromMs: number, bytes: number): void {
    let startMs = Math.max(fromMs, this.freeAtMs[channel]);
    if (this.serial) startMs = Math.max(startMs, this.lastEndMs);
    const endMs = startMs + bytes / this.rateBytesPerMs;
    this.freeAtMs[channel] = endMs;
    this.lastEndMs = Math.max(this.lastEndMs, endMs);
    this.pending.push({ atMs: endMs, bytes });
  }

  writeAll(fromMs: number, bytes: number): void {
    for (let c = 0; c < this.channels; c++) this.write(c, fromMs, bytes);
  }

  settle(nowMs: number): number {
    if (!this.pending.some((w) => w.atMs <= nowMs)) return 0;
    let bytes = 0;
    for (const w of this.pending) if (w.atMs <= nowMs) bytes += w.bytes;
    this.pending = this.pending.filter((w) => w.atMs > nowMs);
    this.bytes += bytes;
    return bytes;
  }
}

/**
 * The channels as connections (over TCP): a channel is busy while writes handed to it are not
 * complete; their bytes count once they are.
 */
export class SocketChannels implements MultifdChannels {
  readonly pagesPerPacket: number;
  readonly headerBytes: number;
  bytes = 0;
  private next = 0;
  /** Per channel: writes not complete, and the last one's completion. */
  private readonly pendingWrites: number[];
  private readonly last: (Promise<void> | null)[];
  /** Bytes of completed writes not counted yet. */
  private completed = 0;

  constructor(
    channels: number,
    pageSizeBytes: number,
    /** Waits until every frame sent on the channel so far is written. */
    private readonly written: (channel: number) => Promise<void>,
  ) {
    ({ pagesPerPacket: this.pagesPerPacket, headerBytes: this.headerBytes } = packetShape(pageSizeBytes));
    this.pendingWrites = new Array<number>(channels).fill(0);
    this.last = new Array<Promise<void> | null>(channels).fill(null);
  }

  idle(): number {
    const n = this.pendingWrites.length;
    for (let k = 0; k < n; k++) {
      const c = (this.next + k) % n;
      if (this.pendingWrites[c] === 0) return c;
    }
    return -1;
  }

  async waitIdle(): Promise<void> {
    if (this.idle() < 0) await Promise.race(this.last);
  }

  async waitAllIdle(): Promise<void> {
    await Promise.all(this.last);
  }

  take(channel: number): void {
    this.next = (channel + 1) % this.pendingWrites.length;
  }

  write(channel: number, _fromMs: number, bytes: number): void {
    this.pendingWrites[channel]++;
    const done = this.written(channel).then(() => {
      this.pendingWrites[channel]--;
      this.completed += bytes;
    });
    // A failed channel fails the run where it is next awaited (or at the next send): not here.
    done.catch(() => undefined);
    this.last[channel] = done;
  }

  writeAll(fromMs: number, bytes: number): void {
    for (let c = 0; c < this.pendingWrites.length; c++) this.write(c, fromMs, bytes);
  }

  settle(): number {
    const bytes = this.completed;
    this.completed = 0;
    this.bytes += bytes;
    return bytes;
  }
}
