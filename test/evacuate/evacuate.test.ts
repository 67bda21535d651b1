/**
 * Host evacuation (src/evacuate/): every VM migrated and verified over one shared NIC; the
 * simultaneous-migration limits hold; the NIC never carries more than its rate; the virtual clock
 * repeats exactly; KubeVirt's time limits do what they say. Guests are 8 to 32 MiB.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVmText, resolveEvacuation, type EvacuationText } from '../../src/evacuate/config.js';
import { runEvacuation } from '../../src/evacuate/evacuate.js';
import type { EvacuationResult } from '../../src/evacuate/result.js';
import { runMigration } from '../../src/driver/migrate.js';
import { formatEvacuation } from '../../src/report/evacuation.js';

function evacuation(host: EvacuationText['host'], vms: string[], common: EvacuationText['common'] = {}) {
  return resolveEvacuation({ host, common, vms: vms.map((t, i) => parseVmText(t, `--vm ${i + 1}`)) });
}

/** Most migrations running at any instant, from each VM's [start, end]. */
function peakOverlap(r: EvacuationResult, of = (_: string | null) => true): number {
  const edges: [number, number][] = [];
  for (const v of r.vms) {
    if (v.startMs === null || v.endMs === null || !of(v.target)) continue;
    edges.push([v.startMs, 1], [v.endMs, -1]);
  }
  // An end and a start at one instant: the end first (the slot passes on).
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let n = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (n += d));
  return peak;
}

/**
 * `tolerance`: simulated time is exact; real-clock frames are scheduled in epoch milliseconds
 * (about 1.7e12), whose doubles are 2.4e-4 ms apart, so a 5 ms bucket's edges blur by 1e-4 of it.
 */
function checkNic(r: EvacuationResult, rate: number, tolerance = 1e-9): void {
  const buckets = Math.max(...r.nic.series.map((s) => s.bitsPerSec.length));
  for (let b = 0; b < buckets; b++) {
    const sum = r.nic.series.reduce((n, s) => n + (s.bitsPerSec[b] ?? 0), 0);
    assert.ok(sum <= rate * (1 + tolerance), `bucket ${b}: ${sum} bit/s on a ${rate} bit/s NIC`);
  }
  // Every byte of every migration went over the one NIC: the record holds them all ...
  const recorded = r.nic.series.reduce(
    (n, s) => n + s.bitsPerSec.reduce((m, bits) => m + (bits * r.nic.bucketMs) / 8000, 0),
    0,
  );
  assert.ok(
    Math.abs(recorded - r.host.bytesSent) <= r.host.bytesSent * 1e-6,
    `${recorded} bytes recorded, ${r.host.bytesSent} sent`,
  );
  // ... so the evacuation took at least what they need at the NIC's rate (not if each had its own).
  assert.ok(
    r.host.evacuationTimeMs >= ((r.host.bytesSent * 8000) / rate) * (1 - 1e-9),
    `${r.host.evacuationTimeMs} ms for ${r.host.bytesSent} bytes`,
  );
}

/** The result without what real time decides (wall times, measured CPU time, the date). */
function simulated(r: EvacuationResult): string {
  const real = new Set(['wallTimeMs', 'wallMs', 'startedAt', 'environment', 'setup', 'scanMs', 'memoryWallMs']);
  return JSON.stringify(r, (k, v) => (real.has(k) ? undefined : v));
}

const THREE = ['ram=16MiB,dirty-rate=20MB/s', 'ram=32MiB,dirty-rate=80MB/s', 'ram=8MiB'];

test('three VMs over a shared 1 Gbit/s NIC, two at a time, virtual clock: all verified, the same on a rerun', async () => {
  const ev = evacuation({ link: '1Gbit/s', maxConcurrent: '2', clock: 'virtual' }, THREE);
  const a = await runEvacuation(ev);
  assert.equal(a.status, 'completed');
  for (const v of a.vms) {
    assert.equal(v.status, 'migrated', v.reason);
    assert.equal(v.result?.verified, true);
  }
  assert.equal(a.host.migrated, 3);
  assert.equal(a.host.peakConcurrent, 2);
  assert.equal(peakOverlap(a), 2);
  // Listed order: the third starts when the first is done.
  assert.deepEqual(
    a.vms.map((v) => v.startOrder),
    [0, 1, 2],
  );
  assert.equal(a.vms[2].startMs, a.vms[0].endMs);
  checkNic(a, 1e9);
  const b = await runEvacuation(ev);
  assert.equal(simulated(b), simulated(a));
});

test('one VM on the shared timeline is the same migration as a run of its own', async () => {
  const ev = evacuation({ link: '1Gbit/s', clock: 'virtual' }, ['ram=16MiB,dirty-rate=40MB/s,seed=7']);
  const alone = await runMigration(ev.vms[0].config);
  const evac = await runEvacuation(ev);
  const t = evac.vms[0].result?.totals;
  assert.equal(t?.totalTimeMs, alone.totals.totalTimeMs);
  assert.equal(t?.downtimeMs, alone.totals.downtimeMs);
  assert.equal(t?.bytesSent, alone.totals.bytesSent);
  assert.equal(evac.vms[0].result?.iterations.length, alone.iterations.length);
});

test('the limits per source and per target are never exceeded, and the NIC never carries more than its rate (virtual clock)', async () => {
  const vms = [
    'ram=16MiB,dirty-rate=30MB/s',
    'ram=8MiB,dirty-rate=10MB/s',
    'ram=24MiB,dirty-rate=60MB/s',
    'ram=16MiB',
    'ram=8MiB,dirty-rate=5MB/s',
    'ram=16MiB,dirty-rate=50MB/s',
  ];
  const ev = evacuation(
    { link: '2Gbit/s', maxConcurrent: '3', maxPerTarget: '1', targets: '2', clock: 'virtual', order: 'largest-first' },
    vms,
  );
  const r = await runEvacuation(ev);
  assert.equal(r.status, 'completed');
  assert.ok(peakOverlap(r) <= 2, `${peakOverlap(r)} at once, 2 targets of 1`);
  for (const t of ['target-1', 'target-2'])
    assert.equal(
      peakOverlap(r, (x) => x === t),
      1,
      t,
    );
  // Largest first: the 24 MiB VM started first.
  assert.equal(r.vms[2].startOrder, 0);
  checkNic(r, 2e9);
});

test('real clock: the limit holds, every VM verified, and the NIC never carries more than its rate', async () => {
  const ev = evacuation(
    { link: '1Gbit/s', maxConcurrent: '2', background: '20%' },
    THREE.concat('ram=8MiB,dirty-rate=5MB/s'),
    { vcpus: '1' },
  );
  const r = await runEvacuation(ev);
  assert.equal(r.status, 'completed', JSON.stringify(r.vms.map((v) => v.reason)));
  assert.ok(peakOverlap(r) <= 2, `${peakOverlap(r)} at once`);
  assert.ok(r.host.peakConcurrent <= 2);
  // 20 % background: migrations share 800 Mbit/s.
  assert.equal(r.nic.availableBitsPerSec, 0.8e9);
  checkNic(r, 0.8e9, 1e-4);
});

/** A VM that never converges (its whole RAM dirty every round, 20 ms downtime limit) and one that does. */
const BUSY_AND_CALM = ['ram=32MiB,dirty-rate=1GB/s,name=busy', 'ram=32MiB,dirty-rate=1MB/s,name=calm'];
const TIMED = { link: '1Gbit/s', clock: 'virtual' as const, maxConcurrent: '2', completionTimeoutPerGib: '64s' };
const ROUNDS = { policy: 'qemu-rounds', downtimeLimit: '20ms' };

test('completion timeout, cancel: the busy VM stays on the source and says why; the calm one migrates', async () => {
  const r = await runEvacuation(evacuation({ ...TIMED, onCompletionTimeout: 'cancel' }, BUSY_AND_CALM, ROUNDS));
  assert.equal(r.status, 'partial');
  const [busy, calm] = r.vms;
  assert.equal(calm.status, 'migrated');
  assert.equal(busy.status, 'left-behind');
  assert.match(busy.reason ?? '', /cancelled at .*completion timeout of 2\.00 s/);
  assert.equal(busy.result?.sourceRunning, true);
  assert.equal(busy.result?.limits?.[0].action, 'cancel');
  // 32 MiB at 64 s per GiB: 2 s, fired at the first check past it.
  const at = busy.result?.limits?.[0].atMs ?? 0;
  assert.ok(at > 2000 && at < 2100, `fired at ${at} ms`);
  assert.equal(r.host.leftBehind, 1);
});

test('completion timeout, postcopy: the busy VM switches to post-copy at the end of its round and is verified', async () => {
  const r = await runEvacuation(evacuation({ ...TIMED, onCompletionTimeout: 'postcopy' }, BUSY_AND_CALM, ROUNDS));
  assert.equal(r.status, 'completed');
  const busy = r.vms[0].result;
  assert.equal(busy?.verified, true);
  assert.ok(busy?.postcopy, 'post-copy ran');
  assert.match(busy?.switchoverReason ?? '', /as a time limit asked/);
  assert.equal(busy?.limits?.[0].action, 'postcopy');
  assert.equal(r.vms[1].result?.postcopy, undefined, 'the calm VM never needed it');
});

test('completion timeout, auto-converge: the throttle starts when it fires; firing again cancels', async () => {
  const r = await runEvacuation(evacuation({ ...TIMED, onCompletionTimeout: 'auto-converge' }, BUSY_AND_CALM, ROUNDS));
  const busy = r.vms[0].result;
  assert.deepEqual(
    busy?.limits?.map((l) => l.action),
    ['auto-converge', 'cancel'],
  );
  const firedAt = busy?.limits?.[0].atMs ?? 0;
  const before = busy?.iterations.filter((i) => i.startMs + i.durationMs <= firedAt) ?? [];
  assert.ok(before.length > 0 && before.every((i) => i.throttlePercent === 0), 'no throttle before it fired');
  assert.ok(Math.max(...(busy?.iterations.map((i) => i.throttlePercent) ?? [0])) >= 20, 'throttled after');
  assert.equal(r.vms[0].status, 'left-behind');
});

test('progress timeout: a migration whose remaining data sets no new low is cancelled', async () => {
  const r = await runEvacuation(
    evacuation({ link: '1Gbit/s', clock: 'virtual', progressTimeout: '1s' }, ['ram=32MiB,dirty-rate=1GB/s'], ROUNDS),
  );
  const v = r.vms[0];
  assert.equal(v.status, 'left-behind');
  assert.equal(v.result?.limits?.[0].limit, 'progress');
  assert.match(v.reason ?? '', /no progress for the progress timeout of 1\.00 s/);
});

test('bad input names the VM and the key', () => {
  assert.throws(() => parseVmText('ram=16MiB,link=1Gbit/s', '--vm 2'), /--vm 2: link: link is the host's/);
  assert.throws(() => parseVmText('ram=16MiB,colour=blue', '--vm 1'), /--vm 1: colour: not a VM option/);
  assert.throws(() => evacuation({}, ['ram=16MiB', 'ram=huge']), /--vm 2 \(vm-2\): --ram must be/);
  // QEMU's own loop (the default policy) takes post-copy, as KubeVirt's allowPostCopy asks of QEMU.
  assert.equal(
    evacuation({ completionTimeoutPerGib: '1s', onCompletionTimeout: 'postcopy' }, ['ram=16MiB']).vms[0].config
      .postcopy,
    true,
  );
  assert.throws(() => evacuation({ background: '100%' }, ['ram=16MiB']), /--background must leave/);
  assert.throws(
    () => evacuation({ onProgressTimeout: 'cancel' }, ['ram=16MiB']),
    /only applies with --progress-timeout/,
  );
  assert.throws(() => evacuation({ targets: '2' }, ['ram=16MiB,target=3']), /target: the target host's number, 1 to 2/);
  // A codec list keeps its commas.
  assert.deepEqual(evacuation({}, ['ram=16MiB,codec=zero,lz4,vcpus=1']).vms[0].config.codecs, ['zero', 'lz4']);
});

test('a host of 120 VMs empties, 8 at a time, each verified, the NIC shared', async () => {
  const vms = Array.from({ length: 120 }, (_, i) => `name=vm-${i + 1},ram=${i % 3 === 0 ? 2 : 1}MiB,dirty-rate=1MB/s`);
  const r = await runEvacuation(evacuation({ link: '1Gbit/s', clock: 'virtual', maxConcurrent: '8' }, vms));
  assert.equal(r.status, 'completed');
  assert.equal(r.vms.length, 120);
  assert.deepEqual(
    r.vms.filter((v) => v.result?.verified !== true).map((v) => v.name),
    [],
    'every VM verified',
  );
  assert.equal(peakOverlap(r), 8);
  checkNic(r, 1e9);
});

test('a VM key given twice is refused, name and target too; a target is a plain decimal number', () => {
  for (const [text, why] of [
    ['ram=16MiB,ram=32MiB', /ram: given twice/],
    ['name=a,name=b', /name: given twice/],
    ['target=1,target=1', /target: given twice/],
    ['target=0x1', /target: the target host's number, 1, 2, \.\.\. \(got "0x1"\)/],
    ['target=1e0', /got "1e0"/],
    ['target=01', /got "01"/],
  ] as const)
    assert.throws(() => parseVmText(text, '--vm 1'), why, text);
  assert.equal(parseVmText('ram=16MiB,target=2', '--vm 1').target, '2');
});

test('a VM whose downtime passed its limit is flagged beside the EVACUATED headline and in its row', async () => {
  const ev = evacuation({ link: '1Gbit/s', clock: 'virtual' }, [
    'ram=16MiB,dirty-rate=5MB/s,name=calm',
    'ram=16MiB,name=idle',
  ]);
  const r = await runEvacuation(ev);
  assert.equal(r.status, 'completed');
  assert.doesNotMatch(formatEvacuation(r), /OVER/, 'within their limits: no flag');
  const calm = r.vms[0].result!;
  calm.totals.downtimeMs = calm.config.downtimeLimitMs + 163.6;
  const text = formatEvacuation(r);
  assert.match(
    text.split('\n')[0],
    /^EVACUATED: every VM migrated and verified · 1 VM OVER ITS DOWNTIME LIMIT: calm 463\.6 ms > 300\.0 ms$/,
  );
  assert.match(text, /migrated, verified; DOWNTIME OVER ITS LIMIT \(300\.0 ms\)/);
});
