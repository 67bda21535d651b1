/**
 * vMotion's Stun During Page Send: when the guest dirties memory faster than it is sent, the
 * vCPUs are stunned for short slices in proportion, so that the dirty rate falls to what the link
 * carries (with a margin). Here the stun share is a throttle recomputed after every round.
 */
import type { AidControls, ConvergenceAid, RoundFacts } from './aid.js';
import { dirtyBytesPerSec, sentBytesPerSec } from './aid.js';

/** The dirty rate SDPS aims for, as a share of the transmit rate. */
const TARGET_SHARE = 0.8;
const MAX_STUN = 0.99;

export class Sdps implements ConvergenceAid {
  readonly name = 'sdps';

  afterRound(f: RoundFacts, c: AidControls): void {
    const sent = sentBytesPerSec(f);
    // The guest's own dirty rate, before the stun it ran under this round.
    const unstunned = c.throttle < 1 ? dirtyBytesPerSec(f) / (1 - c.throttle) : Infinity;
    if (unstunned <= sent * TARGET_SHARE || unstunned === 0) {
      c.setThrottle(0);
      return;
    }
    c.setThrottle(Math.min(MAX_STUN, Math.max(0, 1 - (sent * TARGET_SHARE) / unstunned)));
  }
}
