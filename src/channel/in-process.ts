/**
 * Driver side of the in-process channel: a piscina worker paces frames at the link rate and
 * delivers them into target memory. The driver packs frames straight into the source slot's frame
 * buffers and hands them over through the queue; nothing is copied on this thread.
 */
import { Piscina } from 'piscina';
import type { ChannelReport, ChannelTask, GuestShape } from '../protocol.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { RealClock } from '../clock/clock.js';
import { ChannelError, localTarget, type FrameBuffer, type Transport } from '../driver/parts.js';
import {
  CLOSED, ERROR, HEAD, POSTCOPY, RELEASED, STARTED, STAT_BYTES, STAT_UNCHANGED, STAT_FRAMES, STAT_LAST_DELIVERY_EPOCH_MS, STAT_RATE_BITS_PER_SEC, TAIL, createQueue, pushEntry,
  queueViews, type QueueViews,
} from './queue.js';

/** How long acquire() blocks the driver's thread on a busy channel before it waits asynchronously. */
const SYNC_WAIT_MS = 2;
/** waitReceived() gives up on a channel's thread that has received nothing for this long. */
const RECEIVE_STALL_MS = 10_000;

const CHANNEL_WORKER = new URL('./channel-worker.js', import.meta.url).href;

export class InProcessChannel implements Transport {
  /**
   * Shared memory between threads is no network: nothing can corrupt a frame between packing and
   * receiving, so frames here carry no checksum (QEMU's stream has none either and leaves that to
   * TCP). Every other check still runs; the TCP transport checksums every frame.
   */
  readonly checksums = false;
  private readonly pool: Piscina;
  private readonly queueSab: SharedArrayBuffer;
  private readonly q: QueueViews;
  private readonly handedOut: number[];
  private task?: Promise<ChannelReport>;
  private closing?: Promise<void>;

  constructor(
    private readonly source: GuestMemory,
    private readonly linkBitsPerSec: number | null,
    private readonly latencyMs: number,
    private readonly clock: RealClock,
    private readonly codecs: boolean,
    /** This channel's thread runs the resend meter over raw frames (FrameReceiver.meterResends). */
    readonly metersRawPages = false,
  ) {
    const buffers = source.slots.reduce((n, s) => n + s.layout.frameBuffers, 0);
    this.queueSab = createQueue(buffers);
    this.q = queueViews(this.queueSab);
    this.handedOut = source.slots.map(() => 0);
    this.pool = new Piscina({ filename: CHANNEL_WORKER, minThreads: 1, maxThreads: 1, idleTimeout: Infinity });
  }

  /** Nothing to get ready: the target's memory is set up with the source's (src/memory/setup.ts). */
  async prepare(): Promise<void> {}

  /** The connect stage: the channel's thread is up and answers. */
  async connect(): Promise<void> {
    await this.pool.run(null, { name: 'ping' });
  }

  /**
   * Starts delivering into the target memory (allocated in the config stage); resolves once the
   * channel's thread runs. A driver that never yields to the event loop (the virtual clock's) may
   * otherwise send a whole round before piscina hands the thread its task.
   */
  async open(target: GuestMemory | null, module: WebAssembly.Module, guest: GuestShape): Promise<void> {
    const task: ChannelTask = {
      kind: 'channel', module, sourceSlots: this.source.slots, targetSlots: localTarget(target).slots, guest,
      queue: this.queueSab, linkBitsPerSec: this.linkBitsPerSec, latencyMs: this.latencyMs, codecs: this.codecs,
      meter: this.metersRawPages,
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

  /** Waits for a free frame buffer of `slot` (the channel frees them as frames leave). */
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

  setRate(bitsPerSec: number | null): void {
    this.q.stats[STAT_RATE_BITS_PER_SEC] = bitsPerSec ?? 0;
  }

  /** Hands a packed frame to the channel. */
  send(buffer: FrameBuffer, lengthBytes: number): void {
    pushEntry(this.q, { slot: buffer.slot, buffer: buffer.index, lengthBytes });
  }

  /** Frames handed over so far: the next frame sent is frame number framesSent(). */
  framesSent(): number {
    return Atomics.load(this.q.i32, HEAD);
  }

  /**
   * Blocks this thread until frame number `frame` has been received. This thread does not see the
   * channel's thread fail meanwhile (that arrives through the event loop), so a channel that
   * receives nothing for RECEIVE_STALL_MS is a ChannelError.
   */
  waitReceived(frame: number): void {
    const since = performance.now();
    for (let tail = Atomics.load(this.q.i32, TAIL); tail <= frame && !this.failed(); tail = Atomics.load(this.q.i32, TAIL)) {
      if (Atomics.wait(this.q.i32, TAIL, tail, SYNC_WAIT_MS) === 'timed-out' && performance.now() - since > RECEIVE_STALL_MS) {
        throw new ChannelError(`the channel's thread received nothing for ${RECEIVE_STALL_MS / 1000} s`);
      }
    }
  }

  /** Frames received so far. */
  framesReceived(): number {
    return Atomics.load(this.q.i32, TAIL);
  }

  /**
   * Waits until every frame sent so far has been delivered and returns the time (on the run's
   * clock) at which the last one reached the target: its send end plus the link latency.
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
    return this.clock.fromEpochMs(this.q.stats[STAT_LAST_DELIVERY_EPOCH_MS]);
  }

  /** Pages the channel's resend meter found unchanged so far (with metersRawPages). */
  unchangedPages(): number {
    return this.q.stats[STAT_UNCHANGED];
  }

  bytesDelivered(): number {
    return this.q.stats[STAT_BYTES];
  }

  framesDelivered(): number {
    return this.q.stats[STAT_FRAMES];
  }

  /** Closes the channel and ends its thread; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    Atomics.store(this.q.i32, CLOSED, 1);
    Atomics.notify(this.q.i32, HEAD);
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
