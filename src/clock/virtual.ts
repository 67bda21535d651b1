/**
 * Simulated time. Nothing happens between two instants unless the driver makes it happen: when
 * the clock moves forward, whoever listens (the simulated guest) does what that much time holds,
 * so a run is a deterministic function of its options and seed, and runs much faster than real
 * time.
 */
import type { Clock } from './clock.js';

export class VirtualClock implements Clock {
  readonly kind = 'virtual';
  private now = 0;
  protected readonly listeners: ((fromMs: number, toMs: number) => void)[] = [];

  /** `advance(from, to)` runs each time the clock moves from `from` to `to`. */
  onAdvance(advance: (fromMs: number, toMs: number) => void): void {
    this.listeners.push(advance);
  }

  nowMs(): number {
    return this.now;
  }

  /**
   * Advances to `ms`, after letting queued microtasks run: work handed to other threads just
   * before (an encoder task piscina posts from a microtask) is posted before the guest writes.
   */
  async sleepUntil(ms: number): Promise<void> {
    await Promise.resolve();
    this.advanceTo(ms);
  }

  /** `ms` of CPU time pass on this clock (--charge-cpu). */
  async spend(ms: number): Promise<void> {
    this.advanceTo(this.nowMs() + ms);
  }

  advanceTo(ms: number): void {
    if (!(ms > this.now)) return;
    const from = this.now;
    for (const advance of this.listeners) advance(from, ms);
    this.now = ms;
  }
}
