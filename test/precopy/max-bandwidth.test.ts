/** --max-bandwidth is the migration's own rate limit (QEMU's max-bandwidth): it paces pre-copy and is lifted at suspension. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveRunConfig } from '../../src/config/options.js';
import { runMigration } from '../../src/driver/migrate.js';

const base = {
  clock: 'virtual',
  ram: '32MiB',
  dirtyRate: '2000pages/s',
  pattern: 'hotset:0.5:1',
  vcpus: '1',
  seed: '3',
  latency: '0ms',
};

test("pre-copy runs at --max-bandwidth, in QEMU's whole flushes; the final copy at the link's rate", async () => {
  const limited = await runMigration(resolveRunConfig({ ...base, link: 'unlimited', maxBandwidth: '256Mbit/s' }));
  assert.equal(limited.status, 'completed', limited.reason);
  assert.equal(limited.verified, true);
  const round0 = limited.iterations[0];
  // QEMU's count moves in flushes of 32 normal pages (4,104 bytes each on its wire): a 100 ms
  // window's budget of 3.2 MB lets 25 of them go, 2.6 % more than 256 Mbit/s.
  const expected = Math.ceil(3.2e6 / (32 * 4104)) * 32 * 4104 * 8 * 10;
  assert.ok(
    Math.abs(round0.achievedLinkBitsPerSec / expected - 1) < 0.01,
    `round 0 at ${round0.achievedLinkBitsPerSec / 1e6} Mbit/s, QEMU's windows ${expected / 1e6}`,
  );
  const last = limited.iterations.at(-1);
  assert.equal(last?.phase, 'stop-and-copy');
  // An unlimited link (loopback) copies the rest at the host's copy rate (--host-copy-rate, 2 GB/s).
  const atHostRate = ((last?.bytesSent ?? 0) / 2e9) * 1000;
  assert.ok(
    Math.abs((last?.durationMs ?? Infinity) - atHostRate) < 0.01 + 0.02 * atHostRate,
    `the last copy took ${last?.durationMs} ms, ${atHostRate} ms at 2 GB/s`,
  );
  // The same limit on the link itself: the final copy is link-limited, and the downtime longer.
  const slowLink = await runMigration(resolveRunConfig({ ...base, link: '256Mbit/s' }));
  assert.equal(slowLink.status, 'completed', slowLink.reason);
  assert.ok(
    slowLink.totals.downtimeMs > limited.totals.downtimeMs + 1,
    `${slowLink.totals.downtimeMs} vs ${limited.totals.downtimeMs} ms`,
  );
});

test('--max-bandwidth takes a rate or none, and a bad one is named', () => {
  assert.equal(resolveRunConfig({ maxBandwidth: '32MB/s' }).maxBandwidthBitsPerSec, 256e6);
  assert.equal(resolveRunConfig({ maxBandwidth: 'none' }).maxBandwidthBitsPerSec, null);
  assert.equal(resolveRunConfig({}).maxBandwidthBitsPerSec, null);
  assert.throws(() => resolveRunConfig({ maxBandwidth: 'fast' }), /--max-bandwidth must be a rate/);
});

test('the analytic model paces pre-copy at --max-bandwidth and the final copy at the link', async () => {
  const { predictPrecopy } = await import('../../src/model/precopy.js');
  const limited = predictPrecopy(
    resolveRunConfig({
      ram: '256MiB',
      dirtyRate: '4096pages/s',
      maxBandwidth: '256Mbit/s',
      link: '10Gbit/s',
      latency: '0ms',
    }),
  );
  const onLink = predictPrecopy(
    resolveRunConfig({ ram: '256MiB', dirtyRate: '4096pages/s', link: '256Mbit/s', latency: '0ms' }),
  );
  assert.deepEqual(
    limited.rounds.filter((r) => r.phase === 'precopy').map((r) => r.durationMs),
    onLink.rounds.filter((r) => r.phase === 'precopy').map((r) => r.durationMs),
  );
  assert.ok(limited.downtimeMs * 30 < onLink.downtimeMs, `${limited.downtimeMs} against ${onLink.downtimeMs} ms`);
});
