import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMigration } from '../../src/driver/migrate.js';
import { smallConfig } from '../fixtures/migrate.js';

// 16 MiB guest, link 100 Mbit/s (12.5 MB/s), guest dirtying 40 MB/s uniformly: never converges.
const hopeless = smallConfig({
  ramBytes: 16 * 1024 * 1024,
  pageWritesPerSec: Math.floor(40e6 / 4096),
  linkBitsPerSec: 100e6,
  policy: 'qemu-rounds',
  downtimeLimitMs: 30,
});

test('a guest dirtying faster than the link fails at the timeout under qemu, the source still running', async () => {
  const result = await runMigration({ ...hopeless, timeoutMs: 3000 });
  assert.equal(result.status, 'failed');
  assert.match(result.reason ?? '', /did not converge within the timeout/);
  assert.equal(result.sourceRunning, true);
  assert.equal(result.verified, false);
  assert.ok(!result.stages.some((s) => s.name === 'stop-and-copy'), 'the guest was never suspended');
});

test('--max-iterations bounds qemu-rounds: failed with the rounds in the reason', async () => {
  const result = await runMigration({ ...hopeless, maxIterations: 2, timeoutMs: 30_000 });
  assert.equal(result.status, 'failed');
  assert.match(result.reason ?? '', /did not converge within 2 iterations/);
  assert.equal(result.iterations.length, 2);
  assert.equal(result.sourceRunning, true);
});
