/**
 * The round-based pre-copy loop: round 0 sends every page; each later round fetches the dirty log
 * and sends what it found; after each round the aids act and the stop policy decides.
 */
import type { PrecopyContext, PrecopyLoop, PrecopyOutcome } from './loop.js';
import type { IterationRecord } from '../result/schema.js';
import { PrecopyFailure } from './loop.js';

export class RoundBasedLoop implements PrecopyLoop {
  readonly name = 'rounds';

  async run(ctx: PrecopyContext): Promise<PrecopyOutcome> {
    const { rounds, dirtyLog, aids, controls, settings } = ctx;
    ctx.limitRate(settings.maxBandwidthBitsPerSec);
    let totalBytes = 0;
    for (let index = 0; ; index++) {
      const it = await rounds.send('precopy', index === 0);
      totalBytes += it.bytesSent;
      const pendingPages = dirtyLog.pending();
      ctx.remaining(pendingPages * settings.pageSizeBytes);
      const facts = {
        round: index,
        durationMs: it.durationMs,
        bytesSent: it.bytesSent,
        pagesDirtied: pendingPages,
        pageSizeBytes: settings.pageSizeBytes,
      };
      for (const aid of aids) aid.afterRound(facts, controls);
      let decision = ctx.decide({
        roundsDone: index + 1,
        pendingPages,
        pageSizeBytes: settings.pageSizeBytes,
        ramBytes: settings.ramBytes,
        bandwidthBytesPerSec: it.achievedLinkBitsPerSec / 8,
        totalBytesSent: totalBytes,
        downtimeLimitMs: controls.downtimeLimitMs,
        maxIterations: settings.maxIterations,
      });
      rounds.add(it, decision.why);
      // --postcopy-after N wins at round N even where the policy would switch over (QEMU starts
      // post-copy once it is asked to); before N, a policy's switch-over completes as pre-copy.
      const postcopyDue = settings.postcopyAfterRounds !== null && index + 1 >= settings.postcopyAfterRounds;
      // A time limit that asks for post-copy fired during the round (KubeVirt's allowPostCopy).
      const postcopyAsked = settings.postcopy && ctx.postcopyRequested();
      if (decision.action === 'switchover' && !postcopyDue && !postcopyAsked) return { decision, postcopyAfter: null };
      if (settings.postcopy && (decision.action === 'fail' || postcopyDue || postcopyAsked)) {
        decision = {
          action: 'switchover',
          why:
            decision.action === 'fail'
              ? `post-copy, as the policy gave up: ${decision.why}`
              : postcopyDue
                ? `post-copy after ${index + 1} pre-copy rounds`
                : `post-copy after ${index + 1} pre-copy rounds, as a time limit asked`,
        };
        return { decision, postcopyAfter: index + 1 };
      }
      if (decision.action === 'fail') throw new PrecopyFailure(decision.why);
      ctx.checkpoint();
    }
  }

  /** What the dirty log holds now, in one round. */
  final(ctx: PrecopyContext): Promise<IterationRecord> {
    return ctx.rounds.send('stop-and-copy', false);
  }
}
