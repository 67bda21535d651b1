import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AutoConverge } from '../../src/converge/auto-converge.js';
import type { AidControls, RoundFacts } from '../../src/converge/aid.js';

function controls(): AidControls {
  return {
    throttle: 0,
    rateBitsPerSec: null,
    downtimeLimitMs: 300,
    setThrottle(f: number) {
      this.throttle = Math.round(f * 1000) / 1000;
    },
    setRate(b: number | null) {
      this.rateBitsPerSec = b;
    },
  };
}

const round = (pagesDirtied: number): RoundFacts => ({
  round: 1,
  durationMs: 1000,
  bytesSent: 100 * 4096,
  pagesDirtied,
  pageSizeBytes: 4096,
});

test('auto-converge throttles on the second period over the threshold: 20 %, then +10 % every second time, up to the max', () => {
  const aid = new AutoConverge({ thresholdPercent: 50, initialPercent: 20, incrementPercent: 10, maxPercent: 45 });
  const c = controls();
  const seen: number[] = [];
  for (let i = 0; i < 10; i++) {
    aid.afterRound(round(51), c); // 51 % of the bytes sent were dirtied: over the 50 % threshold
    seen.push(c.throttle);
  }
  assert.deepEqual(seen, [0, 0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.45, 0.45, 0.45]);
});

test('auto-converge leaves the guest alone while dirtying stays at or under the threshold', () => {
  const aid = new AutoConverge({ thresholdPercent: 50, initialPercent: 20, incrementPercent: 10, maxPercent: 99 });
  const c = controls();
  for (let i = 0; i < 5; i++) aid.afterRound(round(50), c);
  assert.equal(c.throttle, 0);
});
