/**
 * Sharding a suite (src/suite/shard.ts, src/harness/merge.ts): the shard from --shard or a
 * scheduler's environment; a split that covers every run once, balanced and the same everywhere;
 * three shards merged equal one unsharded run on the virtual clock; a missing shard is reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseShard, splitRuns } from '../../src/suite/shard.js';
import type { PlannedRun } from '../../src/suite/schema.js';

const BIN = fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));

function migbench(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the shard comes from --shard I/N, or from Slurm or Kubernetes', () => {
  assert.deepEqual(parseShard('2/3', {}), { index: 1, count: 3 });
  assert.deepEqual(
    parseShard('auto', { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_MIN: '4', SLURM_ARRAY_TASK_COUNT: '3' }),
    { index: 1, count: 3 },
  );
  assert.deepEqual(parseShard('auto', { JOB_COMPLETION_INDEX: '0', MIGBENCH_SHARD_COUNT: '4' }), {
    index: 0,
    count: 4,
  });
  assert.deepEqual(parseShard('auto/2', { JOB_COMPLETION_INDEX: '1' }), { index: 1, count: 2 });
  assert.throws(() => parseShard('4/3', {}), /shard 4 of 3 does not exist/);
  assert.throws(() => parseShard('0/3', {}), /shard 0 of 3 does not exist/);
  assert.throws(() => parseShard('auto', {}), /finds no scheduler/);
  assert.throws(() => parseShard('auto', { JOB_COMPLETION_INDEX: '1' }), /MIGBENCH_SHARD_COUNT/);
  assert.throws(() => parseShard('half', {}), /--shard must be I\/N/);
});

test('the split covers every run once, balances the cost, and is the same for the same plan', () => {
  const runs = Array.from({ length: 20 }, (_, i) => ({ runId: `r${String(i).padStart(2, '0')}` }) as PlannedRun);
  const cost = (r: PlannedRun): number => 1 + (Number(r.runId.slice(1)) % 7);
  const shards = splitRuns(runs, 3, cost);
  assert.deepEqual(
    shards
      .flat()
      .map((r) => r.runId)
      .sort(),
    runs.map((r) => r.runId),
  );
  const loads = shards.map((s) => s.reduce((n, r) => n + cost(r), 0));
  assert.ok(Math.max(...loads) - Math.min(...loads) <= 7, loads.join(', '));
  assert.deepEqual(
    splitRuns([...runs].reverse(), 3, cost).map((s) => s.map((r) => r.runId).sort()),
    shards.map((s) => s.map((r) => r.runId).sort()),
  );
});

test('three shards, merged by migbench report, equal one unsharded run; a missing shard is reported', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-shard-'));
  const file = path.join(dir, 's.yaml');
  writeFileSync(
    file,
    'name: s\nbase: { ram: 16MiB, clock: virtual, link: 1Gbit/s }\nmatrix: { dirty-rate: [1MB/s, 20MB/s, 60MB/s], policy: [xen, qemu-rounds] }\n',
  );
  const whole = path.join(dir, 'whole');
  assert.equal(migbench('suite', file, '--out', whole, '--quiet').status, 0);
  const sharded = path.join(dir, 'sharded');
  for (const i of [1, 2, 3]) {
    const r = migbench('suite', file, '--out', sharded, '--shard', `${i}/3`, '--quiet');
    assert.equal(r.status, 0, r.stderr);
  }
  const merge = migbench('report', sharded);
  assert.equal(merge.status, 0, merge.stderr);
  assert.match(merge.stderr, /merged 3 shard folders: 6 of 6 runs recorded/);
  const read = (d: string): Map<string, number> =>
    new Map(
      readFileSync(path.join(d, 'results.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { runId: string; result: { totals: { totalTimeMs: number } } })
        .map((r) => [r.runId, r.result.totals.totalTimeMs]),
    );
  assert.deepEqual([...read(sharded)].sort(), [...read(whole)].sort());
  assert.match(readFileSync(path.join(sharded, 'summary.md'), 'utf8'), /xen/);

  const partial = path.join(dir, 'partial');
  assert.equal(migbench('suite', file, '--out', partial, '--shard', '1/3', '--quiet').status, 0);
  const m = migbench('report', partial);
  assert.equal(m.status, 1, 'an incomplete merge exits 1 (its report is written all the same)');
  assert.match(m.stderr, /missing: shards 2, 3 \(no folder\)/);
  assert.match(m.stderr, /missing: 4 runs with no record/);
});

test('recorded results are never lost: a shard is refused over a whole run, a merge keeps what DIR held and says what it chose', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-shard-keep-'));
  const file = path.join(dir, 's.yaml');
  writeFileSync(
    file,
    'name: s\nbase: { ram: 16MiB, clock: virtual, link: 1Gbit/s }\nmatrix: { dirty-rate: [1MB/s, 20MB/s], policy: [xen, qemu-rounds] }\n',
  );
  const whole = path.join(dir, 'whole');
  assert.equal(migbench('suite', file, '--out', whole, '--quiet').status, 0);
  const before = readFileSync(path.join(whole, 'results.jsonl'), 'utf8');
  // The sequence: a shard into the whole run's folder, then report.
  const shard = migbench('suite', file, '--out', whole, '--shard', '1/2', '--quiet');
  assert.equal(shard.status, 2);
  assert.match(shard.stderr, /holds the results of the whole suite "s" run without --shard/);
  assert.equal(readFileSync(path.join(whole, 'results.jsonl'), 'utf8'), before, 'untouched');

  // Shards merged into a folder that holds records already: they are kept, duplicates named.
  const sharded = path.join(dir, 'sharded');
  for (const i of [1, 2])
    assert.equal(migbench('suite', file, '--out', sharded, '--shard', `${i}/2`, '--quiet').status, 0);
  assert.equal(migbench('report', sharded).status, 0);
  const lines = readFileSync(path.join(sharded, 'shard-1-of-2', 'results.jsonl'), 'utf8')
    .trim()
    .split('\n');
  // A corrupt line, a record of a run the plan does not have, and a run recorded again (another
  // finish time) in shard 1; the first merge's copies in DIR are not news.
  const foreign = { ...JSON.parse(lines[0]), runId: 'not-in-the-plan' };
  const redone = { ...JSON.parse(lines[0]), finishedAt: '2030-01-01T00:00:00.000Z' };
  writeFileSync(
    path.join(sharded, 'shard-1-of-2', 'results.jsonl'),
    `${lines.join('\n')}\n{"torn":\n${JSON.stringify(foreign)}\n${JSON.stringify(redone)}\n`,
  );
  const again = migbench('report', sharded);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /merged 2 shard folders: 4 of 4 runs recorded/);
  assert.match(again.stderr, /warning: .*shard-1-of-2\/results\.jsonl: 1 line not a record \(line \d+\): left out/);
  assert.match(again.stderr, /warning: 1 record of runs not in the plan .*: kept in results\.jsonl/);
  const warnings = again.stderr.split('\n').filter((l) => l.includes('warning: run '));
  assert.equal(warnings.length, 1, again.stderr);
  assert.match(
    warnings[0],
    /recorded differently in .*sharded and .*shard-1-of-2: the record from .*shard-1-of-2 is kept/,
  );
  const merged = readFileSync(path.join(sharded, 'results.jsonl'), 'utf8').trim().split('\n');
  assert.equal(merged.length, 5, 'the 4 runs and the foreign record');
});

test('a merge replaces DIR/results.jsonl, never writing through a symlink', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-shard-link-'));
  const file = path.join(dir, 's.yaml');
  writeFileSync(
    file,
    'name: s\nbase: { ram: 16MiB, clock: virtual, link: 1Gbit/s }\nmatrix: { dirty-rate: [1MB/s, 20MB/s] }\n',
  );
  const sharded = path.join(dir, 'sharded');
  for (const i of [1, 2])
    assert.equal(migbench('suite', file, '--out', sharded, '--shard', `${i}/2`, '--quiet').status, 0);
  const outside = path.join(dir, 'outside.txt');
  writeFileSync(outside, 'keep me\n');
  symlinkSync(outside, path.join(sharded, 'results.jsonl'));
  assert.equal(migbench('report', sharded).status, 0);
  assert.equal(readFileSync(outside, 'utf8'), 'keep me\n');
  assert.equal(lstatSync(path.join(sharded, 'results.jsonl')).isSymbolicLink(), false);
});
