/**
 * QEMU's vCPU throttle (src/guest/throttle.ts): at throttle p each vCPU runs 10 ms, then sleeps
 * 10 ms x p/(1-p); a workload makes up the writes due in a sleep's last --catch-up and drops the
 * rest. On the virtual clock the guest then writes (1 - p) of its pace with no catch-up, more
 * with one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ThrottleSlices, THROTTLE_RUN_MS } from '../../src/guest/throttle.js';
import { resolveRunConfig } from '../../src/config/options.js';
import { runMigration } from '../../src/driver/migrate.js';

test('sleeps of 10 ms x p/(1-p), one every 10 ms / (1-p), the first a period after the throttle is set', () => {
  const s = new ThrottleSlices(100, 0.5);
  assert.equal(THROTTLE_RUN_MS, 10);
  assert.equal(s.periodMs, 20);
  assert.equal(s.sleepMs, 10);
  assert.equal(s.sleepEndAt(100), null);
  assert.equal(s.sleepEndAt(119.9), null);
  assert.equal(s.sleepEndAt(120), 130);
  assert.equal(s.sleepEndAt(129.9), 130);
  assert.equal(s.sleepEndAt(130), null);
  assert.equal(s.sleepEndAt(145), 150);
  const heavy = new ThrottleSlices(0, 0.99);
  assert.ok(Math.abs(heavy.sleepMs - 990) < 1e-9);
  assert.throws(() => new ThrottleSlices(0, 1), RangeError);
});

test('virtual clock: under auto-converge, the guest keeps more of its pace the more it catches up', async () => {
  const options = {
    clock: 'virtual',
    ram: '32MiB',
    vcpus: '1',
    dirtyRate: '12000pages/s',
    pattern: 'hotset:0.5:1',
    content: 'random',
    maxBandwidth: '64Mbit/s',
    link: 'unlimited',
    latency: '0ms',
    downtimeLimit: '100ms',
    seed: '5',
    autoConverge: true,
    timeout: '60s',
  };
  const share = async (catchUp: string): Promise<number> => {
    const r = await runMigration(resolveRunConfig({ ...options, catchUp }));
    assert.equal(r.status, 'completed', r.reason);
    // Records run at the throttle they started with: the pace kept, weighed by their length.
    const throttled = r.iterations.filter(
      (i) => i.phase === 'precopy' && i.throttlePercent >= 20 && i.durationMs >= 100,
    );
    assert.ok(throttled.length > 0);
    const kept = throttled.reduce((n, i) => n + (i.guestPageWritesPerSec / 12000) * i.durationMs, 0);
    const expected = throttled.reduce((n, i) => n + (1 - i.throttlePercent / 100) * i.durationMs, 0);
    return kept / expected;
  };
  const none = await share('0ms');
  const some = await share('5ms');
  assert.ok(
    Math.abs(none - 1) < 0.1,
    `no catch-up (each throttle starts with a full run slice): ${none.toFixed(3)} of (1 - p)`,
  );
  assert.ok(some > none * 1.1, `5 ms catch-up: ${some.toFixed(3)}, none: ${none.toFixed(3)}`);
});
