/**
 * The in-process transport on the real clock: a receiving thread paces frames on the link in real
 * time and receives them into a target memory of this process (src/channel/receive-thread.ts).
 */
import type { GuestShape } from '../memory/layout.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { RealClock } from '../clock/clock.js';
import type { Link } from '../link/link.js';
import type { UserStrategyConfig } from '../util/user-file.js';
import { ReceiveThread } from './receive-thread.js';
import type { FrameBuffer, PostcopyArrivals, ResendMeter, Transport } from './transport.js';
import { compareMemories } from './verify.js';

export class InProcessTransport implements Transport {
  /**
   * Shared memory between threads is no network: nothing can corrupt a frame between packing and
   * receiving, so frames here carry no checksum (QEMU's stream has none either and leaves that to
   * TCP). Every other check still runs; the TCP transport checksums every frame.
   */
  readonly checksums = false;
  private readonly thread: ReceiveThread;

  /** Without codecs the receiving thread runs the resend meter over the raw frames (resendMeter). */
  constructor(
    private readonly source: GuestMemory,
    private readonly target: GuestMemory,
    module: WebAssembly.Module,
    private readonly clock: RealClock,
    options: { link: Link; codecs: boolean; userCodecs: UserStrategyConfig[] },
  ) {
    const thread = new ReceiveThread(source, target, module, { ...options, meter: !options.codecs });
    this.thread = thread;
    if (!options.codecs) this.resendMeter = { unchangedPages: () => thread.unchangedPages() };
    this.postcopy = { trackArrivals: () => thread.trackArrivals() };
  }

  readonly resendMeter?: ResendMeter;
  readonly postcopy: PostcopyArrivals;

  /** Nothing to get ready: the target's memory is set up with the source's (src/memory/setup.ts). */
  async prepare(): Promise<void> {}

  connect(): Promise<void> {
    return this.thread.connect();
  }

  open(guest: GuestShape): Promise<void> {
    return this.thread.open(guest);
  }

  acquire(slot: number): Promise<FrameBuffer> {
    return this.thread.acquire(slot);
  }

  send(buffer: FrameBuffer, lengthBytes: number): void {
    this.thread.send(buffer, lengthBytes);
  }

  setRate(bitsPerSec: number | null): void {
    this.thread.setCap(bitsPerSec);
  }

  /** The instant, on the run's clock, at which the last frame reached the target (its end plus the latency). */
  async drain(): Promise<number> {
    return this.clock.fromEpochMs(await this.thread.drain());
  }

  bytesDelivered(): number {
    return this.thread.bytesDelivered();
  }

  async verify(): Promise<string | null> {
    return compareMemories(this.source, this.target);
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}
