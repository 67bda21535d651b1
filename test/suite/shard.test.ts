/**
 * Sharding a suite (src/suite/shard.ts, src/harness/merge.ts): the shard from --shard or a
 * scheduler's environment; a split that covers every run once, balanced and the same everywhere;
 * three shards merged equal one unsharded run on the virtual clock; a missing shard is reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
  assert.equal(m.status, 0, m.stderr);
  assert.match(m.stderr, /missing: shards 2, 3 \(no folder\)/);
  assert.match(m.stderr, /missing: 4 runs with no record/);
});
