/**
 * --policy qemu, QEMU's own loop (src/precopy/qemu.ts): completes verified on both clocks, syncs
 * more often than the round-based loop (--policy qemu-rounds) sends rounds, and keeps
 * --max-bandwidth as 100 ms windows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveRunConfig } from '../../src/config/options.js';
import { runMigration } from '../../src/driver/migrate.js';

const scenario = {
  policy: 'qemu',
  ram: '32MiB',
  vcpus: '1',
  dirtyRate: '1500pages/s',
  pattern: 'hotset:0.5:1',
  content: 'random',
  codec: 'zero',
  maxBandwidth: '64Mbit/s',
  link: 'unlimited',
  latency: '0ms',
  downtimeLimit: '100ms',
  seed: '5',
};

test('virtual clock: completes verified, with a sync per record and pre-copy at max-bandwidth on average', async () => {
  const q = await runMigration(resolveRunConfig({ ...scenario, clock: 'virtual' }));
  assert.equal(q.status, 'completed', q.reason);
  assert.equal(q.verified, true);
  assert.match(q.switchoverReason ?? '', /< threshold .* after \d+ syncs/);
  const precopy = q.iterations.filter((i) => i.phase === 'precopy');
  const bytes = precopy.reduce((n, i) => n + i.bytesSent, 0);
  const ms = precopy.reduce((n, i) => n + i.durationMs, 0);
  // Budgets of 0.8 MB per 100 ms window, sent at once over the unlimited link, then a sleep; QEMU
  // counts in flushes of 32 pages (131 kB on its wire), so a window sends 7 of them.
  const expected = 7 * 32 * 4104 * 8 * 10;
  assert.ok(
    Math.abs((bytes * 8000) / ms / expected - 1) < 0.05,
    `${(bytes * 8000) / ms / 1e6} Mbit/s over pre-copy, QEMU's windows ${expected / 1e6}`,
  );
  // A record runs from one sync to the next: the set-up sync opens the first, the complete's
  // own closes the stop-and-copy record.
  assert.equal(q.qemu?.pagesPerSync.length, q.qemu?.dirtySyncCount);
  assert.equal(q.iterations.length, (q.qemu?.dirtySyncCount ?? 0) - 1, `${q.iterations.length} records`);
});

test('virtual clock: the same result twice; real clock: completes verified', async () => {
  const a = await runMigration(resolveRunConfig({ ...scenario, clock: 'virtual' }));
  const b = await runMigration(resolveRunConfig({ ...scenario, clock: 'virtual' }));
  assert.equal(a.totals.bytesSent, b.totals.bytesSent);
  assert.equal(a.totals.totalTimeMs, b.totals.totalTimeMs);
  const real = await runMigration(resolveRunConfig({ ...scenario, ram: '16MiB', clock: 'real' }));
  assert.equal(real.status, 'completed', real.reason);
  assert.equal(real.verified, true);
});

test('xbzrle under the qemu loop: nothing until the scan wraps, then hits; verified; a cache not a power of two is refused', async () => {
  const q = await runMigration(
    resolveRunConfig({
      ...scenario,
      clock: 'virtual',
      codec: 'zero,xbzrle',
      xbzrleCache: '8MiB',
      compressThreads: '2',
    }),
  );
  assert.equal(q.status, 'completed', q.reason);
  assert.equal(q.verified, true);
  const first = q.iterations[0].codec!;
  // The first record ends at the first sync, near the end of the first pass: no page wrapped yet.
  assert.equal((first.xbzrleCacheHits ?? 0) + (first.xbzrleCacheMisses ?? 0), 0);
  assert.ok((q.totals.codec?.xbzrleCacheHits ?? 0) > 0);
  assert.throws(
    () => resolveRunConfig({ ...scenario, codec: 'zero,xbzrle', xbzrleCache: '12MiB' }),
    /--policy qemu takes a power-of-two --xbzrle-cache/,
  );
});

test('auto-converge under the qemu loop: weighed once per period of over 1 s, raised every second high period', async () => {
  const q = await runMigration(
    resolveRunConfig({
      ...scenario,
      clock: 'virtual',
      dirtyRate: '12000pages/s',
      autoConverge: true,
      timeout: '60s',
    }),
  );
  assert.equal(q.status, 'completed', q.reason);
  const steps: number[] = [];
  let last = 0;
  for (const it of q.iterations) {
    if (it.throttlePercent !== last) steps.push(it.startMs);
    last = it.throttlePercent;
  }
  assert.ok(steps.length >= 2, `throttle raised ${steps.length} times`);
  // Two periods of more than 1 s each between raises.
  for (let i = 1; i < steps.length; i++) assert.ok(steps[i] - steps[i - 1] > 2000, `raises at ${steps.join(', ')} ms`);
  assert.ok(steps[0] > 2000, `first raise at ${steps[0]} ms`);
});

test('a guest sent whole within the first window: the switch-over reason says nothing was pending by the estimate, not "0 B < 0 B"', async () => {
  const r = await runMigration(resolveRunConfig({ clock: 'virtual', ram: '16MiB', dirtyRate: '20MB/s' }));
  assert.equal(r.status, 'completed', r.reason);
  assert.doesNotMatch(r.switchoverReason ?? '', /threshold 0 B/);
  assert.match(r.switchoverReason ?? '', /^nothing pending by QEMU's estimate \(its bitmap, without a sync/);
  // The round ended without a sync: its dirty rate is the dirty log's count since the last, not 0.
  const round0 = r.iterations[0];
  assert.ok(round0.dirtyPagesPerSec > 0.5 * round0.guestPageWritesPerSec, `${round0.dirtyPagesPerSec} pages/s`);
  assert.ok(round0.dirtyPagesPerSec <= round0.guestPageWritesPerSec);
});
