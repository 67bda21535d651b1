/**
 * The link model every world uses. A link is a NIC: a rate and a one-way latency. A frame
 * occupies it for bytes / rate from the instant it starts, and arrives `latency` after it ends.
 * Frames go one after another: a frame starts when the link is free, or later.
 *
 * A link can be shared by several migrations at once (a host evacuation sends N migrations over
 * one NIC): its state lives in a SharedArrayBuffer that any thread may attach to, and each
 * migration takes it through its own LinkShare, which adds the migration's own rate cap (Xen's
 * adaptive rate, a per-migration bandwidth limit) and the pacing rule of its clock. All users of
 * one link must use one time base (epoch milliseconds on the real clock, simulated ones on the
 * virtual clock).
 */

/** Int32 index of the lock word; the Float64 fields follow it. */
const LOCK = 0;
const F64_NEXT_FREE_MS = 1;
const F64_BITS_PER_SEC = 2;
const F64_LATENCY_MS = 3;
const BYTES = 4 * 8;

export interface LinkSpec {
  /** Bits per second (decimal); null: unlimited. */
  bitsPerSec: number | null;
  /** One-way latency, ms. */
  latencyMs: number;
}

/** A frame's time on the link. */
export interface Occupancy {
  startMs: number;
  /** When its last byte has left the sender. */
  endMs: number;
  /** When its last byte has reached the receiver: endMs plus the latency. */
  arrivalMs: number;
}

export class Link {
  private readonly lock: Int32Array;
  private readonly f64: Float64Array;

  private constructor(readonly shared: SharedArrayBuffer) {
    this.lock = new Int32Array(shared, 0, 2);
    this.f64 = new Float64Array(shared);
  }

  static create(spec: LinkSpec): Link {
    const link = new Link(new SharedArrayBuffer(BYTES));
    link.f64[F64_NEXT_FREE_MS] = -Infinity;
    link.f64[F64_BITS_PER_SEC] = spec.bitsPerSec ?? Infinity;
    link.f64[F64_LATENCY_MS] = spec.latencyMs;
    return link;
  }

  /** The same link, from another thread. */
  static attach(shared: SharedArrayBuffer): Link {
    return new Link(shared);
  }

  get bitsPerSec(): number | null {
    const bits = this.f64[F64_BITS_PER_SEC];
    return bits === Infinity ? null : bits;
  }

  get latencyMs(): number {
    return this.f64[F64_LATENCY_MS];
  }

  /**
   * Takes the link for `bytes` from the first instant at or after `earliestMs` when it is free;
   * the frame holds it for bytes / the link's rate. Returns that start.
   */
  take(bytes: number, earliestMs: number): number {
    while (Atomics.compareExchange(this.lock, LOCK, 0, 1) !== 0);
    try {
      const startMs = Math.max(this.f64[F64_NEXT_FREE_MS], earliestMs);
      const bits = this.f64[F64_BITS_PER_SEC];
      this.f64[F64_NEXT_FREE_MS] = bits === Infinity ? startMs : startMs + bytes / (bits / 8 / 1000);
      return startMs;
    } finally {
      Atomics.store(this.lock, LOCK, 0);
    }
  }
}

/**
 * How a clock paces frames. Simulated time is exact: a frame starts when the link is free or now.
 * Real time is late: a thread wakes after the instant it slept for, and on a busy machine much
 * later. The schedule is cumulative, so a late wake-up is caught up by starting the frame back in
 * the past, up to catchUpMs: it must not cost rate, and a long stall must not turn into a burst
 * above the rate either. 1 ms lost 10 % of a 10 Gbit/s link under load; 20 ms (24 frames at
 * 10 Gbit/s, 2 at 1 Gbit/s) keeps the rate within 1 %. After the sender has been idle (nothing
 * queued), nothing is caught up.
 */
export interface PacingRule {
  catchUpMs: number;
}

export const SIMULATED_PACING: PacingRule = { catchUpMs: 0 };
export const REAL_TIME_PACING: PacingRule = { catchUpMs: 20 };

/** One migration's use of a (maybe shared) link. */
export class LinkShare {
  private capBitsPerSec: number | null = null;
  private nextFreeMs = -Infinity;

  constructor(readonly link: Link, private readonly pacing: PacingRule) {}

  /** This migration's own rate limit from now on (adaptive rate); null: none. */
  setCap(bitsPerSec: number | null): void {
    this.capBitsPerSec = bitsPerSec;
  }

  get cap(): number | null {
    return this.capBitsPerSec;
  }

  /** When the next frame of this migration could start, were the link its own. */
  get nextFree(): number {
    return this.nextFreeMs;
  }

  /**
   * Sends a frame of `bytes` at `nowMs`: it starts when both the link and this migration's cap
   * allow, and takes bytes / min(cap, link rate). `idle`: nothing was queued before it.
   */
  occupy(bytes: number, nowMs: number, idle: boolean): Occupancy {
    const earliest = Math.max(this.nextFreeMs, idle ? nowMs : nowMs - this.pacing.catchUpMs);
    const startMs = this.link.take(bytes, earliest);
    const linkBits = this.link.bitsPerSec ?? Infinity;
    const bits = this.capBitsPerSec === null ? linkBits : Math.min(this.capBitsPerSec, linkBits);
    const endMs = bits === Infinity ? startMs : startMs + bytes / (bits / 8 / 1000);
    this.nextFreeMs = endMs;
    return { startMs, endMs, arrivalMs: endMs + this.link.latencyMs };
  }
}
