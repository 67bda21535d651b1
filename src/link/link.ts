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
/** The usage record (optional): how many users, its time origin, its bucket width. */
const F64_USERS = 4;
const F64_ORIGIN_MS = 5;
const F64_BUCKET_MS = 6;
const F64_LAST_BUCKET = 7;
const HEADER_F64 = 8;
/** Buckets of the usage record per user; when a frame falls past the last, buckets merge in pairs. */
export const USAGE_BUCKETS = 2048;

export interface LinkSpec {
  /** Bits per second (decimal); null: unlimited. */
  bitsPerSec: number | null;
  /** One-way latency, ms. */
  latencyMs: number;
}

/**
 * A record of who used the link when: bytes per user per time bucket, from `originMs` (in the
 * link's time base), each bucket `bucketMs` wide at first, twice as wide each time the record
 * would run past its last bucket. A frame's bytes are spread over the buckets its time on the NIC
 * covers (bytes / the NIC's rate from its start).
 */
export interface UsageSpec {
  users: number;
  originMs: number;
  bucketMs: number;
}

/** The usage record read back: bytes[user][bucket], buckets `bucketMs` wide from the origin. */
export interface LinkUsage {
  bucketMs: number;
  /** Buckets up to the last one used. */
  bytes: number[][];
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

  /** `user`: whose frames this view's take() counts in the usage record (-1: none). */
  private constructor(
    readonly shared: SharedArrayBuffer,
    readonly user = -1,
  ) {
    this.lock = new Int32Array(shared, 0, 2);
    this.f64 = new Float64Array(shared);
  }

  static create(spec: LinkSpec, usage?: UsageSpec): Link {
    const users = usage?.users ?? 0;
    const link = new Link(new SharedArrayBuffer((HEADER_F64 + users * USAGE_BUCKETS) * 8));
    link.f64[F64_NEXT_FREE_MS] = -Infinity;
    link.f64[F64_BITS_PER_SEC] = spec.bitsPerSec ?? Infinity;
    link.f64[F64_LATENCY_MS] = spec.latencyMs;
    link.f64[F64_USERS] = users;
    if (usage) {
      if (!(usage.bucketMs > 0)) throw new RangeError(`a usage bucket must be longer than 0 ms, got ${usage.bucketMs}`);
      link.f64[F64_ORIGIN_MS] = usage.originMs;
      link.f64[F64_BUCKET_MS] = usage.bucketMs;
      link.f64[F64_LAST_BUCKET] = -1;
    }
    return link;
  }

  /** The same link, from another thread; `user`: whose frames it counts in the usage record. */
  static attach(shared: SharedArrayBuffer, user = -1): Link {
    return new Link(shared, user);
  }

  /** The same link, counting this view's frames as `user`'s (0 .. users - 1 of the usage record). */
  forUser(user: number): Link {
    if (!(Number.isInteger(user) && user >= 0 && user < this.f64[F64_USERS]))
      throw new RangeError(`the link records ${this.f64[F64_USERS]} users, not user ${user}`);
    return new Link(this.shared, user);
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
      const endMs = bits === Infinity ? startMs : startMs + bytes / (bits / 8 / 1000);
      this.f64[F64_NEXT_FREE_MS] = endMs;
      if (this.user >= 0) this.record(bytes, startMs, endMs);
      return startMs;
    } finally {
      Atomics.store(this.lock, LOCK, 0);
    }
  }

  /** The usage record so far (a copy); null when the link keeps none. */
  usage(): LinkUsage | null {
    const users = this.f64[F64_USERS];
    if (users === 0) return null;
    while (Atomics.compareExchange(this.lock, LOCK, 0, 1) !== 0);
    try {
      const used = this.f64[F64_LAST_BUCKET] + 1;
      const bytes: number[][] = [];
      for (let u = 0; u < users; u++)
        bytes.push(
          Array.from(this.f64.subarray(HEADER_F64 + u * USAGE_BUCKETS, HEADER_F64 + u * USAGE_BUCKETS + used)),
        );
      return { bucketMs: this.f64[F64_BUCKET_MS], bytes };
    } finally {
      Atomics.store(this.lock, LOCK, 0);
    }
  }

  /** Adds a frame's bytes to this user's buckets over [startMs, endMs) (the lock held). */
  private record(bytes: number, startMs: number, endMs: number): void {
    const f = this.f64;
    const origin = f[F64_ORIGIN_MS];
    while (Math.floor((Math.max(endMs, startMs) - origin) / f[F64_BUCKET_MS]) >= USAGE_BUCKETS) this.widen();
    const width = f[F64_BUCKET_MS];
    const base = HEADER_F64 + this.user * USAGE_BUCKETS;
    const from = Math.max(0, startMs - origin);
    const to = Math.max(from, endMs - origin);
    let b = Math.floor(from / width);
    if (to === from) {
      f[base + b] += bytes;
    } else {
      for (let at = from; at < to; b++) {
        const next = Math.min(to, (b + 1) * width);
        f[base + b] += (bytes * (next - at)) / (to - from);
        at = next;
      }
      b--;
    }
    if (b > f[F64_LAST_BUCKET]) f[F64_LAST_BUCKET] = b;
  }

  /** Buckets twice as wide: each pair merges into one. */
  private widen(): void {
    const f = this.f64;
    for (let u = 0; u < f[F64_USERS]; u++) {
      const base = HEADER_F64 + u * USAGE_BUCKETS;
      for (let i = 0; i < USAGE_BUCKETS / 2; i++) f[base + i] = f[base + 2 * i] + f[base + 2 * i + 1];
      f.fill(0, base + USAGE_BUCKETS / 2, base + USAGE_BUCKETS);
    }
    f[F64_BUCKET_MS] *= 2;
    f[F64_LAST_BUCKET] = Math.floor(f[F64_LAST_BUCKET] / 2);
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
  /** Where this migration's time 0 lies in the link's time base (a migration of a shared virtual timeline starts later than 0). */
  private originMs = 0;

  /** With an unlimited link: when each of this migration's lanes (QEMU's multifd channels) is free. */
  private readonly laneFreeMs: number[];

  constructor(
    readonly link: Link,
    private readonly pacing: PacingRule,
    /** An unlimited link's rate for this migration (the virtual clock's host copy rate); Infinity: none. */
    private readonly unlimitedBitsPerSec = Infinity,
    /**
     * Streams that copy side by side over an unlimited link, each at that rate (QEMU's multifd
     * channels, each its own thread and socket); over a link of finite rate they share it, in turn.
     */
    lanes = 1,
  ) {
    this.laneFreeMs = new Array<number>(link.bitsPerSec === null ? lanes : 1).fill(-Infinity);
  }

  /** This migration's times are `originMs` after the link's time 0 from now on. */
  setOrigin(originMs: number): void {
    this.originMs = originMs;
  }

  /** This migration's own rate limit from now on (adaptive rate); null: none. */
  setCap(bitsPerSec: number | null): void {
    this.capBitsPerSec = bitsPerSec;
  }

  get cap(): number | null {
    return this.capBitsPerSec;
  }

  /**
   * How long `bytes` of a send buffer hold the wire at this migration's rate, ms: how far ahead of
   * the wire a sender with that buffer may write. 0 over an unlimited link, where the host's copy
   * rate is the sender's own work, not a wire it waits for.
   */
  aheadMs(bytes: number): number {
    if (bytes <= 0 || this.link.bitsPerSec === null) return 0;
    const bits =
      this.capBitsPerSec === null ? this.link.bitsPerSec : Math.min(this.capBitsPerSec, this.link.bitsPerSec);
    return bytes / (bits / 8 / 1000);
  }

  /** When the next frame of this migration could start, were the link its own. */
  get nextFree(): number {
    return this.laneFreeMs.length > 1 ? Math.min(...this.laneFreeMs) : this.nextFreeMs;
  }

  /**
   * Sends a frame of `bytes` at `nowMs`: it starts when both the link and this migration's cap
   * allow, and takes bytes / min(cap, link rate). `idle`: nothing was queued before it.
   */
  occupy(bytes: number, nowMs: number, idle: boolean): Occupancy {
    if (this.laneFreeMs.length > 1) return this.occupyLane(bytes, nowMs);
    const earliest = Math.max(this.nextFreeMs, idle ? nowMs : nowMs - this.pacing.catchUpMs);
    const startMs = this.link.take(bytes, earliest + this.originMs) - this.originMs;
    const linkBits = this.link.bitsPerSec ?? this.unlimitedBitsPerSec;
    const bits = this.capBitsPerSec === null ? linkBits : Math.min(this.capBitsPerSec, linkBits);
    const endMs = bits === Infinity ? startMs : startMs + bytes / (bits / 8 / 1000);
    this.nextFreeMs = endMs;
    return { startMs, endMs, arrivalMs: endMs + this.link.latencyMs };
  }

  /** A frame on the lane free first (an unlimited link: each lane at the host's copy rate). */
  private occupyLane(bytes: number, nowMs: number): Occupancy {
    let lane = 0;
    for (let i = 1; i < this.laneFreeMs.length; i++) if (this.laneFreeMs[i] < this.laneFreeMs[lane]) lane = i;
    const startMs = Math.max(this.laneFreeMs[lane], nowMs);
    const bits = this.capBitsPerSec === null ? this.unlimitedBitsPerSec : this.capBitsPerSec;
    const endMs = bits === Infinity ? startMs : startMs + bytes / (bits / 8 / 1000);
    this.laneFreeMs[lane] = endMs;
    this.nextFreeMs = Math.max(this.nextFreeMs, endMs);
    return { startMs, endMs, arrivalMs: endMs + this.link.latencyMs };
  }
}
