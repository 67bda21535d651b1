/**
 * QEMU's auto-converge (migration/ram.c, migration_trigger_throttle): when the bytes dirtied in a
 * period exceed a threshold share of the bytes sent, twice, throttle the vCPUs: first by the
 * initial percentage, then by the increment each time, up to the maximum.
 */
import type { AidControls, ConvergenceAid, RoundFacts } from './aid.js';

export interface AutoConvergeOptions {
  thresholdPercent: number;
  initialPercent: number;
  incrementPercent: number;
  maxPercent: number;
}

export class AutoConverge implements ConvergenceAid {
  readonly name = 'auto-converge';
  private highCount = 0;

  constructor(private readonly o: AutoConvergeOptions) {}

  afterRound(f: RoundFacts, c: AidControls): void {
    const dirtiedBytes = f.pagesDirtied * f.pageSizeBytes;
    if (dirtiedBytes <= (f.bytesSent * this.o.thresholdPercent) / 100) return;
    if (++this.highCount < 2) return;
    this.highCount = 0;
    const next = c.throttle === 0 ? this.o.initialPercent / 100 : c.throttle + this.o.incrementPercent / 100;
    // QEMU's throttle: the vCPUs sleep in slices (src/guest/throttle.ts).
    c.setThrottle(Math.min(next, this.o.maxPercent / 100), 'slices');
  }
}
