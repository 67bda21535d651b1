/**
 * Xen's adaptive send rate (tools/libxc xc_domain_save.c): start at 100 Mbit/s; after each round
 * send at the round's dirty rate plus 50 Mbit/s, capped at the link rate (and --adaptive-max);
 * the last round goes at the full rate.
 */
import type { AidControls, ConvergenceAid, RoundFacts } from './aid.js';
import { dirtyBytesPerSec } from './aid.js';

export const XEN_START_BITS_PER_SEC = 100e6;
export const XEN_RATE_INCREMENT_BITS_PER_SEC = 50e6;

export class AdaptiveRate implements ConvergenceAid {
  readonly name = 'adaptive-rate';

  /** `capBitsPerSec`: the lower of the link rate and --adaptive-max; null when neither bounds it. */
  constructor(private readonly capBitsPerSec: number | null) {}

  private capped(bits: number): number {
    return this.capBitsPerSec === null ? bits : Math.min(bits, this.capBitsPerSec);
  }

  start(c: AidControls): void {
    c.setRate(this.capped(XEN_START_BITS_PER_SEC));
  }

  afterRound(f: RoundFacts, c: AidControls): void {
    c.setRate(this.capped(dirtyBytesPerSec(f) * 8 + XEN_RATE_INCREMENT_BITS_PER_SEC));
  }

  finalRound(c: AidControls): void {
    c.setRate(this.capBitsPerSec);
  }
}
