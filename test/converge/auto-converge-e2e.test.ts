import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMigration } from '../../src/driver/migrate.js';
import { DEFAULT_AUTO_CONVERGE } from '../../src/config/options.js';
import { smallConfig } from '../fixtures/migrate.js';

// A 32 MiB guest dirtying 40 MB/s over 100 Mbit/s (12.5 MB/s) cannot converge under qemu's rule.
const hopeless = smallConfig({
  clock: 'virtual',
  ramBytes: 32 * 1024 * 1024,
  pageWritesPerSec: Math.floor(40e6 / 4096),
  linkBitsPerSec: 100e6,
  policy: 'qemu',
  timeoutMs: 120_000,
});

test('a guest that does not converge does with --auto-converge, its throttle rising as QEMU raises it', async () => {
  const without = await runMigration(hopeless);
  assert.equal(without.status, 'failed');
  assert.match(without.reason ?? '', /did not converge/);
  const withAc = await runMigration({ ...hopeless, autoConverge: DEFAULT_AUTO_CONVERGE });
  assert.equal(withAc.status, 'completed', withAc.reason);
  assert.equal(withAc.verified, true);
  const throttles = withAc.iterations.filter((i) => i.phase === 'precopy').map((i) => i.throttlePercent);
  assert.equal(throttles[0], 0);
  const steps = throttles.filter((t, i) => i > 0 && t !== throttles[i - 1]);
  assert.equal(steps[0], 20, 'first step to 20 %');
  for (let i = 1; i < steps.length; i++)
    assert.ok(Math.abs(steps[i] - steps[i - 1] - 10) < 1e-9, `+10 % each time: ${steps}`);
  const lastRound = withAc.iterations.filter((i) => i.phase === 'precopy').at(-1)!;
  assert.ok(lastRound.guestPageWritesPerSec < hopeless.pageWritesPerSec * 0.9, 'the guest really slowed down');
});
