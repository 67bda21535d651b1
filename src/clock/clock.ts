/**
 * The time source the driver is given. Every timestamp in a result comes from it, so a virtual
 * (simulated) clock can replace the real one without touching kernels, strategies or policies.
 */
export interface Clock {
  readonly kind: 'real';
  /** Milliseconds since the clock was started. */
  nowMs(): number;
  /** Converts an epoch time in ms (as worker threads report it) to this clock's time. */
  fromEpochMs(epochMs: number): number;
  /** Resolves once the clock has reached `ms`. */
  sleepUntil(ms: number): Promise<void>;
}

export class RealClock implements Clock {
  readonly kind = 'real';
  private readonly originMs = performance.now();

  nowMs(): number {
    return performance.now() - this.originMs;
  }

  fromEpochMs(epochMs: number): number {
    return epochMs - performance.timeOrigin - this.originMs;
  }

  async sleepUntil(ms: number): Promise<void> {
    for (let left = ms - this.nowMs(); left > 0; left = ms - this.nowMs()) {
      if (left > 2) await new Promise((r) => setTimeout(r, left - 1));
      else await new Promise((r) => setImmediate(r));
    }
  }
}
