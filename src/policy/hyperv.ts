/**
 * Hyper-V's rule: at most 10 pre-copy passes, then suspend regardless; stop earlier when the dirty
 * set is small. Hyper-V does not publish its "small" threshold; migbench takes 0.1 % of guest pages
 * (at least 64 pages), which is what a few milliseconds of a 1 Gbit/s link carry.
 */
import type { PolicyDecision, PolicyState, StopPolicy } from './policy.js';

export const HYPERV_MAX_PASSES = 10;

export class HypervPolicy implements StopPolicy {
  readonly name = 'hyperv';

  decide(s: PolicyState): PolicyDecision {
    const pageCount = s.ramBytes / s.pageSizeBytes;
    const smallPages = Math.max(64, Math.floor(pageCount / 1000));
    const maxPasses = Math.min(HYPERV_MAX_PASSES, s.maxIterations ?? HYPERV_MAX_PASSES);
    if (s.pendingPages <= smallPages) {
      return { action: 'switchover', why: `${s.pendingPages} dirty pages <= ${smallPages} (0.1 % of guest pages)` };
    }
    if (s.roundsDone >= maxPasses) {
      return {
        action: 'switchover',
        why: `pass cap of ${maxPasses} reached with ${s.pendingPages} dirty pages: suspending regardless`,
      };
    }
    return {
      action: 'continue',
      why: `${s.pendingPages} dirty pages > ${smallPages}; pass ${s.roundsDone} of ${maxPasses}`,
    };
  }
}
