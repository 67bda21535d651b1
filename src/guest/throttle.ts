/**
 * How a throttled vCPU runs, on both clocks: QEMU's CPU throttle (migration/cpu-throttle.c,
 * cpu_throttle_timer_tick): at throttle p a timer fires every 10 ms / (1 - p) and queues on every
 * vCPU a sleep of 10 ms x p / (1 - p), so each vCPU runs 10 ms, then sleeps. Auto-converge holds
 * the guest back this way; SDPS (vMotion stuns in slices far shorter than a round) slows its pace
 * evenly instead.
 *
 * What the workload does about a sleep is its own: a CPU-bound one loses the time; a paced one
 * (the reference guest's dirtier, a server answering requests) makes up what fell due while it
 * slept, up to the backlog it keeps (--catch-up), and drops the rest.
 */

/** How a throttle holds the vCPUs back: in QEMU's sleep slices, or by slowing their pace evenly. */
export type ThrottleHow = 'slices' | 'even';

/** CPU_THROTTLE_TIMESLICE_NS: the run slice between two sleeps, ms. */
export const THROTTLE_RUN_MS = 10;

export class ThrottleSlices {
  /** The timer's period: a sleep starts every periodMs, from anchorMs + periodMs on. */
  readonly periodMs: number;
  readonly sleepMs: number;

  /** Throttle `fraction` (0 < fraction < 1) set at anchorMs (cpu_throttle_set re-arms the timer). */
  constructor(
    readonly anchorMs: number,
    readonly fraction: number,
  ) {
    if (!(fraction > 0 && fraction < 1)) throw new RangeError(`a throttle is from 0 to 1 exclusive, got ${fraction}`);
    this.periodMs = THROTTLE_RUN_MS / (1 - fraction);
    this.sleepMs = this.periodMs - THROTTLE_RUN_MS;
  }

  /** When the sleep holding instant `t` ends, or null if the vCPU runs at `t`. */
  sleepEndAt(t: number): number | null {
    const since = t - this.anchorMs;
    if (since < this.periodMs) return null;
    const start = this.anchorMs + Math.floor(since / this.periodMs) * this.periodMs;
    return t < start + this.sleepMs ? start + this.sleepMs : null;
  }
}
