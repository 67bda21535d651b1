// A convergence aid of your own: throttle the guest in steps while a round dirties more than a
// share of what it sent (the next round would send that much again), and let go once it does not.
//
//   migbench run --policy xen --aid ./examples/aids/throttle-when-hot.js --aid-opt hot=0.5,step=0.2,max=0.6
//
// After each pre-copy round (and before the stop policy decides) migbench calls
// afterRound(facts, controls) (src/converge/aid.ts):
//   facts.round, facts.durationMs    the round just done, and how long it took (ms)
//   facts.bytesSent                  bytes it put on the wire
//   facts.pagesDirtied               distinct pages the guest dirtied meanwhile (x facts.pageSizeBytes)
//   controls.throttle                the share of time the vCPUs are held back now (0 to 1)
//   controls.setThrottle(fraction)   hold them back that share of the time
//   controls.rateBitsPerSec, controls.setRate(bitsPerSec | null)   the send rate limit (null: the link's)
//   controls.downtimeLimitMs         the downtime limit the policy weighs next (writable)
// start(controls) runs before the first round, finalRound(controls) when the guest is suspended.
//
// Options (--aid-opt): hot, the share of the bytes sent that the bytes dirtied must exceed
// (default 0.5); step, the throttle added or taken off each round (default 0.1); max (default 0.8).

// The options it takes: migbench refuses any other (a mistyped one is an error, not ignored).
export const options = {
  hot: 'the share of the bytes sent that the bytes dirtied must exceed (default 0.5)',
  step: 'the throttle added each time (default 0.1)',
  max: 'the highest throttle (default 0.8)',
};

export default function throttleWhenHot(options) {
  const hot = Number(options.hot ?? 0.5);
  const step = Number(options.step ?? 0.1);
  const max = Number(options.max ?? 0.8);
  if (!(hot > 0) || !(step > 0 && step <= 1) || !(max > 0 && max < 1))
    throw new Error('hot must be above 0, step in (0, 1], max in (0, 1)');
  return {
    name: 'throttle-when-hot',
    afterRound(facts, controls) {
      const dirtiedBytes = facts.pagesDirtied * facts.pageSizeBytes;
      const next =
        dirtiedBytes > hot * facts.bytesSent
          ? Math.min(max, controls.throttle + step)
          : Math.max(0, controls.throttle - step);
      if (next !== controls.throttle) controls.setThrottle(next);
    },
    finalRound(controls) {
      controls.setThrottle(0);
    },
  };
}
