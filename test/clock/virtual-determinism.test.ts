import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMigration } from '../../src/driver/migrate.js';
import { simulatedPart } from '../fixtures/simulated.js';
import { smallConfig } from '../fixtures/migrate.js';

test('the virtual clock gives the same result twice for the same seed, and another for another seed', async () => {
  const config = smallConfig({
    clock: 'virtual',
    ramBytes: 32 * 1024 * 1024,
    pageWritesPerSec: 60_000,
    linkBitsPerSec: 1e9,
    pattern: { kind: 'hotset', fraction: 0.2, probability: 0.8 },
    policy: 'xen',
    seed: 7,
  });
  const a = await runMigration(config);
  const b = await runMigration(config);
  assert.equal(a.status, 'completed', a.reason);
  assert.equal(a.verified, true);
  assert.ok(a.iterations.length >= 3);
  assert.deepEqual(simulatedPart(a), simulatedPart(b));
  const c = await runMigration({ ...config, seed: 8 });
  assert.notDeepEqual(simulatedPart(c), simulatedPart(a));
});
