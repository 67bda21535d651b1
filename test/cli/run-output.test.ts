/**
 * What `migbench run` prints: by default a short summary within 100 columns and 25 lines (header,
 * verdict, figures), a line per round and the tables only with --verbose, laid out for $COLUMNS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const BIN = fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv = {}): { out: string; all: string; status: number | null } {
  const childEnv = { ...process.env, ...env };
  if (env.COLUMNS === undefined) delete childEnv.COLUMNS;
  const r = spawnSync(process.execPath, [BIN, 'run', ...args], { encoding: 'utf8', env: childEnv, timeout: 120_000 });
  return { out: r.stdout, all: `${r.stdout}${r.stderr}`, status: r.status };
}

function shape(text: string): { lines: number; columns: number } {
  const lines = text.replace(/\n$/, '').split('\n');
  return { lines: lines.length, columns: Math.max(...lines.map((l) => [...l].length)) };
}

test('migbench run with its defaults (virtual clock) prints at most 100 columns and 25 lines, stdout and stderr together', () => {
  const r = run(['--clock', 'virtual']);
  assert.equal(r.status, 0, r.all);
  const s = shape(r.all);
  assert.ok(s.lines <= 25 && s.columns <= 100, `${s.lines} lines, ${s.columns} columns:\n${r.all}`);
  assert.match(r.out, /^COMPLETED · verified$/m);
  for (const row of ['total time', 'downtime', 'bytes sent', 'rounds', 'verified'])
    assert.match(r.out, new RegExp(`^${row} +\\S`, 'm'), row);
  assert.match(r.out, /× RAM/);
  assert.doesNotMatch(r.all, /^round +\d/m, 'no round lines without --verbose');
});

test('a real-clock run of a small guest and a post-copy run keep to 100 columns and 25 lines', () => {
  for (const args of [
    ['--ram', '32MiB'],
    ['--ram', '32MiB', '--link', '1Gbit/s', '--postcopy-after', '1'],
  ]) {
    const r = run(args);
    assert.equal(r.status, 0, r.all);
    const s = shape(r.all);
    assert.ok(
      s.lines <= 25 && s.columns <= 100,
      `${args.join(' ')}: ${s.lines} lines, ${s.columns} columns:\n${r.all}`,
    );
  }
});

test('a run that fails says FAILED and why in its first line, and exits 1', () => {
  const r = run([
    '--clock',
    'virtual',
    '--ram',
    '64MiB',
    '--link',
    '100Mbit/s',
    '--dirty-rate',
    '200MB/s',
    '--timeout',
    '5s',
  ]);
  assert.equal(r.status, 1, r.all);
  assert.match(r.out, /^FAILED: .*timeout/m);
  assert.match(r.out, /^verified +no: the migration did not complete$/m);
});

test('--verbose: round lines and the tables, laid out for $COLUMNS (cut into column groups, wrapped)', () => {
  for (const columns of ['100', '80']) {
    const r = run(['--clock', 'virtual', '--ram', '64MiB', '--verbose'], { COLUMNS: columns });
    assert.equal(r.status, 0, r.all);
    for (const title of ['Stages', 'Rounds (', 'Totals', "QEMU's statistics"]) assert.ok(r.out.includes(title), title);
    assert.match(r.all, /^round +0 +precopy/m);
    assert.ok(shape(r.all).columns <= Number(columns), `COLUMNS=${columns}: ${shape(r.all).columns} columns`);
  }
});

test('suite and evacuate summaries keep to 100 columns too (wide tables cut into column groups)', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'migbench-width-'));
  const suite = spawnSync(
    process.execPath,
    [
      BIN,
      'suite',
      fileURLToPath(new URL('../../../bench/suites/convergence.yaml', import.meta.url)),
      '--out',
      out,
      '--reduce',
    ],
    { encoding: 'utf8', timeout: 120_000, env: { ...process.env, COLUMNS: '' } },
  );
  assert.equal(suite.status, 0, suite.stderr);
  assert.ok(shape(suite.stdout).columns <= 100, `suite: ${shape(suite.stdout).columns} columns:\n${suite.stdout}`);
  assert.match(suite.stdout, /│ policy │ downtime-limit │ dirty-rate │ max-iterations │ total time \(ms\)/);
  const evac = spawnSync(
    process.execPath,
    [BIN, 'evacuate', '--vm', 'ram=32MiB', '--vm', 'ram=64MiB,dirty-rate=50MB/s', '--clock', 'virtual'],
    { encoding: 'utf8', timeout: 120_000, env: { ...process.env, COLUMNS: '' } },
  );
  assert.equal(evac.status, 0, evac.stderr);
  assert.ok(shape(evac.stdout).columns <= 100, `evacuate: ${shape(evac.stdout).columns} columns:\n${evac.stdout}`);
});
