/**
 * The round-based pre-copy loop: round 0 sends every page; each later round fetches the dirty log
 * and sends what it found; after each round the aids act and the stop policy decides (Xen's,
 * Hyper-V's, and QEMU's switch-over rule weighed after each round: --policy qemu-rounds).
 */
import type { IterationRecord } from '../result/schema.js';
import type { PolicyDecision } from '../policy/policy.js';
import { PrecopyFailure, type PrecopyLoop, type PrecopyLoopKind, type PrecopyOutcome } from './loop.js';
import type { PrecopyPort } from './port.js';

export class RoundBasedLoop implements PrecopyLoop {
  readonly name = 'rounds';

  async run(port: PrecopyPort): Promise<PrecopyOutcome> {
    const { send, dirty, control, settings, guest } = port;
    control.limitRate(settings.maxBandwidthBitsPerSec);
    let totalBytes = 0;
    for (let index = 0; ; index++) {
      const it = await send.round('precopy', index === 0);
      totalBytes += it.bytesSent;
      const pendingPages = dirty.pending();
      control.remaining(pendingPages * guest.pageSizeBytes);
      const { pageSizeBytes, ramBytes } = guest;
      control.afterRound({
        round: index,
        durationMs: it.durationMs,
        bytesSent: it.bytesSent,
        pagesDirtied: pendingPages,
        pageSizeBytes,
      });
      const decision = control.decide({
        roundsDone: index + 1,
        pendingPages,
        pageSizeBytes,
        ramBytes,
        bandwidthBytesPerSec: it.achievedLinkBitsPerSec / 8,
        totalBytesSent: totalBytes,
        downtimeLimitMs: control.controls.downtimeLimitMs,
        maxIterations: settings.maxIterations,
      });
      port.records.keep(it, decision.why);
      const outcome = this.outcome(port, index + 1, decision);
      if (outcome !== null) return outcome;
      control.checkpoint();
    }
  }

  /** What `rounds` rounds and the policy's decision after the last lead to; null: another round. */
  private outcome(port: PrecopyPort, rounds: number, decision: PolicyDecision): PrecopyOutcome | null {
    const { settings, control } = port;
    // --postcopy-after N wins at round N even where the policy would switch over (QEMU starts
    // post-copy once it is asked to); before N, a policy's switch-over completes as pre-copy.
    const postcopyDue = settings.postcopyAfterRounds !== null && rounds >= settings.postcopyAfterRounds;
    // A time limit that asks for post-copy fired during the round (KubeVirt's allowPostCopy).
    const postcopyAsked = settings.postcopy && control.postcopyRequested();
    if (decision.action === 'switchover' && !postcopyDue && !postcopyAsked) return { decision, postcopyAfter: null };
    if (settings.postcopy && (decision.action === 'fail' || postcopyDue || postcopyAsked)) {
      const why =
        decision.action === 'fail'
          ? `post-copy, as the policy gave up: ${decision.why}`
          : postcopyDue
            ? `post-copy after ${rounds} pre-copy rounds`
            : `post-copy after ${rounds} pre-copy rounds, as a time limit asked`;
      return { decision: { action: 'switchover', why }, postcopyAfter: rounds };
    }
    if (decision.action === 'fail') throw new PrecopyFailure(decision.why);
    return null;
  }

  /** What the dirty log holds now, in one round. */
  final(port: PrecopyPort): Promise<IterationRecord> {
    return port.send.round('stop-and-copy', false);
  }
}

export const ROUND_BASED_LOOP: PrecopyLoopKind = {
  name: 'rounds',
  takes: ['maxIterations', 'postcopyAfter', 'postcopy', 'sdps', 'adaptiveRate', 'downtimeRamp'],
  elsewhere: "is QEMU's own loop's: --policy qemu",
  xbzrleCache: 'any',
  create: () => new RoundBasedLoop(),
};
