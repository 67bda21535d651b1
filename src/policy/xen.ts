/**
 * Xen's rule (tools/libxc xc_domain_save.c): the last round comes when fewer than 50 pages are
 * dirty, after 29 rounds (max_iters), or once 3 x RAM has been sent (max_factor).
 */
import type { PolicyDecision, PolicyState, StopPolicy } from './policy.js';
import { formatBytes } from '../util/format.js';

export const XEN_MIN_DIRTY_PAGES = 50;
export const XEN_MAX_ITERS = 29;
export const XEN_MAX_FACTOR = 3;

export class XenPolicy implements StopPolicy {
  readonly name = 'xen';

  decide(s: PolicyState): PolicyDecision {
    const maxIters = Math.min(XEN_MAX_ITERS, s.maxIterations ?? XEN_MAX_ITERS);
    if (s.pendingPages < XEN_MIN_DIRTY_PAGES) {
      return { action: 'switchover', why: `${s.pendingPages} dirty pages < ${XEN_MIN_DIRTY_PAGES}` };
    }
    if (s.roundsDone >= maxIters) {
      return { action: 'switchover', why: `round cap of ${maxIters} reached with ${s.pendingPages} dirty pages` };
    }
    if (s.totalBytesSent >= XEN_MAX_FACTOR * s.ramBytes) {
      return { action: 'switchover', why: `${formatBytes(s.totalBytesSent)} sent >= ${XEN_MAX_FACTOR} x RAM` };
    }
    return { action: 'continue', why: `${s.pendingPages} dirty pages; round ${s.roundsDone} of ${maxIters}` };
  }
}
