import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMigration } from '../../src/driver/migrate.js';
import { predictPrecopy } from '../../src/model/precopy.js';
import { smallConfig } from '../fixtures/migrate.js';

test('the analytic model matches a sequential-pattern virtual run within a few percent', async () => {
  for (const policy of ['qemu-rounds', 'xen'] as const) {
    const config = smallConfig({
      clock: 'virtual',
      ramBytes: 64 * 1024 * 1024,
      pattern: { kind: 'sequential' },
      pageWritesPerSec: Math.floor(40e6 / 4096),
      linkBitsPerSec: 1e9,
      latencyMs: 0.1,
      policy,
      downtimeLimitMs: 30,
      // The analytic model has no dirty-tracking costs: the run pays none either.
      dirtyCost: { preset: 'none', overrides: {} },
    });
    const model = predictPrecopy(config);
    const run = await runMigration(config);
    assert.equal(run.status, 'completed', run.reason);
    assert.ok(model.converges);
    assert.equal(run.iterations.length, model.rounds.length, `${policy}: rounds`);
    const close = (a: number, b: number, what: string): void =>
      assert.ok(Math.abs(a - b) / b < 0.03, `${policy} ${what}: model ${a.toFixed(1)} vs run ${b.toFixed(1)}`);
    close(model.bytesSent, run.totals.bytesSent, 'bytes sent');
    close(model.totalTimeMs, run.totals.totalTimeMs, 'total time');
    for (let i = 0; i < model.rounds.length - 1; i++)
      close(model.rounds[i].pagesSent, run.iterations[i].pagesSent, `round ${i} pages`);
  }
});
