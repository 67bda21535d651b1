/**
 * A rising downtime limit, as KubeVirt proposes: from START to END over STEPS rounds instead of a
 * fixed limit, so a migration that cannot meet a tight limit accepts a looser one as it goes.
 */
import type { AidControls, ConvergenceAid, RoundFacts } from './aid.js';

export interface DowntimeRampOptions {
  startMs: number;
  endMs: number;
  steps: number;
}

export class DowntimeRamp implements ConvergenceAid {
  readonly name = 'downtime-ramp';

  constructor(private readonly o: DowntimeRampOptions) {}

  start(c: AidControls): void {
    c.downtimeLimitMs = this.o.startMs;
  }

  afterRound(f: RoundFacts, c: AidControls): void {
    const step = Math.min(f.round + 1, this.o.steps);
    c.downtimeLimitMs = this.o.startMs + ((this.o.endMs - this.o.startMs) * step) / this.o.steps;
  }
}
