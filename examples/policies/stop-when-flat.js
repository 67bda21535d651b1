// A stop policy of your own: switch over when the dirty set stops shrinking.
//
//   migbench run --policy ./examples/policies/stop-when-flat.js --policy-opt shrink=0.1,patience=2
//
// After each pre-copy round migbench calls decide(state) with the numbers of the round just done
// (src/policy/policy.ts, PolicyState):
//   roundsDone            rounds completed, the first full copy included
//   pendingPages          dirty pages waiting to be sent now (x pageSizeBytes = bytes)
//   pageSizeBytes, ramBytes
//   bandwidthBytesPerSec  what the last round achieved, bytes per second
//   totalBytesSent        bytes sent since the start
//   downtimeLimitMs       --downtime-limit, milliseconds
//   maxIterations         --max-iterations, or null
// and the policy answers { action: 'continue' | 'switchover' | 'fail', why: '...' }: go on copying,
// suspend the guest and copy the rest, or give up (the guest stays on the source).
//
// Options (--policy-opt, text): shrink, the share the dirty set must shrink by in a round to count
// as progress (default 0.05); patience, the rounds without progress before switching over (default 1).

// The options it takes: migbench refuses any other (a mistyped one is an error, not ignored).
export const options = {
  shrink: 'the share the dirty set must shrink by in a round to count as progress (default 0.05)',
  patience: 'rounds without progress before switching over (default 1)',
};

export default function stopWhenFlat(options) {
  const shrink = Number(options.shrink ?? 0.05);
  const patience = Number(options.patience ?? 1);
  if (!(shrink >= 0 && shrink < 1)) throw new Error(`shrink must be a share from 0 to 1, got ${options.shrink}`);
  if (!(Number.isInteger(patience) && patience >= 1))
    throw new Error(`patience must be a whole number of rounds from 1, got ${options.patience}`);
  let previous = Infinity;
  let flat = 0;
  return {
    name: 'stop-when-flat',
    decide(state) {
      const pendingBytes = state.pendingPages * state.pageSizeBytes;
      const expectedDowntimeMs =
        state.bandwidthBytesPerSec > 0 ? (pendingBytes / state.bandwidthBytesPerSec) * 1000 : Infinity;
      if (expectedDowntimeMs <= state.downtimeLimitMs) {
        return {
          action: 'switchover',
          why: `pending ${(pendingBytes / 2 ** 20).toFixed(1)} MiB fits the downtime limit`,
        };
      }
      flat = state.pendingPages > previous * (1 - shrink) ? flat + 1 : 0;
      previous = Math.min(previous, state.pendingPages);
      if (flat >= patience) {
        return {
          action: 'switchover',
          why: `the dirty set stopped shrinking (${state.pendingPages} pages, ${flat} round${flat === 1 ? '' : 's'} without ${shrink * 100} % less)`,
        };
      }
      return { action: 'continue', why: `${state.pendingPages} pages pending, still shrinking` };
    },
  };
}
