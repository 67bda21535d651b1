import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdaptiveRate } from '../../src/converge/adaptive-rate.js';
import type { AidControls } from '../../src/converge/aid.js';

function controls(): AidControls {
  return {
    throttle: 0,
    rateBitsPerSec: null,
    downtimeLimitMs: 300,
    setThrottle(f: number) {
      this.throttle = f;
    },
    setRate(b: number | null) {
      this.rateBitsPerSec = b;
    },
  };
}

test("Xen's adaptive rate: 100 Mbit/s first, then the last round's dirty rate + 50 Mbit/s, capped; full rate at the end", () => {
  const aid = new AdaptiveRate(1e9);
  const c = controls();
  aid.start(c);
  assert.equal(c.rateBitsPerSec, 100e6);
  // 3052 pages of 4 KiB in 1 s is 100 Mbit/s of dirtying: the next round goes at 150 Mbit/s.
  aid.afterRound({ round: 0, durationMs: 1000, bytesSent: 12.5e6, pagesDirtied: 3051.7578125, pageSizeBytes: 4096 }, c);
  assert.ok(Math.abs((c.rateBitsPerSec ?? 0) - 150e6) < 1);
  aid.afterRound({ round: 1, durationMs: 1000, bytesSent: 18.75e6, pagesDirtied: 100_000, pageSizeBytes: 4096 }, c);
  assert.equal(c.rateBitsPerSec, 1e9, 'capped at the link (or --adaptive-max)');
  aid.finalRound(c);
  assert.equal(c.rateBitsPerSec, 1e9);
});
