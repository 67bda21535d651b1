import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMigration } from '../../src/driver/migrate.js';
import { smallConfig } from '../fixtures/migrate.js';

test('a tiny dirty ring stalls its vCPUs rather than losing writes', async () => {
  const result = await runMigration(
    smallConfig({
      ramBytes: 16 * 1024 * 1024,
      pageWritesPerSec: 200_000,
      linkBitsPerSec: 1e9,
      policy: 'hyperv',
      dirtyLog: 'ring',
      ringSizeEntries: 16,
    }),
  );
  assert.equal(result.status, 'completed', result.reason);
  const stalls = result.iterations.reduce((n, it) => n + (it.ringFullStalls ?? 0), 0);
  const stalledMs = result.iterations.reduce((n, it) => n + (it.ringStallMs ?? 0), 0);
  assert.ok(stalls > 0, 'a 16-entry ring under 200k writes/s must fill');
  assert.ok(stalledMs > 0, 'and the vCPUs must have waited');
  assert.equal(result.verified, true);
});
