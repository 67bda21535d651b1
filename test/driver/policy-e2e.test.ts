import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMigration } from '../../src/driver/migrate.js';
import { STAGE_NAMES } from '../../src/result/schema.js';
import { POLICY_NAMES } from '../../src/policy/registry.js';
import { smallConfig } from '../fixtures/migrate.js';

for (const policy of POLICY_NAMES) {
  test(`a ${policy}-policy migration of a 32 MiB guest completes, verified, through all six stages`, async () => {
    const result = await runMigration(smallConfig({ policy }));
    assert.equal(result.status, 'completed', result.reason);
    assert.equal(result.verified, true);
    assert.equal(result.sourceRunning, false);
    assert.deepEqual(
      result.stages.map((s) => s.name),
      STAGE_NAMES,
    );
    assert.ok(result.iterations.length >= 2, 'a pre-copy round and the stop-and-copy round');
    assert.equal(result.iterations.at(-1)?.phase, 'stop-and-copy');
    assert.equal(result.iterations[0].pagesSent, 32 * 256, 'round 0 sends every page');
    assert.ok(result.totals.downtimeMs > 0 && result.totals.downtimeMs < result.totals.totalTimeMs);
    assert.ok(result.totals.guestPageWrites > 0, 'the guest was writing');
  });
}
