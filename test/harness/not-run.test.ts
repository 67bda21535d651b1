/**
 * A suite with a run that cannot fit in this machine's memory: --dry-run says so beforehand; the
 * suite runs the rest, records that one as not run (not as a failed migration), counts it as not
 * run in its summary and exits 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN } from '../fixtures/receiver-process.js';

test('a run that cannot fit: predicted by --dry-run, recorded as not run, the suite exits 1', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-not-run-'));
  const file = path.join(dir, 'fit.yaml');
  // 64 GiB held in this process's memory (source and target) is more than these machines have.
  writeFileSync(
    file,
    [
      'name: fit',
      'base:',
      '  clock: virtual',
      '  memory: materialized',
      '  dirty-rate: 0',
      'matrix:',
      '  ram: [16MiB, 64GiB]',
      '',
    ].join('\n'),
  );
  const out = path.join(dir, 'out');
  const migbench = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

  const dry = migbench('suite', file, '--out', out, '--dry-run');
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /2 runs; 1 will not fit in this machine's memory/);
  assert.match(dry.stdout, /will not run: --ram 64GiB needs about/);

  const run = migbench('suite', file, '--out', out, '--quiet');
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /1 run did not run \(it does not fit in this machine's memory/);
  const records = readFileSync(path.join(out, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { status: string; reason?: string; varied: { ram: string } });
  assert.deepEqual(
    records.map((r) => [r.varied.ram, r.status]),
    [
      ['16MiB', 'completed'],
      ['64GiB', 'not-run'],
    ],
  );
  const md = readFileSync(path.join(out, 'summary.md'), 'utf8');
  assert.match(md, /2 runs: 1 completed, 0 failed, 1 not run/);
  assert.match(md, /## Failed and not-run runs[\s\S]*not run: --ram 64GiB needs about/);
});
