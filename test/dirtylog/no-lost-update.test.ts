import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMigration } from '../../src/driver/migrate.js';
import { DIRTY_LOG_NAMES } from '../../src/dirtylog/registry.js';
import { smallConfig } from '../fixtures/migrate.js';

// No lost update: for every dirty-tracking strategy, writers at a high rate on a hot set of a
// small guest race the driver's scans through hyperv's ten passes; the final copy must still equal
// the source byte for byte.
for (const dirtyLog of DIRTY_LOG_NAMES) {
  test(`--dirty-log ${dirtyLog} loses no update under heavy writes`, async () => {
    const result = await runMigration(
      smallConfig({
        ramBytes: 8 * 1024 * 1024,
        pageWritesPerSec: 300_000,
        pattern: { kind: 'hotset', fraction: 0.25, probability: 0.9 },
        linkBitsPerSec: 2e9,
        policy: 'hyperv',
        dirtyLog,
        ringSizeEntries: 256,
      }),
    );
    assert.equal(result.status, 'completed', result.reason);
    assert.ok(result.iterations.length >= 10, `expected many rounds, got ${result.iterations.length}`);
    assert.ok(result.totals.guestPageWrites > 10_000, 'the writers really raced the scans');
    assert.equal(result.verified, true);
  });
}
