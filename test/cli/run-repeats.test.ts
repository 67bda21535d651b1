/** `run --runs N`: N runs with their own write streams, each figure's mean ± sd, min, median, max; as Markdown and CSV. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarizeRuns } from '../../src/report/runs.js';
import type { MigrationResult } from '../../src/result/schema.js';

const BIN = fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));

test('migbench run --runs 5 --clock virtual --export-markdown gives a table with mean ± sd over 5 differing runs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-runs-'));
  const md = path.join(dir, 'r.md');
  const csv = path.join(dir, 'r.csv');
  const json = path.join(dir, 'r.json');
  const r = spawnSync(
    process.execPath,
    [
      BIN,
      'run',
      '--runs',
      '5',
      '--clock',
      'virtual',
      '--ram',
      '32MiB',
      '--dirty-rate',
      '100MB/s',
      '--link',
      '1Gbit/s',
      '--export-markdown',
      md,
      '--export-csv',
      csv,
      '--export-json',
      json,
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal((r.stdout.match(/^run \d of 5: status: completed/gm) ?? []).length, 5);
  const table = readFileSync(md, 'utf8');
  assert.match(table, /^5 runs: 5 completed, 0 failed/);
  assert.match(table, /\| Figure \(unit\) \| Mean ± sd \| Min \| Median \| p95 \| p99 \| Max \|/);
  assert.match(table, /\| total time \(ms\) \| [\d,.]+ ± [\d,.]+ \|/);
  const rows = readFileSync(csv, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  assert.deepEqual(rows[0], ['figure', 'unit', 'n', 'mean', 'sd', 'min', 'median', 'p95', 'p99', 'max']);
  for (const row of rows.slice(1))
    for (const cell of row.slice(2)) assert.ok(Number.isFinite(Number(cell)), `${row[0]}: ${cell} is a number`);
  // Distinct write streams: the runs differ (virtual-clock repeats of one seed would not).
  const total = rows.find((row) => row[0] === 'total time') as string[];
  assert.ok(Number(total[4]) > 0, `sd of the total time ${total[4]}`);
  const out = JSON.parse(readFileSync(json, 'utf8')) as { kind: string; runs: MigrationResult[] };
  assert.equal(out.kind, 'runs');
  assert.equal(new Set(out.runs.map((x) => x.config.writeSeed)).size, 5);
  const bad = spawnSync(process.execPath, [BIN, 'run', '--runs', '2', '--html', path.join(dir, 'x.html')], {
    encoding: 'utf8',
  });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--html reports one run/);
});

test('the figures: sample standard deviation, the median of an even count, failed runs left out and counted', () => {
  const result = (total: number, status: 'completed' | 'failed' = 'completed'): MigrationResult =>
    ({
      status,
      reason: status === 'failed' ? 'did not converge' : undefined,
      totals: {
        totalTimeMs: total,
        downtimeMs: 1,
        bytesSent: 2 ** 20,
        iterations: 3,
        achievedLinkBitsPerSec: 1e9,
        achievedDirtyPagesPerSec: 10,
      },
    }) as unknown as MigrationResult;
  const s = summarizeRuns([result(10), result(20), result(30), result(40), result(999, 'failed')]);
  const t = s.figures.find((f) => f.figure === 'total time');
  assert.equal(s.completed, 4);
  assert.deepEqual(s.failures, ['did not converge']);
  assert.equal(t?.mean, 25);
  assert.equal(t?.median, 25);
  assert.ok(Math.abs((t?.sd ?? 0) - Math.sqrt(500 / 3)) < 1e-9);
});
