/**
 * A calibration suite (`kind: calibration`): planned from its file (mistakes at their line), run on
 * the real QEMU and in migbench, recorded as it goes, resumed without running a recorded run again,
 * summarized per run and per kind. Needs what npm run guest:build makes (.ci/run runs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { planCalibrationSuite } from '../../src/calibrate/suite.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = path.join(ROOT, 'bin/migbench.js');
const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const built =
  existsSync(path.join(ROOT, 'build/qemu/qemu-system-x86_64')) && existsSync(path.join(ROOT, 'build/guest/vmlinuz'));

test('a calibration suite file: the matrix crossed under the base, names as the references, mistakes at their line', () => {
  const plan = planCalibrationSuite(
    readFileSync(path.join(ROOT, 'bench/suites/calibration.yaml'), 'utf8'),
    'calibration.yaml',
  );
  assert.deepEqual(
    plan.runs.map((r) => r.scenario.name),
    ['cal_r256_w128_bw32_r1000_dt300', 'cal_r256_w128_bw32_r4096_dt300', 'cal_r256_w128_bw32_r16384_dt300'],
  );
  assert.equal(plan.machine.accel, 'tcg');
  assert.throws(
    () =>
      planCalibrationSuite(
        'name: x\nkind: calibration\nbase:\n  ram: 128MiB\n  wss: 64MiB\nmatrix:\n  dirty-rate: [1000pages/s, lots]\n',
        'x.yaml',
      ),
    /x\.yaml:7: dirty-rate: --dirty-rate is the writer's page writes per second/,
  );
  assert.throws(
    () => planCalibrationSuite('name: x\nkind: calibration\nbase:\n  rma: 1GiB\n', 'x.yaml'),
    /x\.yaml:4: base\.rma: not a calibrate scenario option/,
  );
});

test(
  'a calibration suite runs on QEMU and migbench, records each run, resumes, and summarizes per kind',
  { skip: !built && !inCi ? 'npm run guest:build has not run (.ci/run runs it)' : false, timeout: 300_000 },
  () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'migbench-calsuite-'));
    const file = path.join(dir, 'cal.yaml');
    writeFileSync(
      file,
      'name: small\nkind: calibration\naccel: tcg\nbase:\n  ram: 128MiB\n  wss: 64MiB\n  max-bandwidth: 32MiB/s\nmatrix:\n  dirty-rate: [1000pages/s, 2000pages/s]\n',
    );
    const out = path.join(dir, 'out');
    const r = spawnSync(process.execPath, [BIN, 'suite', file, '--out', out], { encoding: 'utf8', timeout: 240_000 });
    assert.equal(r.status, 0, r.stderr);
    const records = readFileSync(path.join(out, 'results.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string; destinationSound: boolean });
    assert.equal(records.length, 2);
    assert.ok(records.every((x) => x.status === 'completed' && x.destinationSound));
    assert.deepEqual(readdirSync(path.join(out, 'references')).sort(), [
      'cal_r128_w64_bw32_r1000_dt300.json',
      'cal_r128_w64_bw32_r2000_dt300.json',
    ]);
    const summary = readFileSync(path.join(out, 'summary.md'), 'utf8');
    assert.match(summary, /\| precopy \| 2 \| 2 of 2 \|/);
    assert.match(readFileSync(path.join(out, 'report.html'), 'utf8'), /<h2>Medians per kind<\/h2>/);
    const again = spawnSync(process.execPath, [BIN, 'suite', file, '--out', out], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /ran 0 \(0 failed\), skipped 2 already done/);
  },
);
