/**
 * `migbench compare A.json B.json` prints where the configurations differ and every measure with
 * B − A and B / A; it reads results (run --json) and suite records alike, and rejects anything else
 * with one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_RUN_CONFIG } from '../../src/config/options.js';
import { compareResults, formatRatio } from '../../src/report/compare.js';
import { fakeResult } from '../fixtures/results.js';

const BIN = fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));
const a = fakeResult({ ...DEFAULT_RUN_CONFIG, ramBytes: 256 * 2 ** 20 });
const b = fakeResult({ ...DEFAULT_RUN_CONFIG, ramBytes: 256 * 2 ** 20, linkBitsPerSec: 1e9 });

test('the comparison lists the configuration differences and B / A for each measure', () => {
  const c = compareResults(a, b);
  assert.deepEqual(
    c.config.map((d) => d.field),
    ['linkBitsPerSec'],
  );
  assert.deepEqual(c.environment, []);
  const total = c.measures.find((m) => m.measure === 'total time (ms)');
  assert.ok(total?.ratio !== undefined);
  assert.ok(Math.abs(total.ratio - b.totals.totalTimeMs / a.totals.totalTimeMs) < 1e-9);
  assert.ok(total.ratio > 5, 'a 10x slower link takes several times longer');
  assert.equal(total.difference, b.totals.totalTimeMs - a.totals.totalTimeMs);
});

test('migbench compare prints the differences with ratios; suite records are accepted', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-compare-'));
  writeFileSync(path.join(dir, 'a.json'), JSON.stringify(a, null, 2));
  writeFileSync(
    path.join(dir, 'b.json'),
    JSON.stringify({ recordVersion: 1, runId: 'x-r0', status: 'completed', result: b }),
  );
  const r = spawnSync(process.execPath, [BIN, 'compare', path.join(dir, 'a.json'), path.join(dir, 'b.json')], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Configuration differences/);
  assert.match(r.stdout, /linkBitsPerSec\s*│\s*10,000,000,000\s*│\s*1,000,000,000/);
  const ratio = formatRatio(b.totals.totalTimeMs / a.totals.totalTimeMs);
  assert.match(ratio, /^\d+(\.\d+)?×$/);
  assert.ok(
    r.stdout.split('\n').some((l) => l.startsWith('│ total time (ms)') && l.includes(`│ ${ratio} │`)),
    r.stdout,
  );
  assert.match(r.stdout, /B \/ A/);
});

test('a file that is not a result: exit 2 and one line naming it', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-compare-bad-'));
  writeFileSync(path.join(dir, 'a.json'), JSON.stringify(a));
  writeFileSync(path.join(dir, 'b.json'), '{"hello": 1}');
  const r = spawnSync(process.execPath, [BIN, 'compare', path.join(dir, 'a.json'), path.join(dir, 'b.json')], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr.split('\n')[0], /^migbench: .*b\.json is not a migbench result/);
});
