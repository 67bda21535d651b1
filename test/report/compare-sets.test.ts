/** `migbench compare` over sets: two `run --runs` exports, two suite folders; with spread, as CSV and Markdown. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));
const migbench = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });

test('two sets of repeats: each measure mean ± sd on each side, B − A and B / A, as CSV and Markdown', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-cmpsets-'));
  const run = (rate: string, file: string) =>
    assert.equal(
      migbench(
        'run',
        '--runs',
        '3',
        '--clock',
        'virtual',
        '--ram',
        '16MiB',
        '--dirty-rate',
        rate,
        '--quiet',
        '--export-json',
        file,
      ).status,
      0,
    );
  run('20MB/s', path.join(dir, 'a.json'));
  run('200MB/s', path.join(dir, 'b.json'));
  const r = migbench(
    'compare',
    path.join(dir, 'a.json'),
    path.join(dir, 'b.json'),
    '--export-csv',
    path.join(dir, 'c.csv'),
    '--export-markdown',
    path.join(dir, 'c.md'),
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /bytes sent \(MiB\) +│ +[\d.,]+ ± [\d.,]+ \(n=3\)/);
  const csv = readFileSync(path.join(dir, 'c.csv'), 'utf8').trim().split('\n');
  assert.equal(
    csv[0],
    'configuration,measure,a_n,a_mean,a_sd,a_min,a_median,a_max,b_n,b_mean,b_sd,b_min,b_median,b_max,difference,ratio,ratio_sd,verdict',
  );
  const bytes = csv.find((l) => l.includes('bytes sent')) as string;
  assert.ok(Number(bytes.split(',')[15]) > 1, `more dirtying sends more: ${bytes}`);
  assert.match(bytes, /,B is [\d.]+ ± [\d.]+ x higher than A$/, 'the verdict in words');
  assert.match(readFileSync(path.join(dir, 'c.md'), 'utf8'), /\| Configuration \| Measure \| A: mean ± sd \(n\) \|/);
});

test('two folders of one suite match configuration by configuration', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-cmpsuites-'));
  const file = path.join(dir, 's.yaml');
  writeFileSync(
    file,
    'name: s\nbase: { ram: 16MiB, clock: virtual }\nmatrix: { dirty-rate: [5MB/s, 50MB/s] }\nrepeat: 2\n',
  );
  for (const out of ['x', 'y'])
    assert.equal(migbench('suite', file, '--out', path.join(dir, out), '--quiet').status, 0);
  const r = migbench('compare', path.join(dir, 'x'), path.join(dir, 'y', 'results.jsonl'), '--json');
  assert.equal(r.status, 0, r.stderr);
  const c = JSON.parse(r.stdout) as { measures: { config: string; ratio: number }[]; onlyA: string[] };
  assert.deepEqual([...new Set(c.measures.map((m) => m.config))].sort(), ['dirty-rate=50MB/s', 'dirty-rate=5MB/s']);
  for (const m of c.measures) assert.equal(m.ratio, 1, 'the virtual clock repeats itself');
  assert.deepEqual(c.onlyA, []);
});
