/**
 * Suites of evacuations: the built-in one plans 4 limits x 5 orders, and its reduced version runs
 * through the CLI, writing results, summaries with the answer, and a report with charts; a rerun
 * resumes; a bad matrix value is reported at its line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEvacuationSuite, planEvacuationSuite } from '../../src/evacuate/suite.js';

const BIN = fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));
const SUITE = fileURLToPath(new URL('../../../bench/suites/evacuation.yaml', import.meta.url));

function migbench(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the built-in evacuation suite: 8 VMs, limits 1, 2, 4, 8, five orders, over 10 Gbit/s', () => {
  const plan = planEvacuationSuite(parseEvacuationSuite(readFileSync(SUITE, 'utf8'), SUITE));
  assert.equal(plan.runs.length, 20);
  assert.deepEqual(plan.variedKeys, ['max-concurrent', 'order']);
  for (const r of plan.runs) {
    assert.equal(r.config.vms.length, 8);
    assert.equal(r.config.nicBitsPerSec, 10e9);
    assert.equal(r.config.clock, 'virtual');
  }
  const reduced = planEvacuationSuite(parseEvacuationSuite(readFileSync(SUITE, 'utf8'), SUITE), { reduce: true });
  assert.equal(reduced.runs.length, 2);
  assert.ok(
    reduced.runs.every((r) => r.config.vms.every((v) => v.config.ramBytes <= 32 * 2 ** 20)),
    'small guests',
  );
});

test('the reduced evacuation suite runs through the CLI, resumes, and says whether one at a time is fastest', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-evsuite-'));
  const first = migbench('suite', SUITE, '--out', dir, '--reduce', '--quiet');
  assert.equal(first.status, 0, first.stderr);
  const lines = readFileSync(path.join(dir, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { status: string; result?: { vms: unknown[] } });
  assert.equal(lines.length, 2);
  for (const l of lines) assert.equal(l.status, 'completed');
  const md = readFileSync(path.join(dir, 'summary.md'), 'utf8');
  assert.match(md, /\| max-concurrent \| order \| evacuation \(s\) \| worst downtime \(ms\)/);
  const html = readFileSync(path.join(dir, 'report.html'), 'utf8');
  assert.match(html, /<svg/);
  assert.match(html, /timeline: one lane per VM/);
  const report = migbench('report', dir);
  assert.equal(report.status, 0, report.stderr);
  assert.match(report.stderr, /wrote .*summary\.md/);
  const again = migbench('suite', SUITE, '--out', dir, '--reduce');
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /ran 0 evacuations, skipped 2 already done/);
});

test("an evacuation suite's errors name the file, the line and the key", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-evsuite-bad-'));
  const file = path.join(dir, 's.yaml');
  writeFileSync(
    file,
    'name: s\nkind: evacuation\nhost:\n  vms: [{ ram: 16MiB }]\nmatrix:\n  max-concurrent: [1, lots]\n',
  );
  assert.throws(
    () => planEvacuationSuite(parseEvacuationSuite(readFileSync(file, 'utf8'), file)),
    /s\.yaml:6: matrix\.max-concurrent: --max-concurrent/,
  );
  writeFileSync(file, 'name: s\nkind: evacuation\nhost:\n  vms: [{ ram: 16MiB }]\nmatrix:\n  max-concurent: [1, 2]\n');
  const r = migbench('suite', file, '--out', dir);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /s\.yaml:6: matrix\.max-concurent: not an evacuate option/);
});

test('an evacuation suite shards (--shard I/N) and migbench report merges the shards', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-evshard-'));
  const file = path.join(dir, 'e.yaml');
  writeFileSync(
    file,
    'name: e\nkind: evacuation\nhost:\n  vms: [{ ram: 8MiB }, { ram: 16MiB, dirty-rate: 20MB/s }]\n  clock: virtual\n  link: 1Gbit/s\nmatrix:\n  max-concurrent: [1, 2]\n  order: [listed, largest-first]\n',
  );
  const out = path.join(dir, 'out');
  for (const i of [1, 2]) {
    const r = migbench('suite', file, '--out', out, '--shard', `${i}/2`, '--quiet');
    assert.equal(r.status, 0, r.stderr);
  }
  const merged = migbench('report', out);
  assert.equal(merged.status, 0, merged.stderr);
  assert.match(merged.stderr, /merged 2 shard folders: 4 of 4 evacuations recorded/);
  assert.match(readFileSync(path.join(out, 'summary.md'), 'utf8'), /## Is one at a time fastest\?/);
});
