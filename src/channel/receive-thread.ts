/**
 * A receiving thread in this process: a piscina worker (channel-worker.ts) that takes frames from
 * the source's frame buffers through a shared queue and receives them into target memory, paced
 * on a link in real time or, for the virtual clock, unpaced (simulated time paces the link there).
 * The driver packs frames straight into the source slot's frame buffers and hands them over
 * through the queue; nothing is copied on the driver's thread.
 */
import { Piscina } from 'piscina';
import type { ChannelReport, ChannelTask } from './messages.js';
import type { GuestShape } from '../memory/layout.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { Link } from '../link/link.js';
import type { UserStrategyConfig } from '../util/user-file.js';
import type { ReadProgress } from '../memory/write-gate.js';
import { ChannelError, type FrameBuffer } from './transport.js';
import {
  CLOSED,
  ERROR,
  HEAD,
  POSTCOPY,
  RELEASED,
  STARTED,
  STAT_BYTES,
  STAT_UNCHANGED,
  STAT_LAST_DELIVERY_EPOCH_MS,
  STAT_RATE_BITS_PER_SEC,
  TAIL,
  createQueue,
  pushEntry,
  queueViews,
  type QueueViews,
} from './queue.js';

/** How long acquire() blocks the driver's thread on a busy channel before it waits asynchronously. */
const SYNC_WAIT_MS = 2;
/** A reader that receives nothing for this long has stalled: a ChannelError. */
const RECEIVE_STALL_MS = 10_000;

const CHANNEL_WORKER = new URL('./channel-worker.js', import.meta.url).href;

export interface ReceiveThreadOptions {
  /** The link the thread paces frames on; null: unpaced (the virtual clock's). */
  link: Link | null;
  /** Page codecs are on: frames are decoded. */
  codecs: boolean;
  /** The thread runs the resend meter over raw frames (FrameReceiver.meterResends). */
  meter: boolean;
  /** The user's codec files of the run (the thread imports them). */
  userCodecs?: UserStrategyConfig[];
}

export class ReceiveThread {
  private readonly pool: Piscina;
  private readonly queueSab: SharedArrayBuffer;
  private readonly q: QueueViews;
  private readonly handedOut: number[];
  private task?: Promise<ChannelReport>;
  private closing?: Promise<void>;

  constructor(
    private readonly source: GuestMemory,
    private readonly target: GuestMemory,
    private readonly module: WebAssembly.Module,
    private readonly options: ReceiveThreadOptions,
  ) {
    const buffers = source.slots.reduce((n, s) => n + s.layout.frameBuffers, 0);
    this.queueSab = createQueue(buffers, source.slots.length);
    this.q = queueViews(this.queueSab);
    this.handedOut = source.slots.map(() => 0);
    this.pool = new Piscina({ filename: CHANNEL_WORKER, minThreads: 1, maxThreads: 1, idleTimeout: Infinity });
  }

  /** The thread is up and answers. */
  async connect(): Promise<void> {
    await this.pool.run(null, { name: 'ping' });
  }

  /**
   * Starts receiving into the target memory; resolves once the thread runs. A driver that never
   * yields to the event loop (the virtual clock's) may otherwise send a whole round before piscina
   * hands the thread its task.
   */
  async open(guest: GuestShape): Promise<void> {
    const task: ChannelTask = {
      kind: 'channel',
      module: this.module,
      sourceSlots: this.source.slots,
      targetSlots: this.target.slots,
      guest,
      queue: this.queueSab,
      link: this.options.link?.shared ?? null,
      linkUser: this.options.link?.user ?? -1,
      codecs: this.options.codecs,
      userCodecs: this.options.userCodecs ?? [],
      meter: this.options.meter,
      procedural: this.target.procedural?.handle ?? null,
    };
    this.task = this.pool.run(task, { name: 'channel' }) as Promise<ChannelReport>;
    // A crashed worker must surface as a channel error, not as an unhandled rejection.
    this.task.catch(() => Atomics.store(this.q.i32, ERROR, 1));
    while (Atomics.load(this.q.i32, STARTED) === 0) {
      if (this.failed()) throw await this.failure();
      const wait = Atomics.waitAsync(this.q.i32, STARTED, 0, 100);
      if (wait.async) await wait.value;
    }
  }

  failed(): boolean {
    return Atomics.load(this.q.i32, ERROR) === 1;
  }

  /** Waits for a free frame buffer of `slot` (the thread frees them as frames leave). */
  async acquire(slot: number): Promise<FrameBuffer> {
    const layout = this.source.slots[slot].layout;
    const waitedSince = performance.now();
    for (;;) {
      const released = Atomics.load(this.q.i32, RELEASED + slot);
      if (this.handedOut[slot] - released < layout.frameBuffers) break;
      if (this.failed()) throw await this.failure();
      // A buffer comes free within a frame's time on the wire or in the receiver: wait for it here,
      // as a blocked thread is woken far sooner than a promise through the event loop (a 4 GiB
      // virtual-clock round 0 spent a third of its wall time waiting so). Past SYNC_WAIT_MS (a slow
      // link) the event loop gets its turns while waiting.
      if (performance.now() - waitedSince < SYNC_WAIT_MS) {
        Atomics.wait(this.q.i32, RELEASED + slot, released, SYNC_WAIT_MS);
        continue;
      }
      const wait = Atomics.waitAsync(this.q.i32, RELEASED + slot, released, 100);
      if (wait.async) await wait.value;
    }
    const index = this.handedOut[slot]++ % layout.frameBuffers;
    return { slot, index, ptr: layout.framesPtr + index * layout.frameBytes, capacityBytes: layout.frameBytes };
  }

  trackArrivals(): void {
    Atomics.store(this.q.i32, POSTCOPY, 1);
  }

  /** This migration's rate cap from now on; null: the link's rate. */
  setCap(bitsPerSec: number | null): void {
    this.q.stats[STAT_RATE_BITS_PER_SEC] = bitsPerSec ?? 0;
  }

  /** Hands a packed frame to the thread. */
  send(buffer: FrameBuffer, lengthBytes: number): void {
    pushEntry(this.q, { slot: buffer.slot, buffer: buffer.index, lengthBytes });
  }

  /** Frames handed over so far: the next frame sent is frame number framesSent(). */
  framesSent(): number {
    return Atomics.load(this.q.i32, HEAD);
  }

  /** Frames received so far. */
  framesReceived(): number {
    return Atomics.load(this.q.i32, TAIL);
  }

  /**
   * The thread's progress as the write gate reads it. Its wait blocks this thread, which does not
   * see the receiving thread fail meanwhile (that arrives through the event loop): a thread that
   * receives nothing for RECEIVE_STALL_MS is a ChannelError.
   */
  readonly progress: ReadProgress = {
    done: (frame) => this.framesReceived() > frame,
    wait: (frame) => {
      const since = performance.now();
      for (let tail = this.framesReceived(); tail <= frame && !this.failed(); tail = this.framesReceived()) {
        if (
          Atomics.wait(this.q.i32, TAIL, tail, SYNC_WAIT_MS) === 'timed-out' &&
          performance.now() - since > RECEIVE_STALL_MS
        ) {
          throw new ChannelError(`the receiving thread received nothing for ${RECEIVE_STALL_MS / 1000} s`);
        }
      }
    },
  };

  /**
   * Waits until every frame sent so far has been received; returns the epoch time (ms) at which
   * the last one reached the target on its link (paced threads only).
   */
  async drain(): Promise<number> {
    for (;;) {
      const tail = Atomics.load(this.q.i32, TAIL);
      if (tail === Atomics.load(this.q.i32, HEAD)) break;
      if (this.failed()) throw await this.failure();
      const wait = Atomics.waitAsync(this.q.i32, TAIL, tail, 100);
      if (wait.async) await wait.value;
    }
    if (this.failed()) throw await this.failure();
    return this.q.stats[STAT_LAST_DELIVERY_EPOCH_MS];
  }

  /** Pages the thread's resend meter found unchanged so far (with `meter`). */
  unchangedPages(): number {
    return this.q.stats[STAT_UNCHANGED];
  }

  bytesDelivered(): number {
    return this.q.stats[STAT_BYTES];
  }

  /** Closes the queue and ends the thread; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    Atomics.store(this.q.i32, CLOSED, 1);
    Atomics.notify(this.q.i32, HEAD);
    Atomics.notify(this.q.i32, CLOSED);
    await this.task?.catch(() => undefined);
    await this.pool.destroy();
  }

  private async failure(): Promise<ChannelError> {
    Atomics.store(this.q.i32, CLOSED, 1);
    Atomics.notify(this.q.i32, HEAD);
    try {
      const report = await this.task;
      return new ChannelError(`target rejected a frame: ${report?.error ?? 'unknown error'}`);
    } catch (err) {
      return new ChannelError(`channel worker failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
