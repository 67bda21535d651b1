/**
 * The channel under the virtual clock. The link's time is simulated: a frame occupies the link
 * for lengthBytes / rate and arrives `latency` after it leaves; the sender waits for the link
 * (simulated time passes, and the guest with it) before each frame, so every page goes with its
 * bytes of the instant its frame starts. The bytes are received by the same FrameReceiver as the
 * real channel's: raw pages by reference (PAGE_REFS frames, read from the source's memory, see
 * sendRefs), by the in-process channel's thread, unpaced, or by this one when that one is busy,
 * so the two copy side by side (all of it is done by the end of each round, when the time is
 * read); packed frames (codecs, --charge-cpu) on that thread; or, for post-copy, everything at
 * once on this thread, because blocked vCPUs must see a page arrive at the simulated instant it
 * does.
 */
import type { GuestMemory } from '../memory/guest-memory.js';
import type { GuestShape } from '../protocol.js';
import type { VirtualClock } from '../clock/virtual.js';
import { ChannelError, localTarget, type FrameBuffer, type Transport } from '../driver/parts.js';
import { FrameReceiver, receiverDecoders } from './receiver.js';
import { FrameError, FrameType, HEADER_BYTES, writeFrameHeader } from '../wire/frame.js';
import { DESCRIPTOR_BYTES } from '../kernel/types.js';
import { InProcessChannel } from './in-process.js';
import { RealClock } from '../clock/clock.js';

/**
 * Frames queued for the receiving thread before this thread receives frames itself: enough to keep
 * it busy while this one copies (with 2 it sat idle a third of round 0).
 */
const REFS_QUEUE = 4;

/** A PAGE_REFS frame for the slot-local pages of `list` at the start of `view`; their range. */
function writePageRefs(view: DataView, list: Uint32Array, firstPage: number, round: number): { min: number; max: number } {
  writeFrameHeader(view, 0, { type: FrameType.PageRefs, count: list.length, bodyLengthBytes: list.length * 4, round, checksum: 0n });
  let min = Infinity;
  let max = -1;
  for (let i = 0; i < list.length; i++) {
    const local = list[i];
    view.setUint32(HEADER_BYTES + i * 4, firstPage + local, true);
    if (local < min) min = local;
    if (local > max) max = local;
  }
  return { min, max };
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
  /** A PAGE_REFS frame received on this thread is written here. */
  private readonly refsFrame: Uint8Array;
  /** PAGE_REFS frames handed to that thread and maybe not yet received: frame number, slot, pages. */
  private readonly refsInFlight: { frame: number; slot: number; min: number; max: number; local: Uint32Array }[] = [];

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
    // Raw pages are read from the source's memory, with no packing copy (sendRefs).
    if (this.onThread && !codecs) this.sendPageRefs = this.sendRefs.bind(this);
    this.refsFrame = new Uint8Array(HEADER_BYTES + source.slots[0].layout.pagesPerFrame * 4);
  }

  readonly metersRawPages: boolean;
  readonly sendPageRefs?: Transport['sendPageRefs'];

  unchangedPages(): number {
    return (this.onThread?.unchangedPages() ?? 0) + (this.receiver?.counts.unchanged ?? 0);
  }

  /** Nothing to get ready: the target's memory is set up with the source's (src/memory/setup.ts). */
  async prepare(): Promise<void> {}

  async connect(): Promise<void> {
    await this.onThread?.connect();
  }

  async open(memory: GuestMemory | null, module: WebAssembly.Module, guest: GuestShape): Promise<void> {
    const target = localTarget(memory);
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
   * Pages by reference: a frame naming them, received by whichever thread is free: the receiving
   * thread while it has fewer than REFS_QUEUE frames to do, else this one, at once. So the two
   * threads copy side by side, where packing here and unpacking there copied every page twice.
   */
  private async sendRefs(slot: number, listOffset: number, count: number, round: number, beforeCopy: () => void): Promise<number> {
    const onThread = this.onThread as InProcessChannel;
    const s = this.source.slots[slot];
    const l = s.layout;
    const wireBytes = HEADER_BYTES + count * (DESCRIPTOR_BYTES + l.pageSizeBytes);
    await this.clock.sleepUntil(this.linkFreeMs);
    beforeCopy();
    this.forgetReceivedRefs();
    const list = new Uint32Array(s.memory.buffer, l.listPtr + listOffset * 4, count);
    const frameBytes = HEADER_BYTES + count * 4;
    if (onThread.framesSent() - onThread.framesReceived() < REFS_QUEUE) {
      const buf = await onThread.acquire(slot);
      const view = new DataView(s.memory.buffer, buf.ptr, frameBytes);
      const { min, max } = writePageRefs(view, list, l.firstPage, round);
      this.refsInFlight.push({ frame: onThread.framesSent(), slot, min, max, local: list.slice() });
      onThread.send(buf, frameBytes);
    } else {
      writePageRefs(new DataView(this.refsFrame.buffer, 0, frameBytes), list, l.firstPage, round);
      this.receive(slot, this.refsFrame.subarray(0, frameBytes));
    }
    this.timeOnLink(wireBytes);
    return wireBytes;
  }

  /**
   * Called before the simulated guest writes page `localPage` of `slot`: a write must not reach a
   * page the receiving thread has yet to read, since a frame stands for the bytes of the instant
   * it was sent. Waits (wall time only) until that frame is received.
   */
  holdWrite(slot: number, localPage: number): void {
    if (this.refsInFlight.length === 0) return;
    this.forgetReceivedRefs();
    for (let i = this.refsInFlight.length - 1; i >= 0; i--) {
      const r = this.refsInFlight[i];
      if (r.slot === slot && localPage >= r.min && localPage <= r.max && r.local.includes(localPage)) {
        (this.onThread as InProcessChannel).waitReceived(r.frame);
        return;
      }
    }
  }

  private forgetReceivedRefs(): void {
    const received = (this.onThread as InProcessChannel).framesReceived();
    let done = 0;
    while (done < this.refsInFlight.length && this.refsInFlight[done].frame < received) done++;
    if (done > 0) this.refsInFlight.splice(0, done);
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
