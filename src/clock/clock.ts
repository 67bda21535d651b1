/**
 * The time source the driver is given. Every timestamp in a result comes from it, so the virtual
 * (simulated) clock replaces the real one without touching kernels, strategies or policies.
 */
export interface Clock {
  readonly kind: 'real' | 'virtual';
  /** Milliseconds since the clock was started. */
  nowMs(): number;
  /** Resolves once the clock has reached `ms`. */
  sleepUntil(ms: number): Promise<void>;
}

export class RealClock implements Clock {
  readonly kind = 'real';
  private originMs = performance.now();

  /** Time 0 is now: the clock starts with the migration, after set-up. */
  restart(): void {
    this.originMs = performance.now();
  }

  nowMs(): number {
    return performance.now() - this.originMs;
  }

  /** Converts an epoch time in ms (as worker threads report it) to this clock's time. */
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
