/**
 * The dirty-tracking cost model (src/dirtylog/cost.ts): each cost is charged where it falls. A run
 * with one cost set large slows exactly there: a write-protect fault holds its vCPU (the guest's
 * pace drops, the host waits nothing more), a sync holds the migration thread (the round, and with
 * the guest suspended the downtime, grow by what it cost), and so on for each parameter. With
 * every cost zero the run is today's (the characterization cases, recorded before costs existed,
 * run with --dirty-cost none and still match field for field).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveRunConfig, type RawRunOptions } from '../../src/config/options.js';
import { OptionError } from '../../src/util/errors.js';
import { runMigration } from '../../src/driver/migrate.js';
import { costParams, parseDirtyCost, STRATEGY_DEFAULTS } from '../../src/dirtylog/cost.js';
import type { MigrationResult } from '../../src/result/schema.js';

const V: RawRunOptions = {
  clock: 'virtual',
  ram: '32MiB',
  link: '1Gbit/s',
  dirtyRate: '40MB/s',
  pattern: 'uniform',
  seed: '3',
  vcpus: '2',
  downtimeLimit: '100ms',
  timeout: '60s',
  policy: 'qemu-rounds',
};

async function run(options: RawRunOptions): Promise<MigrationResult> {
  const r = await runMigration(resolveRunConfig({ ...V, ...options }));
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
  return r;
}

const sum = (r: MigrationResult, f: (i: MigrationResult['iterations'][number]) => number): number =>
  r.iterations.reduce((n, i) => n + f(i), 0);
const close = (a: number, b: number, what: string): void =>
  assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('--dirty-cost parses none, kvm and kvm with parameters; each strategy has its own defaults', () => {
  assert.deepEqual(parseDirtyCost('none'), { preset: 'none', overrides: {} });
  assert.deepEqual(parseDirtyCost('kvm'), { preset: 'kvm', overrides: {} });
  assert.deepEqual(parseDirtyCost('kvm, fault=5us ,sync-per-gib=1ms'), {
    preset: 'kvm',
    overrides: { faultUs: 5, syncPerGiBUs: 1000 },
  });
  assert.equal(costParams(parseDirtyCost('kvm,fault=5us'), 'bitmap').faultUs, 5);
  assert.equal(costParams(parseDirtyCost('kvm'), 'ring').syncPerGiBUs, 0);
  assert.ok(STRATEGY_DEFAULTS.bitmap.enablePerGiBUs > STRATEGY_DEFAULTS['bitmap-chunked'].enablePerGiBUs);
  assert.equal(
    Object.values(costParams(parseDirtyCost('none'), 'ring')).every((v) => v === 0),
    true,
  );
  const fails = (raw: RawRunOptions, pattern: RegExp): void => {
    assert.throws(
      () => resolveRunConfig(raw),
      (e: unknown) => e instanceof OptionError && e.option === '--dirty-cost' && pattern.test(e.message),
    );
  };
  fails({ dirtyCost: 'qemu' }, /--dirty-cost must be none, kvm, or kvm followed by parameters/);
  fails({ dirtyCost: 'kvm,speed=1us' }, /got "speed=1us"/);
  fails({ dirtyCost: 'kvm,fault=5' }, /--dirty-cost must be a duration/);
  fails({ dirtyCost: 'none,fault=1us' }, /--dirty-cost none takes no parameters/);
  fails(
    { dirtyCost: 'kvm,clear=1us' },
    /--dirty-cost clear does not apply to --dirty-log bitmap \(it applies to bitmap-chunked\)/,
  );
  fails({ dirtyCost: 'kvm,harvest-per-entry=1us', dirtyLog: 'bitmap-chunked' }, /applies to ring/);
  assert.equal(
    resolveRunConfig({ dirtyCost: 'kvm,clear=1us', dirtyLog: 'bitmap-chunked' }).dirtyCost.overrides.clearUs,
    1,
  );
});

test('every cost zero is the emulator without costs: the same run, byte for byte, with no cost records', async () => {
  const zero = 'kvm,fault=0us,enable-per-gib=0us,sync=0us,sync-per-gib=0us,protect-per-page=0us';
  const [none, zeroed] = [await run({ dirtyCost: 'none' }), await run({ dirtyCost: zero })];
  assert.deepEqual(
    zeroed.iterations.map((i) => [i.durationMs, i.bytesSent, i.dirtyPages]),
    none.iterations.map((i) => [i.durationMs, i.bytesSent, i.dirtyPages]),
  );
  assert.equal(none.totals.dirtyCost, undefined);
  assert.equal(
    none.iterations.some((i) => i.dirtyCost !== undefined),
    false,
  );
});

test('a write-protect fault holds its vCPU: the guest slows, the host waits nothing more', async () => {
  const base = 'kvm,enable-per-gib=0us,sync=0us,sync-per-gib=0us,protect-per-page=0us';
  const cheap = await run({ dirtyCost: `${base},fault=0us` });
  const dear = await run({ dirtyCost: `${base},fault=1ms` });
  const d = dear.totals.dirtyCost;
  assert.ok(d !== undefined && d.guest.faults > 100, 'faults counted');
  close(d.guest.faultMs, d.guest.faults * 1, 'each fault costs its 1 ms');
  close(
    sum(dear, (i) => i.dirtyCost?.guest.faultMs ?? 0),
    d.guest.faultMs,
    'rounds sum to the totals',
  );
  assert.equal(d.host.syncMs + d.host.enableMs, 0, 'no host cost');
  // 2 vCPUs at 5,000 writes/s each would write every 0.2 ms; nearly every write faults and costs 1 ms.
  const slowdown = dear.totals.guestPerf?.slowdownDuring ?? 1;
  assert.ok(slowdown < 0.4, `the guest keeps ${slowdown} of its pace`);
  assert.ok((cheap.totals.guestPerf?.slowdownDuring ?? 0) > 0.99, 'no slowdown without the cost');
  // Before logging starts a write faults on nothing: the pace before is the guest's own.
  assert.equal(dear.totals.guestPerf?.beforePageWritesPerSec, cheap.totals.guestPerf?.beforePageWritesPerSec);
});

test('a sync holds the migration thread: each fetch charges its cost, and the final one lengthens the downtime', async () => {
  const base = 'kvm,fault=0us,enable-per-gib=0us,protect-per-page=0us,sync-per-gib=0us';
  const cheap = await run({ dirtyCost: `${base},sync=0us` });
  const dear = await run({ dirtyCost: `${base},sync=200ms` });
  // Round 0 sends every page without a fetch; every later round fetches once.
  for (const i of dear.iterations) assert.equal(i.dirtyCost?.host.syncMs, i.index === 0 ? 0 : 200, `round ${i.index}`);
  const last = dear.iterations.at(-1) as MigrationResult['iterations'][number];
  assert.equal(last.phase, 'stop-and-copy');
  assert.ok(
    dear.totals.downtimeMs >= cheap.totals.downtimeMs + 200 - 1e-6,
    `downtime ${dear.totals.downtimeMs} vs ${cheap.totals.downtimeMs}`,
  );
  assert.ok(last.durationMs >= 200);
  assert.equal(dear.totals.dirtyCost?.guest.faults, 0);
});

test('per GiB and per dirty page: a bitmap fetch walks the guest and re-protects what it found', async () => {
  const r = await run({ dirtyCost: 'kvm,fault=0us,enable-per-gib=0us,sync=0us,sync-per-gib=1s,protect-per-page=1us' });
  for (const i of r.iterations.slice(1)) {
    // 32 MiB is 1/32 GiB: 31.25 ms per fetch, plus 1 us for each page the fetch found.
    close(i.dirtyCost?.host.syncMs ?? NaN, 1000 / 32 + i.dirtyPages * 1e-3, `round ${i.index}`);
  }
  // The two-level bitmap walks its summary, 1/64 of the walk, when its per-GiB cost is the default's ratio.
  const two = costParams(parseDirtyCost('kvm'), 'two-level');
  close(two.syncPerGiBUs * 64, STRATEGY_DEFAULTS.bitmap.syncPerGiBUs, 'two-level walks 1/64');
});

test('enabling the log is charged once, in the first round, per GiB of guest', async () => {
  const r = await run({
    dirtyCost: 'kvm,fault=0us,sync=0us,sync-per-gib=0us,protect-per-page=0us,enable-per-gib=3.2s',
  });
  assert.equal(r.iterations[0].dirtyCost?.host.enableMs, 100);
  assert.ok(r.iterations[0].durationMs >= 100);
  for (const i of r.iterations.slice(1)) assert.equal(i.dirtyCost?.host.enableMs, 0);
});

test('CLEAR_DIRTY_LOG is charged per chunk that held dirty pages, and per page it re-protects', async () => {
  const r = await run({
    dirtyLog: 'bitmap-chunked',
    dirtyRate: '10MB/s',
    dirtyCost: 'kvm,fault=0us,enable-per-gib=0us,sync=0us,sync-per-gib=0us,protect-per-page=0us,clear=1ms',
  });
  const clearMs = sum(r, (i) => i.dirtyCost?.host.clearMs ?? 0);
  assert.ok(clearMs >= 1 && Number.isInteger(Math.round(clearMs * 1e6) / 1e6), `clear ${clearMs} ms: whole calls`);
  const perPage = await run({
    dirtyLog: 'bitmap-chunked',
    dirtyRate: '10MB/s',
    dirtyCost: 'kvm,fault=0us,enable-per-gib=0us,sync=0us,sync-per-gib=0us,clear=0us,protect-per-page=0.1ms',
  });
  // Every page a later round sends was dirty, and its chunk's clear re-protected it.
  for (const i of perPage.iterations.slice(1).filter((x) => x.phase === 'precopy')) {
    close(i.dirtyCost?.host.clearMs ?? NaN, i.pagesSent * 0.1, `round ${i.index}`);
  }
  // Short clears overlap with frames already on the wire; long ones stall the link, and those of
  // the stop-and-copy round, with the guest suspended, lengthen the downtime (by what they cost,
  // less what the frames before them still had on the wire).
  const slow = { dirtyLog: 'bitmap-chunked', dirtyRate: '10MB/s' };
  const held = await run({
    ...slow,
    dirtyCost: 'kvm,fault=0us,enable-per-gib=0us,sync=0us,sync-per-gib=0us,protect-per-page=0us,clear=20ms',
  });
  const none = await run({ ...slow, dirtyCost: 'none' });
  const last = held.iterations.at(-1) as MigrationResult['iterations'][number];
  assert.ok((last.dirtyCost?.host.clearMs ?? 0) >= 20);
  assert.ok(
    held.totals.downtimeMs >= none.totals.downtimeMs + (last.dirtyCost?.host.clearMs ?? NaN) / 2,
    `downtime ${held.totals.downtimeMs} vs ${none.totals.downtimeMs}`,
  );
  assert.ok(
    held.totals.totalTimeMs > none.totals.totalTimeMs + 100,
    `total ${held.totals.totalTimeMs} vs ${none.totals.totalTimeMs}`,
  );
});

test('the dirty ring: harvests per entry, resets per page, and a full ring exits at a cost', async () => {
  // A 256-entry ring on a hot set written at 240 MB/s fills between harvests (the characterization's ring case).
  const ring = { dirtyLog: 'ring', ringSize: '256', dirtyRate: '240MB/s', pattern: 'hotset:0.2:0.8' };
  const r = await run({
    ...ring,
    dirtyCost:
      'kvm,fault=0us,enable-per-gib=0us,sync=0us,reset=0us,protect-per-page=0us,harvest-per-entry=10us,ring-full-exit=2ms',
  });
  const d = r.totals.dirtyCost;
  assert.ok(d !== undefined);
  // Every entry pushed is harvested once (the final harvest is part of the stop-and-copy fetch).
  const stalls = sum(r, (i) => i.ringFullStalls ?? 0);
  assert.ok(stalls > 0, 'the ring fills');
  assert.ok(d.guest.ringFullExits > 0 && d.guest.ringFullExits <= stalls);
  close(d.guest.ringFullExitMs, d.guest.ringFullExits * 2, 'each exit costs its 2 ms');
  const entries = d.host.harvestMs / 0.01;
  assert.ok(
    entries >= 256 && Math.abs(entries - Math.round(entries)) < 1e-6,
    `harvest ${d.host.harvestMs} ms: whole entries`,
  );
  assert.equal(d.host.syncMs, 0);
  const reset = await run({
    ...ring,
    dirtyCost: 'kvm,fault=0us,enable-per-gib=0us,sync=0us,harvest-per-entry=0us,reset=0us,protect-per-page=10us',
  });
  assert.ok((reset.totals.dirtyCost?.host.resetMs ?? 0) >= 256 * 0.01);
  assert.equal(reset.totals.dirtyCost?.host.harvestMs, 0);
});

test('real clock: the costs are spent, so the guest and the migration thread really wait', async () => {
  const real: RawRunOptions = {
    clock: 'real',
    ram: '16MiB',
    link: '2Gbit/s',
    dirtyRate: '20MB/s',
    pattern: 'uniform',
    seed: '3',
    policy: 'qemu-rounds',
    downtimeLimit: '100ms',
  };
  const r = await run({ ...real, dirtyCost: 'kvm,fault=5ms,sync=50ms' });
  // 5,000 writes/s want a write every 0.4 ms per vCPU; nearly every write faults and costs 5 ms.
  const slowdown = r.totals.guestPerf?.slowdownDuring ?? 1;
  assert.ok(slowdown < 0.3, `the guest keeps ${slowdown} of its pace`);
  for (const i of r.iterations.slice(1))
    assert.ok(i.durationMs >= 50, `round ${i.index} took ${i.durationMs} ms with a 50 ms sync`);
  assert.ok(r.totals.downtimeMs >= 50);
});
