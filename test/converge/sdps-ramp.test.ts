import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sdps } from '../../src/converge/sdps.js';
import { DowntimeRamp } from '../../src/converge/downtime-ramp.js';
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

test('SDPS stuns the vCPUs in proportion when the guest dirties faster than the link sends, and lets go when it does not', () => {
  const sdps = new Sdps();
  const c = controls();
  // Dirtying 4 pages for each page sent: stun to bring the dirty rate to 80 % of the send rate.
  sdps.afterRound({ round: 0, durationMs: 1000, bytesSent: 1000 * 4096, pagesDirtied: 4000, pageSizeBytes: 4096 }, c);
  assert.ok(Math.abs(c.throttle - 0.8) < 1e-9, `${c.throttle}`);
  // Under that stun the guest dirtied 800 pages: its own rate is still 4000, so the stun holds.
  sdps.afterRound({ round: 1, durationMs: 1000, bytesSent: 1000 * 4096, pagesDirtied: 800, pageSizeBytes: 4096 }, c);
  assert.ok(Math.abs(c.throttle - 0.8) < 1e-9, `${c.throttle}`);
  sdps.afterRound({ round: 2, durationMs: 1000, bytesSent: 1000 * 4096, pagesDirtied: 100, pageSizeBytes: 4096 }, c);
  assert.equal(c.throttle, 0);
});

test('a downtime ramp rises from START to END over STEPS rounds, then stays', () => {
  const ramp = new DowntimeRamp({ startMs: 50, endMs: 250, steps: 4 });
  const c = controls();
  ramp.start(c);
  const seen = [c.downtimeLimitMs];
  for (let round = 0; round < 6; round++) {
    ramp.afterRound({ round, durationMs: 1, bytesSent: 1, pagesDirtied: 1, pageSizeBytes: 4096 }, c);
    seen.push(c.downtimeLimitMs);
  }
  assert.deepEqual(seen, [50, 100, 150, 200, 250, 250, 250]);
});
