/**
 * The two halves the driver runs a migration over, as it sees them. The real clock has a guest of
 * worker threads and a worker-paced channel; the virtual clock has a guest and a channel that the
 * driver advances itself in simulated time. Kernels, dirty logs, codecs and policies are shared.
 */
import type { GuestMemory } from '../memory/guest-memory.js';
import type { GuestShape } from '../protocol.js';

export interface GuestReport {
  pageWrites: number;
  /** Page writes per second while the vCPUs ran, summed over vCPUs. */
  achievedPageWritesPerSec: number;
}

/** The running guest on the source host. */
export interface GuestHost {
  /** Resolves once every vCPU runs. */
  started(): Promise<void>;
  /** Suspends the guest: resolves when no vCPU is mid-write (the barrier before the final scan). */
  pause(whileWaiting: () => void): Promise<void>;
  resume(): void;
  /** Holds every vCPU back `fraction` of its time (auto-converge, SDPS): its write rate drops as much. */
  setThrottle(fraction: number): void;
  /** Page writes all vCPUs have done so far. */
  totalWrites(): number;
  /** Stops the vCPUs for good and reports what they did. */
  shutdown(): Promise<GuestReport>;
}

export interface FrameBuffer {
  slot: number;
  index: number;
  /** Byte offset of the buffer in the slot's memory. */
  ptr: number;
  capacityBytes: number;
}

/** The migration channel from the source's frame buffers into the target's memory. */
export interface Transport {
  /** Before the clock starts, beside the memories' set-up: what the transport needs ready (TCP: connect and shake hands). */
  prepare(): Promise<void>;
  /** The connect stage's handshake. */
  connect(): Promise<void>;
  /**
   * The config stage: the target starts receiving into its memory (resolves once it does); a
   * remote transport's target memory is on the other host, and `target` is null.
   */
  open(target: GuestMemory | null, module: WebAssembly.Module, guest: GuestShape): void | Promise<void>;
  /** Whether frames carry checksums the receiver verifies (false only where no wire exists). */
  readonly checksums: boolean;
  /** A free frame buffer of `slot`, waiting (or, in simulated time, letting time pass) for one. */
  acquire(slot: number): Promise<FrameBuffer>;
  /** Changes the rate frames are sent at from now on (Xen's adaptive rate); null: the link's full rate. */
  setRate(bitsPerSec: number | null): void;
  /** Post-copy from now on: the receiver clears a page's "not arrived" bit as it lands. */
  trackArrivals(): void;
  /**
   * When true, the transport runs the resend meter over raw frames itself (off the driver's
   * thread) and unchangedPages() counts what it found; the sender then skips its own.
   */
  readonly metersRawPages?: boolean;
  unchangedPages?(): number;
  /** Hands a packed frame over. */
  send(buffer: FrameBuffer, lengthBytes: number): void;
  /**
   * Where present (the virtual clock's channel, raw pages), the receiver reads pages from the
   * source's memory itself (FrameType.PageRefs) rather than from a packed frame: sends the `count`
   * pages listed at `listOffset` of the slot's page list as one frame, as acquire + send would
   * (waiting for the link first, then `beforeCopy`, the dirty log's clear), and returns the bytes
   * the frame stands for on the link. The pages arrive with their bytes of the send instant.
   */
  sendPageRefs?(slot: number, listOffset: number, count: number, round: number, beforeCopy: () => void): Promise<number>;
  /** Waits until all sent frames are received; returns when the last arrived, on the run's clock. */
  drain(): Promise<number>;
  bytesDelivered(): number;
  /** Ends the channel; safe to call more than once. */
  close(): Promise<void>;
  /**
   * Where the target's memory is on another host (TCP): compares a digest of it with the source's
   * after everything has been delivered; null when they agree, else why not. Absent: the driver
   * compares the two memories itself.
   */
  verifyRemote?(source: GuestMemory): Promise<string | null>;
}

export class ChannelError extends Error {}

/** The target memory of a transport that delivers in this process. */
export function localTarget(target: GuestMemory | null): GuestMemory {
  if (target === null) throw new Error('an in-process channel delivers into a target memory of this process; none was given');
  return target;
}
