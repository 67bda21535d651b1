// A pre-copy loop of your own: migbench's round-based loop, with a time budget. Rounds go on as
// the stop policy says; once the budget is spent the loop switches over whatever the policy
// would do (vMotion and KubeVirt bound pre-copy in time, not in rounds).
//
//   migbench run --policy xen --precopy-loop ./examples/loops/time-budget.js --loop-opt budget-ms=1500
//
// run(ctx) is called once, when pre-copy starts; it returns { action: 'switchover' | 'fail', why }.
//   await ctx.sendRound(all)   one round: every page (all = true) or what a fresh fetch of the dirty
//                              log finds; waits until it has arrived; returns the round's record
//                              (bytesSent, durationMs, achievedLinkBitsPerSec, dirtyPages, ... as in
//                              a result's iterations[])
//   ctx.pendingPages()         dirty pages the dirty log holds now
//   ctx.afterRound(facts)      the convergence aids act on a round: { round, durationMs, bytesSent,
//                              pagesDirtied, pageSizeBytes }
//   ctx.decide(state)          the stop policy's answer to a PolicyState (see the policy example)
//   ctx.record(round, why)     keep the round in the result, with what was decided after it
//   ctx.checkpoint()           throws when the run was interrupted or its --timeout passed
//   ctx.nowMs()                the run's clock, ms; ctx.settings, ctx.controls as the aids see them
// Then the stop-and-copy stage sends what the dirty log holds.
//
// Options (--loop-opt): budget-ms, the pre-copy time after which it switches over (default 2000).

// The options it takes: migbench refuses any other (a mistyped one is an error, not ignored).
export const options = { 'budget-ms': 'the pre-copy time after which it switches over (default 2000)' };

export default function timeBudget(options) {
  const budgetMs = Number(options['budget-ms'] ?? 2000);
  if (!(budgetMs > 0))
    throw new Error(`budget-ms must be a positive number of milliseconds, got ${options['budget-ms']}`);
  return {
    name: 'time-budget',
    async run(ctx) {
      const startMs = ctx.nowMs();
      let totalBytes = 0;
      for (let index = 0; ; index++) {
        const round = await ctx.sendRound(index === 0);
        totalBytes += round.bytesSent;
        const pendingPages = ctx.pendingPages();
        ctx.afterRound({
          round: index,
          durationMs: round.durationMs,
          bytesSent: round.bytesSent,
          pagesDirtied: pendingPages,
          pageSizeBytes: ctx.settings.pageSizeBytes,
        });
        const decision = ctx.decide({
          roundsDone: index + 1,
          pendingPages,
          pageSizeBytes: ctx.settings.pageSizeBytes,
          ramBytes: ctx.settings.ramBytes,
          bandwidthBytesPerSec: round.achievedLinkBitsPerSec / 8,
          totalBytesSent: totalBytes,
          downtimeLimitMs: ctx.controls.downtimeLimitMs,
          maxIterations: ctx.settings.maxIterations,
        });
        const spentMs = ctx.nowMs() - startMs;
        if (decision.action === 'continue' && spentMs >= budgetMs) {
          const why = `the pre-copy budget of ${budgetMs} ms is spent (${spentMs.toFixed(0)} ms, ${index + 1} rounds)`;
          ctx.record(round, why);
          return { action: 'switchover', why };
        }
        ctx.record(round, decision.why);
        if (decision.action !== 'continue') return { action: decision.action, why: decision.why };
        ctx.checkpoint();
      }
    },
  };
}
