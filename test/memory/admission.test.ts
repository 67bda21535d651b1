/**
 * Admission before allocation: a run that cannot fit is refused with one line naming what it needs,
 * what is available and a way out; `run` exits 2 at once, a suite records the run as failed and
 * goes on, and a receiver refuses a handshake beyond --max-ram telling the source why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_RUN_CONFIG } from '../../src/config/options.js';
import { type RunConfig } from '../../src/config/types.js';
import { admissionRefusal, memoryNeed } from '../../src/config/admission.js';
import { cgroupFreeBytes, type MemoryAvailable } from '../../src/memory/admission.js';
import { runMigration } from '../../src/driver/migrate.js';
import { expandSuite } from '../../src/suite/expand.js';
import { parseSuite } from '../../src/suite/parse.js';
import { runSuite } from '../../src/harness/run-suite.js';
import { BIN } from '../fixtures/receiver-process.js';
import { startReceiver } from '../fixtures/receiver.js';
import { smallConfig } from '../fixtures/migrate.js';

const GiB = 2 ** 30;
const available = (gib: number): MemoryAvailable => ({
  bytes: gib * GiB,
  memAvailableBytes: gib * GiB,
  cgroupFreeBytes: null,
  poolIdleBytes: 0,
});

test('the need is source + target + xbzrle caches + runtime, from the layouts', () => {
  const config: RunConfig = { ...DEFAULT_RUN_CONFIG, ramBytes: 20 * GiB };
  const need = memoryNeed(config);
  assert.ok(
    need.sourceBytes > 20 * GiB && need.sourceBytes < 20.2 * GiB,
    'pages plus a few MiB of bitmaps, lists and frame buffers per slot',
  );
  assert.ok(need.targetBytes >= need.sourceBytes);
  assert.equal(need.totalBytes, need.sourceBytes + need.targetBytes + need.scratchBytes + need.runtimeBytes);
  assert.equal(
    memoryNeed({ ...config, target: { host: '10.0.0.2', port: 7000 } }).targetBytes,
    0,
    "a remote target is not this host's memory",
  );
  const xbzrle = memoryNeed({ ...config, codecs: ['xbzrle'], compressThreads: 2, xbzrleCacheBytes: 64 * 2 ** 20 });
  assert.equal(xbzrle.scratchBytes, 2 * (64 * 2 ** 20 + 4096), 'one cache (and a page) per encoding lane');
});

test('the refusal names the need, what is available and a way out', () => {
  const config: RunConfig = { ...DEFAULT_RUN_CONFIG, ramBytes: 20 * GiB };
  const needGiB = (memoryNeed(config).totalBytes / GiB).toFixed(1);
  assert.ok(
    Number(needGiB) >= 40.3 && Number(needGiB) <= 40.6,
    `${needGiB} GiB: twice 20 GiB, their work areas and the runtime`,
  );
  assert.equal(
    admissionRefusal(config, memoryNeed(config), available(22.8)),
    `--ram 20GiB needs about ${needGiB} GiB (source and target memory) but 22.8 GiB is available; use --memory procedural, which holds no page bytes and fits`,
  );
  // Procedural memory too large with its target: the target can go elsewhere.
  const tib: RunConfig = { ...config, ramBytes: 1024 * GiB, memory: 'procedural' };
  const tibNeed = memoryNeed(tib);
  const room = (tibNeed.sourceBytes + tibNeed.runtimeBytes) / GiB + 0.1;
  assert.match(
    admissionRefusal(tib, tibNeed, available(room)) ?? '',
    /^--ram 1TiB needs about \d+\.\d GiB \(source and target memory\) but \d+\.\d GiB is available; put the target on another host with migbench receive and --target$/,
  );
  const remote = { ...config, ramBytes: 24 * GiB, target: { host: '10.0.0.2', port: 7000 } };
  assert.match(
    admissionRefusal(remote, memoryNeed(remote), available(22.8)) ?? '',
    /^--ram 24GiB needs about 24\.\d GiB \(source memory\) but 22\.8 GiB is available; use --memory procedural, which holds no page bytes and fits$/,
  );
  const huge = { ...remote, ramBytes: 16 * 1024 * GiB, memory: 'procedural' as const };
  assert.match(
    admissionRefusal(huge, memoryNeed(huge), available(22.8)) ?? '',
    /^--ram 16TiB needs about \d+\.\d GiB \(source memory\) but 22\.8 GiB is available; use a smaller --ram, or a host with more memory$/,
  );
  const xb = { ...config, ramBytes: 12 * GiB, codecs: ['xbzrle' as const], xbzrleCacheBytes: GiB };
  assert.match(
    admissionRefusal(xb, memoryNeed(xb), available(22.8)) ?? '',
    /\(source and target memory, xbzrle caches\)/,
  );
  assert.equal(admissionRefusal({ ...config, ramBytes: 8 * GiB }, undefined, available(22.8)), null, '8 GiB fits');
});

test('cgroup limits are read from v1 and v2 layouts, "no limit" ignored', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-cgroup-'));
  const write = (file: string, text: string): void => {
    spawnSync('mkdir', ['-p', path.dirname(path.join(dir, file))]);
    spawnSync('sh', ['-c', `printf '%s' '${text}' > '${path.join(dir, file)}'`]);
  };
  write('self-v2', '0::/job\n');
  write('root/job/memory.max', '1073741824\n');
  write('root/job/memory.current', '268435456\n');
  assert.equal(cgroupFreeBytes(path.join(dir, 'self-v2'), path.join(dir, 'root')), 768 * 2 ** 20);
  write('self-v1', '4:memory:/job\n0::/\n');
  write('root/memory/job/memory.limit_in_bytes', '9223372036854771712\n');
  write('root/memory/job/memory.usage_in_bytes', '1000\n');
  assert.equal(cgroupFreeBytes(path.join(dir, 'self-v1'), path.join(dir, 'root')), null, 'v1\'s "unlimited"');
});

const need64 = (memoryNeed({ ...DEFAULT_RUN_CONFIG, ramBytes: 64 * GiB }).totalBytes / GiB)
  .toFixed(1)
  .replace('.', '\\.');

test('migbench run refuses a guest that cannot fit at once: exit 2, one line', () => {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, 'run', '--ram', '64GiB'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '', 'no header, no result');
  // 64 GiB: even the source alone cannot fit on a 24 GiB machine; procedural memory would.
  assert.match(
    r.stderr,
    new RegExp(
      `^migbench: --ram 64GiB needs about ${need64} GiB \\(source and target memory\\) but [\\d.]+ GiB is available; use --memory procedural, which holds no page bytes and fits\\n$`,
    ),
  );
  assert.ok(performance.now() - t0 < 10_000, 'before anything is allocated');
});

test('a suite records a run that cannot fit as not run, with the reason, and goes on', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-admit-'));
  const plan = expandSuite(
    parseSuite(
      // Materialized: a procedural 64 GiB guest fits (test/memory/procedural-sizes.test.ts runs one).
      'name: admit\nbase:\n  clock: virtual\n  memory: materialized\n  link: 10Gbit/s\nmatrix:\n  ram: [64GiB, 16MiB]\n',
      'admit.yaml',
    ),
  );
  const outcome = await runSuite(plan, { outDir: dir, toolVersion: 'test' });
  assert.equal(outcome.notRun, 1);
  assert.equal(outcome.failed, 0);
  assert.equal(outcome.completed, 1);
  const records = readFileSync(path.join(dir, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(records[0].status, 'not-run');
  assert.match(records[0].reason, new RegExp(`^not run: --ram 64GiB needs about ${need64} GiB`));
  assert.equal(records[1].status, 'completed');
});

test('a receiver refuses a guest over --max-ram, and the source is told why', async () => {
  const receiver = await startReceiver({ maxRamBytes: 8 * 2 ** 20 });
  try {
    const config = smallConfig({
      ramBytes: 16 * 2 ** 20,
      pageWritesPerSec: 0,
      target: receiver.address,
      clock: 'real',
    });
    const refused = await runMigration(config);
    assert.equal(refused.status, 'failed');
    assert.match(
      refused.reason ?? '',
      /refused the migration: a guest of 16\.0 MiB is over this receiver's --max-ram 8\.0 MiB/,
    );
    assert.equal(refused.sourceRunning, true);
    assert.match(receiver.refused[0] ?? '', /--max-ram/);
    const fits = await runMigration({ ...config, ramBytes: 8 * 2 ** 20 });
    assert.equal(fits.status, 'completed', fits.reason);
    assert.equal(fits.verified, true);
  } finally {
    await receiver.server.close();
  }
});
