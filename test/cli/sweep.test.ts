/** `run --sweep OPTION=V1,V2 --out DIR`: a suite folder from the command line, resumable, with its report; mistakes in one line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, 'run', ...args], { encoding: 'utf8', timeout: 120_000 });

test('a sweep of the dirty rate over two repeats writes a suite folder with a record per run, summaries and a report', () => {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'migbench-sweep-')), 'rates');
  const args = [
    '--clock',
    'virtual',
    '--ram',
    '32MiB',
    '--link',
    '1Gbit/s',
    '--sweep',
    'dirty-rate=10MB/s,50MB/s,100MB/s',
    '--runs',
    '2',
    '--out',
    out,
    '--quiet',
  ];
  const r = run(...args);
  assert.equal(r.status, 0, r.stderr);
  const suite = readFileSync(path.join(out, 'sweep.yaml'), 'utf8');
  assert.match(suite, /dirty-rate:\n\s+- 10MB\/s\n\s+- 50MB\/s\n\s+- 100MB\/s/);
  assert.match(suite, /repeat: 2/);
  const records = readFileSync(path.join(out, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { status: string; result?: { config: { ramBytes: number } } });
  assert.equal(records.length, 6);
  assert.ok(
    records.every((x) => x.status === 'completed' && x.result?.config.ramBytes === 32 * 2 ** 20),
    'the base options hold for every run',
  );
  for (const f of ['summary.md', 'summary.csv', 'report.html']) assert.ok(existsSync(path.join(out, f)), f);
  assert.match(readFileSync(path.join(out, 'summary.md'), 'utf8'), /## Percentiles over the repeats/);
  // The same command again resumes: nothing left to run.
  const again = run(...args.filter((a) => a !== '--quiet'));
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /ran 0 .* skipped 6 already done/);
});

test('sweep mistakes: no --out, an option that is not one, one value, an option also given alone', () => {
  const cases: [string[], RegExp][] = [
    [['--sweep', 'dirty-rate=1MB/s,2MB/s'], /--sweep writes a suite folder: give --out DIR/],
    [['--sweep', 'dirt-rate=1MB/s,2MB/s', '--out', '/tmp/x'], /--sweep dirt-rate: not a run option/],
    [['--sweep', 'dirty-rate=1MB/s', '--out', '/tmp/x'], /give two values or more/],
    [
      ['--sweep', 'dirty-rate=1MB/s,2MB/s', '--dirty-rate', '3MB/s', '--out', '/tmp/x'],
      /--dirty-rate is swept by --sweep: give it once, there/,
    ],
    [['--out', '/tmp/x'], /--out is the folder of a --sweep/],
  ];
  for (const [args, message] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
