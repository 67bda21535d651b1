/**
 * The channel under the virtual clock. The link's time is simulated: a frame occupies the link
 * for lengthBytes / rate and arrives `latency` after it leaves; the sender waits for the link
 * (simulated time passes, and the guest with it) before each frame, so every page is copied at
 * the instant its frame starts to go. The bytes are received by the same FrameReceiver as the
 * real channel's: on the in-process channel's thread, unpaced, so that receiving overlaps the
 * driver's packing on a second core (all of it is done by the end of each round, when the time
 * is read); or, for post-copy, at once on this thread, because blocked vCPUs must see a page
 * arrive at the simulated instant it does.
 */
import type { GuestMemory } from '../memory/guest-memory.js';
import type { GuestShape } from '../protocol.js';
import type { VirtualClock } from '../clock/virtual.js';
import { ChannelError, type FrameBuffer, type Transport } from '../driver/parts.js';
import { FrameReceiver, receiverDecoders } from './receiver.js';
import { FrameError } from '../wire/frame.js';
import { prefaultOnThread } from '../memory/prefault.js';
import { InProcessChannel } from './in-process.js';
import { RealClock } from '../clock/clock.js';

export class VirtualChannel implements Transport {
  readonly checksums = false;
  private receiver?: FrameReceiver;
  private target?: GuestMemory;
  private linkFreeMs = 0;
  private lastDeliveryMs = 0;
  private bytes = 0;
  private readonly handedOut: number[];
  private bytesPerMs: number;

  /** The receiving thread, unless frames are received here (post-copy). */
  private readonly onThread?: InProcessChannel;

  constructor(
    private readonly source: GuestMemory,
    private readonly linkBitsPerSec: number | null,
    private readonly latencyMs: number,
    private readonly clock: VirtualClock,
    private readonly codecs: boolean,
    receiveOnThread: boolean,
  ) {
    this.bytesPerMs = linkBitsPerSec === null ? Infinity : linkBitsPerSec / 8 / 1000;
    this.handedOut = source.slots.map(() => 0);
    // Raw frames are metered on that thread too: the driver's thread is what limits a virtual run.
    if (receiveOnThread) this.onThread = new InProcessChannel(source, null, 0, new RealClock(), codecs, !codecs);
    this.metersRawPages = this.onThread?.metersRawPages ?? false;
  }

  readonly metersRawPages: boolean;

  unchangedPages(): number {
    return this.onThread?.unchangedPages() ?? 0;
  }

  /** Page faults would cost no simulated time, but wall time: the target is faulted in during set-up. */
  prepare(target: GuestMemory): Promise<void> {
    return this.onThread ? this.onThread.prepare(target) : prefaultOnThread(target);
  }

  async connect(): Promise<void> {
    await this.onThread?.connect();
  }

  open(target: GuestMemory, module: WebAssembly.Module, guest: GuestShape): void {
    this.target = target;
    if (this.onThread) this.onThread.open(target, module, guest);
    else this.receiver = new FrameReceiver(target.slots, target.kernels, false, this.codecs ? receiverDecoders(target.slots, target.kernels) : undefined);
  }

  setRate(bitsPerSec: number | null): void {
    const bits = bitsPerSec ?? this.linkBitsPerSec;
    this.bytesPerMs = bits === null ? Infinity : bits / 8 / 1000;
  }

  trackArrivals(): void {
    if (this.onThread) throw new Error('post-copy under the virtual clock receives frames on the driver thread');
    if (this.receiver) this.receiver.trackArrivals = true;
  }

  async acquire(slot: number): Promise<FrameBuffer> {
    await this.clock.sleepUntil(this.linkFreeMs);
    if (this.onThread) return this.onThread.acquire(slot);
    const l = this.source.slots[slot].layout;
    // A frame is received as soon as it is sent, but encoders may hold a few buffers before that:
    // buffers go round, as on the real channel.
    const index = this.handedOut[slot]++ % l.frameBuffers;
    return { slot, index, ptr: l.framesPtr + index * l.frameBytes, capacityBytes: l.frameBytes };
  }

  send(buffer: FrameBuffer, lengthBytes: number): void {
    if (this.onThread) this.onThread.send(buffer, lengthBytes);
    else this.receiveHere(buffer, lengthBytes);
    const startMs = Math.max(this.linkFreeMs, this.clock.nowMs());
    this.linkFreeMs = startMs + lengthBytes / this.bytesPerMs;
    this.lastDeliveryMs = this.linkFreeMs + this.latencyMs;
    this.bytes += lengthBytes;
  }

  private receiveHere(buffer: FrameBuffer, lengthBytes: number): void {
    if (!this.receiver || !this.target) throw new ChannelError('the channel was not opened');
    const frame = new Uint8Array(this.source.slots[buffer.slot].memory.buffer, buffer.ptr, lengthBytes);
    try {
      this.receiver.receiveView(buffer.slot, frame);
    } catch (err) {
      if (err instanceof FrameError) throw new ChannelError(`target rejected a frame: ${err.message}`);
      throw err;
    }
  }

  async drain(): Promise<number> {
    await this.onThread?.drain(); // every byte is in target memory; the time is the simulated one
    return Math.max(this.lastDeliveryMs, this.clock.nowMs());
  }

  bytesDelivered(): number {
    return this.bytes;
  }

  async close(): Promise<void> {
    await this.onThread?.close();
  }
}
