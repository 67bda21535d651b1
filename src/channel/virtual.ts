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
import { FrameError, FrameType, HEADER_BYTES, PAGE_RUN_BODY_BYTES, writeFrameHeader } from '../wire/frame.js';
import { DESCRIPTOR_BYTES } from '../kernel/types.js';
import { prefaultOnThread } from '../memory/prefault.js';
import { InProcessChannel } from './in-process.js';
import { RealClock } from '../clock/clock.js';

/** Runs queued for the receiving thread before this thread receives runs itself: enough to keep it busy. */
const RUN_QUEUE = 2;

/** A PAGE_RUN frame (header and body) at the start of `view`. */
function writePageRun(view: DataView, firstPage: number, count: number, round: number): void {
  writeFrameHeader(view, 0, { type: FrameType.PageRun, count, bodyLengthBytes: PAGE_RUN_BODY_BYTES, round, checksum: 0n });
  view.setUint32(HEADER_BYTES, firstPage, true);
  view.setUint32(HEADER_BYTES + 4, 0, true);
}

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
  /** A PAGE_RUN frame received on this thread is written here. */
  private readonly runFrame = new Uint8Array(HEADER_BYTES + PAGE_RUN_BODY_BYTES);
  /** PAGE_RUN frames handed to that thread and maybe not yet received: frame number, slot, pages. */
  private readonly runsInFlight: { frame: number; slot: number; first: number; end: number }[] = [];

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
    // Runs of raw pages are read from the source's memory, with no packing copy (sendRun).
    if (this.onThread && !codecs) this.sendPageRun = this.sendRun.bind(this);
  }

  readonly metersRawPages: boolean;
  readonly sendPageRun?: Transport['sendPageRun'];

  unchangedPages(): number {
    return (this.onThread?.unchangedPages() ?? 0) + (this.receiver?.counts.unchanged ?? 0);
  }

  /** Page faults would cost no simulated time, but wall time: the target is faulted in during set-up. */
  prepare(target: GuestMemory): Promise<void> {
    return this.onThread ? this.onThread.prepare(target) : prefaultOnThread(target);
  }

  async connect(): Promise<void> {
    await this.onThread?.connect();
  }

  async open(target: GuestMemory, module: WebAssembly.Module, guest: GuestShape): Promise<void> {
    this.target = target;
    await this.onThread?.open(target, module, guest);
    // Frames received here: all of them for post-copy, else runs while the thread is busy.
    this.receiver = new FrameReceiver(target.slots, target.kernels, false, this.codecs ? receiverDecoders(target.slots, target.kernels) : undefined, this.source.slots);
    this.receiver.meterResends = this.metersRawPages;
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
    this.timeOnLink(lengthBytes);
  }

  /** A frame of `wireBytes` goes now, or when the link is free. */
  private timeOnLink(wireBytes: number): void {
    const startMs = Math.max(this.linkFreeMs, this.clock.nowMs());
    this.linkFreeMs = startMs + wireBytes / this.bytesPerMs;
    this.lastDeliveryMs = this.linkFreeMs + this.latencyMs;
    this.bytes += wireBytes;
  }

  /**
   * A run is received by whichever thread is free: the receiving thread while it has fewer than
   * RUN_QUEUE frames to do, else this one, at once. The two copy halves of round 0 side by side,
   * where packing on this thread and receiving on the other copied every page twice.
   */
  private async sendRun(slot: number, firstLocalPage: number, count: number, round: number, beforeCopy: () => void): Promise<number> {
    const onThread = this.onThread as InProcessChannel;
    const l = this.source.slots[slot].layout;
    const wireBytes = HEADER_BYTES + count * (DESCRIPTOR_BYTES + l.pageSizeBytes);
    await this.clock.sleepUntil(this.linkFreeMs);
    beforeCopy();
    this.forgetReceivedRuns();
    if (onThread.framesSent() - onThread.framesReceived() < RUN_QUEUE) {
      const buf = await onThread.acquire(slot);
      writePageRun(new DataView(this.source.slots[slot].memory.buffer, buf.ptr, HEADER_BYTES + PAGE_RUN_BODY_BYTES), l.firstPage + firstLocalPage, count, round);
      this.runsInFlight.push({ frame: onThread.framesSent(), slot, first: firstLocalPage, end: firstLocalPage + count });
      onThread.send(buf, HEADER_BYTES + PAGE_RUN_BODY_BYTES);
    } else {
      writePageRun(new DataView(this.runFrame.buffer), l.firstPage + firstLocalPage, count, round);
      this.receive(slot, this.runFrame);
    }
    this.timeOnLink(wireBytes);
    return wireBytes;
  }

  /**
   * Called before the simulated guest writes page `localPage` of `slot`: a write must not reach a
   * page of a run the receiving thread has not read yet, since the run stands for the bytes at the
   * instant it was sent. Waits (wall time only) until that run is received.
   */
  holdWrite(slot: number, localPage: number): void {
    if (this.runsInFlight.length === 0) return;
    this.forgetReceivedRuns();
    for (let i = this.runsInFlight.length - 1; i >= 0; i--) {
      const r = this.runsInFlight[i];
      if (r.slot === slot && localPage >= r.first && localPage < r.end) {
        (this.onThread as InProcessChannel).waitReceived(r.frame);
        return;
      }
    }
  }

  private forgetReceivedRuns(): void {
    const received = (this.onThread as InProcessChannel).framesReceived();
    let done = 0;
    while (done < this.runsInFlight.length && this.runsInFlight[done].frame < received) done++;
    if (done > 0) this.runsInFlight.splice(0, done);
  }

  private receiveHere(buffer: FrameBuffer, lengthBytes: number): void {
    this.receive(buffer.slot, new Uint8Array(this.source.slots[buffer.slot].memory.buffer, buffer.ptr, lengthBytes));
  }

  /** Receives a frame on this thread, now. */
  private receive(slot: number, frame: Uint8Array): void {
    if (!this.receiver || !this.target) throw new ChannelError('the channel was not opened');
    try {
      this.receiver.receiveView(slot, frame);
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
