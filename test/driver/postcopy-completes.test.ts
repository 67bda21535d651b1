import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMigration } from '../../src/driver/migrate.js';
import { smallConfig } from '../fixtures/migrate.js';
import { pageChooser } from '../../src/guest/pattern.js';
import { allCoveredMs } from '../../src/guest/simulated-postcopy-guest.js';
import { Xorshift128 } from '../../src/util/prng.js';

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

for (const clock of ['virtual', 'real'] as const) {
  test(`QEMU's loop: post-copy once dirty-sync-count reaches 2 completes and verifies on the ${clock} clock, with QEMU's statistics`, async () => {
    const r = await runMigration(
      smallConfig({
        clock,
        ramBytes: 32 * 1024 * 1024,
        pageWritesPerSec: 30_000,
        linkBitsPerSec: 500e6,
        maxBandwidthBitsPerSec: 100e6,
        postcopy: true,
        postcopyAfterRounds: 2,
        policy: 'qemu',
      }),
    );
    assert.equal(r.status, 'completed', r.reason);
    assert.equal(r.verified, true, 'the target holds what the guest wrote, on both hosts');
    assert.deepEqual(r.stages.map((s) => s.name).slice(-2), ['announce', 'postcopy']);
    assert.match(r.switchoverReason ?? '', /post-copy: migrate-start-postcopy once dirty-sync-count reached 2/);
    const q = r.qemu;
    assert.ok(q);
    // The switch's own sync, one past the request.
    assert.equal(q.dirtySyncCount, 3);
    const pc = r.postcopy;
    assert.ok(pc);
    assert.equal(pc.pagesSentOnRequest + pc.pagesPushed, pc.pagesMissingAtResume, 'each missing page sent once');
    assert.equal(q.postcopyRequests, pc.requests);
    // Every page after the switch at QEMU's cost: 8 + 4096 bytes, none zero here.
    assert.equal(q.postcopyBytes, pc.pagesMissingAtResume * (8 + 4096));
    assert.ok((q.postcopySwitchBytes ?? 0) > 0);
    assert.ok(q.downtimeMs !== undefined && q.downtimeMs <= (q.stopToResumeMs ?? 0) + 1e-9);
    assert.equal(q.stopToResumeMs, r.totals.downtimeMs);
    assert.deepEqual(q.postcopyVcpuBlocktimeMs, pc.blockedMsPerVcpu);
    // Every vCPU (2) blocked at once: measured on the virtual clock, at most the least blocked one's time.
    if (clock === 'virtual') {
      assert.ok(q.postcopyBlocktimeMs != null && q.postcopyBlocktimeMs > 0);
      assert.ok(q.postcopyBlocktimeMs <= Math.min(...pc.blockedMsPerVcpu) + 1e-9);
    } else assert.equal(q.postcopyBlocktimeMs, null);
  });
}

test("QEMU's loop: migrate-start-postcopy at a time, and completion wins over a request", async () => {
  const base = {
    clock: 'virtual' as const,
    ramBytes: 32 * 1024 * 1024,
    linkBitsPerSec: 500e6,
    maxBandwidthBitsPerSec: 100e6,
    postcopy: true,
    policy: 'qemu' as const,
  };
  const timed = await runMigration(smallConfig({ ...base, pageWritesPerSec: 30_000, postcopyAtMs: 1500 }));
  assert.equal(timed.status, 'completed', timed.reason);
  assert.equal(timed.verified, true);
  assert.match(timed.switchoverReason ?? '', /migrate-start-postcopy at 1\.50 s/);
  // The request comes at the next iteration: within a 100 ms window and a 50 ms iterate.
  const pre = timed.stages.find((s) => s.name === 'precopy');
  assert.ok(pre && pre.startMs + pre.durationMs >= 1500 && pre.startMs + pre.durationMs < 1500 + 160);
  // An idle guest converges before a late request: it completes as pre-copy.
  const idle = await runMigration(smallConfig({ ...base, pageWritesPerSec: 0, postcopyAtMs: 60_000 }));
  assert.equal(idle.status, 'completed');
  assert.equal(idle.postcopy, undefined);
});

test("QEMU's loop: --max-postcopy-bandwidth paces the sweep until what is left is under it x the downtime limit", async () => {
  const base = {
    clock: 'virtual' as const,
    ramBytes: 32 * 1024 * 1024,
    pageWritesPerSec: 0,
    linkBitsPerSec: 500e6,
    postcopy: true,
    postcopyAfterRounds: 1,
    policy: 'qemu' as const,
  };
  const stage = (r: Awaited<ReturnType<typeof runMigration>>): number =>
    r.stages.find((s) => s.name === 'postcopy')?.durationMs ?? NaN;
  const free = await runMigration(smallConfig(base));
  const capped = await runMigration(smallConfig({ ...base, maxPostcopyBandwidthBitsPerSec: 100e6 }));
  for (const r of [free, capped]) {
    assert.equal(r.status, 'completed', r.reason);
    assert.equal(r.verified, true);
  }
  // 32 MiB at the link's 500 Mbit/s: 0.54 s; at 100 Mbit/s but the last 3.75 MB (100 Mbit/s x
  // 300 ms) at the link's rate: 2.38 + 0.06 s.
  assert.ok(Math.abs(stage(free) - 537) < 30, `${stage(free)} ms uncapped`);
  assert.ok(Math.abs(stage(capped) - 2445) < 80, `${stage(capped)} ms capped`);
});

test('a sequential walk over half the guest: post-copy completes and verifies with the walk continued on the target', async () => {
  const r = await runMigration(
    smallConfig({
      clock: 'virtual',
      vcpus: 2,
      ramBytes: 16 * 1024 * 1024,
      pageWritesPerSec: 4000,
      pattern: { kind: 'sequential', fraction: 0.5 },
      linkBitsPerSec: 100e6,
      postcopy: true,
      postcopyAfterRounds: 1,
      policy: 'qemu-rounds',
    }),
  );
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
});

test('all vCPUs blocked at once: the intersection of their blocks', () => {
  assert.equal(
    allCoveredMs([
      [
        [0, 10],
        [20, 30],
      ],
      [[5, 25]],
    ]),
    10,
  );
  assert.equal(allCoveredMs([[[0, 10]], [[10, 20]]]), 0);
  assert.equal(
    allCoveredMs([
      [[0, 10]],
      [
        [2, 4],
        [6, 8],
      ],
      [[3, 7]],
    ]),
    2,
  );
  assert.equal(allCoveredMs([[[1, 4]]]), 3);
});

test('a walk goes on from the writes a vCPU already did: over its working set, per vCPU, wrapping', () => {
  const rng = new Xorshift128(1);
  const walk = (after: number, vcpu = 0, vcpus = 1): number[] => {
    const next = pageChooser({ kind: 'sequential', fraction: 0.5 }, 100, vcpu, vcpus, rng, after);
    return [next(), next(), next()];
  };
  assert.deepEqual(walk(0), [0, 1, 2]);
  assert.deepEqual(walk(30), [30, 31, 32]);
  assert.deepEqual(walk(70), [20, 21, 22], 'the working set is the first 50 pages');
  assert.deepEqual(walk(48), [48, 49, 0]);
  assert.deepEqual(walk(10, 1, 2), [21, 23, 25], 'vCPU 1 of 2 walks the odd pages');
});
