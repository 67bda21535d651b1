/**
 * The transport under the virtual clock. The link's time is simulated (src/link/link.ts): a frame
 * occupies the link for lengthBytes / rate and arrives `latency` after it leaves; the sender
 * waits for the link (simulated time passes, and the guest with it) before each frame, so every
 * page goes with its bytes of the instant its frame starts. The bytes are received by the same
 * FrameReceiver as the real transport's:
 * - raw pages by reference (PAGE_REFS frames, read from the source's memory, see sendRefs), by an
 *   unpaced receiving thread, or by this thread when that one is busy (the frame written into the
 *   target slot's own frame buffer, which nothing else uses in process), so the two copy side by side
 *   (all of it is done by the end of each round, when the time is read); the write gate holds a
 *   guest write to a page the receiving thread has yet to read;
 * - packed frames (codecs, --charge-cpu) on that thread;
 * - for post-copy, everything on this thread as it is sent, its pages marked arrived at the
 *   simulated instant the frame arrives, because blocked vCPUs must see a page arrive when it does.
 * With a send buffer (--send-buffer) the sender writes that many bytes ahead of the wire: its
 * writes complete before the bytes leave, as a socket's do, and what it writes later waits behind
 * what the buffer holds.
 */
import type { GuestMemory } from '../memory/guest-memory.js';
import type { GuestShape } from '../memory/layout.js';
import type { VirtualClock } from '../clock/virtual.js';
import type { LinkShare } from '../link/link.js';
import type { UserStrategyConfig } from '../util/user-file.js';
import type { WriteGate } from '../memory/write-gate.js';
import {
  ChannelError,
  type FrameBuffer,
  type PageRefs,
  type PostcopyArrivals,
  type ResendMeter,
  type Transport,
} from './transport.js';
import { FrameReceiver, receiverDecoders, type FrameAt } from './receiver.js';
import { FrameError, FrameType, HEADER_BYTES, writeFrameHeader } from '../wire/frame.js';
import { DESCRIPTOR_BYTES } from '../kernel/types.js';
import { ReceiveThread } from './receive-thread.js';
import type { ProceduralMemory } from '../memory/procedural.js';
import { compareMemories } from './verify.js';

/**
 * Frames queued for the receiving thread before this thread receives frames itself: enough to keep
 * it busy while this one copies (with 2 it sat idle a third of round 0).
 */
const REFS_QUEUE = 4;

/**
 * A PAGE_REFS frame for the slot-local pages of `list` at the start of `view`; with a procedural
 * memory, the pages' states now follow their numbers (the receiver keeps them).
 */
function writePageRefs(
  view: DataView,
  list: Uint32Array,
  firstPage: number,
  round: number,
  procedural: ProceduralMemory | null,
): void {
  const n = list.length;
  writeFrameHeader(view, 0, {
    type: FrameType.PageRefs,
    count: n,
    bodyLengthBytes: n * (procedural ? 8 : 4),
    round,
    checksum: 0n,
  });
  for (let i = 0; i < n; i++) view.setUint32(HEADER_BYTES + i * 4, firstPage + list[i], true);
  if (procedural)
    for (let i = 0; i < n; i++) view.setUint32(HEADER_BYTES + (n + i) * 4, procedural.head(firstPage + list[i]), true);
}

/** Bytes of a page-reference frame of `count` pages. */
function refsFrameBytes(count: number, procedural: boolean): number {
  return HEADER_BYTES + count * (procedural ? 8 : 4);
}

export interface VirtualTransportOptions {
  /** Page codecs are on: frames are packed and decoded. */
  codecs: boolean;
  /** Frames are received on this thread only (post-copy). */
  receiveHere: boolean;
  /** Raw pages go by reference (no codecs, no --charge-cpu, a receiving thread). */
  pageRefs: boolean;
  /** The sending socket's buffer, bytes (LinkConfig.sendBufferBytes); 0: none. */
  sendBufferBytes: number;
  /** The user's codec files of the run (preloaded in this thread; the receiving thread imports them). */
  userCodecs: UserStrategyConfig[];
}

export class VirtualTransport implements Transport {
  readonly checksums = false;
  private readonly receiver: FrameReceiver;
  private lastArrivalMs = 0;
  private bytes = 0;
  private readonly handedOut: number[];

  /** The receiving thread, unless frames are received here (post-copy). */
  private readonly thread?: ReceiveThread;
  /** Post-copy: pages received here, to be marked arrived at their frame's instant, in order. */
  private readonly inFlight: { arrivalMs: number; slot: number; locals: Uint32Array }[] = [];
  /** The arrival instant of the frame being received (its pages' arrival). */
  private arrivingAtMs = 0;
  private readonly sendBufferBytes: number;

  constructor(
    private readonly source: GuestMemory,
    private readonly target: GuestMemory,
    module: WebAssembly.Module,
    private readonly link: LinkShare,
    private readonly clock: VirtualClock,
    private readonly gate: WriteGate,
    options: VirtualTransportOptions,
  ) {
    this.handedOut = source.slots.map(() => 0);
    this.sendBufferBytes = options.sendBufferBytes;
    // Pages whose instant passed while others moved the clock (a rate limit's sleep) land first.
    if (options.receiveHere) clock.onAdvance((fromMs) => this.land(fromMs));
    // Raw frames are metered on that thread too: the driver's thread is what limits a virtual run.
    const meter = !options.receiveHere && !options.codecs;
    if (!options.receiveHere)
      this.thread = new ReceiveThread(source, target, module, {
        link: null,
        codecs: options.codecs,
        meter,
        userCodecs: options.userCodecs,
      });
    if (meter)
      this.resendMeter = {
        unchangedPages: () => (this.thread?.unchangedPages() ?? 0) + this.receiver.counts.unchanged,
      };
    // Raw pages are read from the source's memory, with no packing copy (sendRefs).
    if (this.thread && options.pageRefs) this.pageRefs = { send: this.sendRefs.bind(this) };
    // Post-copy's blocked vCPUs see a page arrive at its simulated instant: frames are received here then.
    if (!this.thread) this.postcopy = { trackArrivals: () => (this.receiver.trackArrivals = true) };
    // Frames received here: all of them for post-copy, else page references while the thread is busy.
    this.receiver = new FrameReceiver(target.slots, target.kernels, {
      verifyChecksums: false,
      decoders: options.codecs ? receiverDecoders(target.slots, target.kernels, options.userCodecs) : undefined,
      sourceSlots: source.slots,
      procedural: target.procedural?.handle ?? null,
    });
    this.receiver.meterResends = meter;
    if (!this.thread)
      this.receiver.onArrived = (slot, locals) =>
        this.inFlight.push({ arrivalMs: this.arrivingAtMs, slot, locals: locals.slice() });
  }

  readonly resendMeter?: ResendMeter;
  readonly pageRefs?: PageRefs;
  readonly postcopy?: PostcopyArrivals;

  /** Nothing to get ready: the target's memory is set up with the source's (src/memory/setup.ts). */
  async prepare(): Promise<void> {}

  async connect(): Promise<void> {
    await this.thread?.connect();
  }

  async open(guest: GuestShape): Promise<void> {
    await this.thread?.open(guest);
  }

  setRate(bitsPerSec: number | null): void {
    this.link.setCap(bitsPerSec);
  }

  /** When the next frame may be written: the link free, less what the send buffer holds. */
  private writableAt(): number {
    return this.link.nextFree - this.link.aheadMs(this.sendBufferBytes);
  }

  /** Lets time pass to `ms`, each frame in flight landing at its own instant on the way. */
  private async waitUntil(ms: number): Promise<void> {
    while (this.inFlight.length > 0 && this.inFlight[0].arrivalMs <= ms) {
      await this.clock.sleepUntil(this.inFlight[0].arrivalMs);
      this.land(this.clock.nowMs());
    }
    await this.clock.sleepUntil(ms);
  }

  /** Marks arrived the pages of the frames that have arrived by `ms`. */
  private land(ms: number): void {
    while (this.inFlight.length > 0 && this.inFlight[0].arrivalMs <= ms) {
      const { slot, locals } = this.inFlight.shift() as { slot: number; locals: Uint32Array };
      this.receiver.markArrived(slot, locals);
    }
  }

  async acquire(slot: number): Promise<FrameBuffer> {
    await this.waitUntil(this.writableAt());
    if (this.thread) return this.thread.acquire(slot);
    const l = this.source.slots[slot].layout;
    // A frame is received as soon as it is sent, but encoders may hold a few buffers before that:
    // buffers go round, as on the real channel.
    const index = this.handedOut[slot]++ % l.frameBuffers;
    return { slot, index, ptr: l.framesPtr + index * l.frameBytes, capacityBytes: l.frameBytes };
  }

  send(buffer: FrameBuffer, lengthBytes: number): void {
    if (this.thread) {
      this.thread.send(buffer, lengthBytes);
      this.timeOnLink(lengthBytes);
      return;
    }
    // Its bytes as written now; its pages count as arrived when it does (the receiver's onArrived).
    this.arrivingAtMs = this.timeOnLink(lengthBytes);
    this.receive(buffer.slot, {
      memory: this.source.slots[buffer.slot].memory,
      kernels: this.source.kernels[buffer.slot],
      ptr: buffer.ptr,
      lengthBytes,
    });
  }

  /** A frame of `wireBytes` goes now, or when the link is free; returns when it arrives. */
  private timeOnLink(wireBytes: number): number {
    const { arrivalMs } = this.link.occupy(wireBytes, this.clock.nowMs(), true);
    // Frames on parallel lanes (multifd) may arrive out of order: the last arrival is the latest.
    this.lastArrivalMs = Math.max(this.lastArrivalMs, arrivalMs);
    this.bytes += wireBytes;
    return arrivalMs;
  }

  /**
   * Pages by reference: a frame naming them, received by whichever thread is free: the receiving
   * thread while it has fewer than REFS_QUEUE frames to do, else this one, at once. So the two
   * threads copy side by side, where packing here and unpacking there copied every page twice.
   */
  private async sendRefs(
    slot: number,
    listOffset: number,
    count: number,
    round: number,
    beforeCopy: () => void,
  ): Promise<number> {
    const thread = this.thread as ReceiveThread;
    const s = this.source.slots[slot];
    const l = s.layout;
    const wireBytes = HEADER_BYTES + count * (DESCRIPTOR_BYTES + l.pageSizeBytes);
    await this.clock.sleepUntil(this.writableAt());
    beforeCopy();
    const list = new Uint32Array(s.memory.buffer, l.listPtr + listOffset * 4, count);
    const pm = this.source.procedural;
    const frameBytes = refsFrameBytes(count, pm !== null);
    if (thread.framesSent() - thread.framesReceived() < REFS_QUEUE) {
      const buf = await thread.acquire(slot);
      writePageRefs(new DataView(s.memory.buffer, buf.ptr, frameBytes), list, l.firstPage, round, pm);
      // Procedural pages need no hold: the frame carries their states, which later writes do not change.
      if (pm === null) this.gate.hold(thread.progress, thread.framesSent(), slot, list);
      thread.send(buf, frameBytes);
    } else {
      // Received here, from the target slot's first frame buffer (unused in process).
      const t = this.target.slots[slot];
      writePageRefs(new DataView(t.memory.buffer, t.layout.framesPtr, frameBytes), list, l.firstPage, round, pm);
      this.receive(slot, {
        memory: t.memory,
        kernels: this.target.kernels[slot],
        ptr: t.layout.framesPtr,
        lengthBytes: frameBytes,
      });
    }
    this.timeOnLink(wireBytes);
    return wireBytes;
  }

  /** Receives a frame on this thread, now. */
  private receive(slot: number, frame: FrameAt): void {
    try {
      this.receiver.receive(slot, frame);
    } catch (err) {
      if (err instanceof FrameError) throw new ChannelError(`target rejected a frame: ${err.message}`);
      throw err;
    }
  }

  async flushed(): Promise<void> {
    await this.thread?.drain();
    await this.waitUntil(this.writableAt());
  }

  async drain(): Promise<number> {
    await this.thread?.drain(); // every byte is in target memory; the time is the simulated one
    const last = this.inFlight.at(-1);
    if (last) await this.waitUntil(last.arrivalMs);
    return Math.max(this.lastArrivalMs, this.clock.nowMs());
  }

  bytesDelivered(): number {
    return this.bytes;
  }

  async verify(): Promise<string | null> {
    return compareMemories(this.source, this.target);
  }

  async close(): Promise<void> {
    await this.thread?.close();
  }
}
