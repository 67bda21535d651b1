/**
 * The migration channel as the driver sees it: frame buffers to pack into, a link to send them
 * over, a target that receives them, and a verdict on the target's memory at the end. Each world
 * (src/world/) builds one: in process on threads, in simulated time, or over TCP. Beside the small
 * core, a transport may have capabilities, each its own interface, absent where it has none.
 */
import { RunFailure } from '../util/errors.js';
import type { GuestShape } from '../memory/layout.js';
import type { PostcopyReport } from '../wire/postcopy.js';

export interface FrameBuffer {
  slot: number;
  index: number;
  /** Byte offset of the buffer in the slot's memory. */
  ptr: number;
  capacityBytes: number;
}

export interface Transport {
  /** Whether frames carry checksums the receiver verifies (false only where no wire exists). */
  readonly checksums: boolean;
  /** Before the clock starts, beside the memories' set-up: what the transport needs ready (TCP: connect and shake hands). */
  prepare(): Promise<void>;
  /** The connect stage's handshake. */
  connect(): Promise<void>;
  /** The config stage: the target starts receiving into its memory; resolves once it does. */
  open(guest: GuestShape): Promise<void>;
  /** A free frame buffer of `slot`, waiting (or, in simulated time, letting time pass) for one. */
  acquire(slot: number): Promise<FrameBuffer>;
  /** Hands a packed frame over; `lane` picks the connection where the transport has several (Lanes). */
  send(buffer: FrameBuffer, lengthBytes: number, lane?: number): void;
  /** Changes this migration's send rate from now on (Xen's adaptive rate); null: the link's full rate. */
  setRate(bitsPerSec: number | null): void;
  /**
   * Waits until every frame handed over is written, as a socket write completes: into the send
   * buffer, or with none, onto the wire (and, on the virtual clock, taken by the receiving thread,
   * so a sync after it sees every guest write). Not until it arrives. Absent (the real clock,
   * where the paced link runs ahead of the socket): a write counts once delivered.
   */
  flushed?(): Promise<void>;
  /** Waits until all sent frames are received; returns when the last arrived, on the run's clock. */
  drain(): Promise<number>;
  bytesDelivered(): number;
  /**
   * After everything has been delivered, with the source suspended: whether the target's memory
   * equals the source's. Null when it does, else why not.
   */
  verify(): Promise<string | null>;
  /** Ends the channel; safe to call more than once. */
  close(): Promise<void>;

  /** The receiving side runs the resend meter over raw pages (off the driver's thread): the sender then runs none. */
  readonly resendMeter?: ResendMeter;
  /** Raw pages by reference, where the receiver reads the source's memory itself (the virtual clock's channel). */
  readonly pageRefs?: PageRefs;
  /** Post-copy: the receiver marks pages as they arrive, for the target's vCPUs that wait on them. */
  readonly postcopy?: PostcopyArrivals;
  /** Post-copy to a target on another host, whose guest runs there (TCP). */
  readonly remotePostcopy?: RemotePostcopy;
  /** An injected --fault (TCP). */
  readonly faults?: FaultInjection;
  /** Connections a frame may be sent on, each written on its own (TCP's streams: --multifd's channels). */
  readonly lanes?: Lanes;
}

export interface Lanes {
  readonly count: number;
  /** Waits until every frame handed to `lane` so far is written: its socket write completed. */
  written(lane: number): Promise<void>;
}

export interface ResendMeter {
  /** Pages the receiving side found sent again unchanged, so far. */
  unchangedPages(): number;
}

export interface PageRefs {
  /**
   * Sends the `count` pages listed at `listOffset` of the slot's page list as one frame, as
   * acquire + pack + send would (waiting for the link first, then `beforeCopy`, the dirty log's
   * clear), and returns the bytes the frame stands for on the link. The pages arrive with their
   * bytes of the send instant.
   */
  send(slot: number, listOffset: number, count: number, round: number, beforeCopy: () => void): Promise<number>;
}

export interface PostcopyArrivals {
  /** Post-copy from now on: the receiver clears a page's "not arrived" bit as it lands. */
  trackArrivals(): void;
}

/**
 * Post-copy to a target whose guest runs there (src/wire/postcopy.ts): the advise and discard
 * frames go as any frame does; what comes back is here.
 */
export interface RemotePostcopy {
  /** Takes the global page numbers the target's vCPUs requested since the last call. */
  drainRequests(visit: (page: number) => void): void;
  /** What the target's guest did, which comes with its MAC (verify()); undefined before. */
  report(): PostcopyReport | undefined;
}

export interface FaultInjection {
  /** Whether the fault fired: one whose round never came did not. */
  fired(): boolean;
}

/** A failure of the channel or the target: the run fails with its message, the guest stays on the source. */
export class ChannelError extends RunFailure {}
