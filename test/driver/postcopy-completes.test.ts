import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMigration } from '../../src/driver/migrate.js';
import { smallConfig } from '../fixtures/migrate.js';

for (const clock of ['virtual', 'real'] as const) {
  test(`post-copy after 2 rounds completes and verifies on the ${clock} clock, with page requests recorded`, async () => {
    const r = await runMigration(
      smallConfig({
        clock,
        ramBytes: 32 * 1024 * 1024,
        pageWritesPerSec: 30_000,
        linkBitsPerSec: 500e6,
        postcopy: true,
        postcopyAfterRounds: 2,
        policy: 'qemu-rounds',
      }),
    );
    assert.equal(r.status, 'completed', r.reason);
    assert.equal(r.verified, true, 'the target holds what the guest wrote, on both hosts');
    assert.deepEqual(r.stages.map((s) => s.name).slice(-2), ['announce', 'postcopy']);
    assert.equal(r.iterations.filter((i) => i.phase === 'precopy').length, 2);
    const pc = r.postcopy;
    assert.ok(pc, 'a post-copy record');
    assert.ok(pc.pagesMissingAtResume > 0);
    assert.ok(pc.requests > 0, 'vCPUs touched pages that were not there yet');
    assert.equal(pc.pagesSentOnRequest + pc.pagesPushed, pc.pagesMissingAtResume, 'each missing page sent once');
    assert.ok(pc.blockedMsPerVcpu.every((ms) => ms >= 0) && pc.blockedMsPerVcpu.some((ms) => ms > 0));
    assert.ok(pc.lastPageArrivedMs <= r.totals.totalTimeMs + 1e-6);
    assert.ok(r.totals.downtimeMs < pc.lastPageArrivedMs, 'the guest ran again long before the last page came');
  });
}
