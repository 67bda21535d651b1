import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMigration } from '../../src/driver/migrate.js';
import { smallConfig } from '../fixtures/migrate.js';

test('on the virtual clock the guest writes exactly its rate and the link carries exactly its rate', async () => {
  const r = await runMigration(
    smallConfig({
      clock: 'virtual',
      ramBytes: 64 * 1024 * 1024,
      pageWritesPerSec: 10_000,
      linkBitsPerSec: 1e9,
      latencyMs: 0,
      policy: 'qemu',
      // The clock's own exactness: no dirty-tracking cost slows the guest.
      dirtyCost: { preset: 'none', overrides: {} },
    }),
  );
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
  // Round 0 carries 64 MiB plus framing at 1 Gbit/s: its duration is bytes / rate, to the microsecond.
  const round0 = r.iterations[0];
  assert.ok(Math.abs(round0.durationMs - (round0.bytesSent * 8) / 1e6) < 1e-3, `${round0.durationMs} ms`);
  assert.ok(Math.abs(round0.achievedLinkBitsPerSec - 1e9) / 1e9 < 1e-6);
  assert.ok(
    Math.abs(r.totals.achievedDirtyPagesPerSec - 10_000) / 10_000 < 0.01,
    `${r.totals.achievedDirtyPagesPerSec} writes/s`,
  );
  assert.ok(r.totals.wallTimeMs < r.totals.totalTimeMs, 'faster than the time it simulates');
});
