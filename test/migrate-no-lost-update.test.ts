import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMigration } from '../src/driver/migrate.js';
import { smallConfig } from './fixtures/migrate.js';

test('writers at a high rate while the driver scans for many rounds lose no update', async () => {
  // An 8 MiB guest hammered at 400k page writes/s on a hot set: hyperv's rule runs its 10 passes,
  // each racing the writers, then the final copy must still equal the source byte for byte.
  const result = await runMigration(smallConfig({
    ramBytes: 8 * 1024 * 1024,
    dirtyPagesPerSec: 400_000,
    pattern: { kind: 'hotset', fraction: 0.25, probability: 0.9 },
    linkBitsPerSec: 2e9,
    policy: 'hyperv',
  }));
  assert.equal(result.status, 'completed', result.reason);
  assert.ok(result.iterations.length >= 10, `expected many rounds, got ${result.iterations.length}`);
  assert.ok(result.totals.guestPageWrites > 10_000, 'the writers really raced the scans');
  assert.equal(result.verified, true);
});
