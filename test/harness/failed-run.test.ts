/**
 * A run that fails is recorded (status failed, with its reason) and the suite goes on; a resume
 * keeps the failure as a result, and --retry-failed runs it again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expandSuite } from '../../src/suite/expand.js';
import { parseSuite } from '../../src/suite/parse.js';
import { runSuite } from '../../src/harness/run-suite.js';
import type { SuiteRecord } from '../../src/suite/schema.js';
import { fakeResult } from '../fixtures/results.js';

// 16 MiB over 200 Mbit/s (25 MB/s): dirtied at 60 MB/s it cannot converge, and qemu gives up
// after --max-iterations 2; the idle guest converges after one round.
const SUITE = `
name: failing
base:
  ram: 16MiB
  link: 200Mbit/s
  downtime-limit: 30ms
  max-iterations: 2
  policy: qemu-rounds
  timeout: 20s
matrix:
  dirty-rate: [60MB/s, 0]
`;

function records(dir: string): SuiteRecord[] {
  return readFileSync(path.join(dir, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as SuiteRecord);
}

test('a migration that fails is recorded with its reason and the next run still runs', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-failed-'));
  const outcome = await runSuite(expandSuite(parseSuite(SUITE, 'failing.yaml')), { outDir: dir, toolVersion: 'test' });
  assert.equal(outcome.executed, 2);
  assert.equal(outcome.failed, 1);
  assert.equal(outcome.completed, 1);
  const [failed, completed] = records(dir);
  assert.equal(failed.status, 'failed');
  assert.match(failed.reason ?? '', /did not converge within 2 iterations/);
  assert.equal(failed.result?.status, 'failed');
  assert.deepEqual(failed.varied, { dirtyRate: '60MB/s' });
  assert.equal(completed.status, 'completed');
  assert.equal(completed.result?.verified, true);

  const csv = readFileSync(path.join(dir, 'summary.csv'), 'utf8').trim().split('\n');
  assert.match(
    csv[0],
    /^config_id,dirty-rate,dirty_rate_bytes_per_s,runs_planned,runs_completed,runs_failed,total_time_ms_mean,total_time_ms_sd,total_time_ms_min,total_time_ms_median,total_time_ms_p95,total_time_ms_p99,total_time_ms_max,/,
  );
  assert.match(
    csv[1],
    /^\w+,60MB\/s,60000000,1,0,1,,,/,
    'the failed configuration has no statistics; the swept value also as a number',
  );
  const md = readFileSync(path.join(dir, 'summary.md'), 'utf8');
  assert.match(md, /## Failed runs[\s\S]*dirty-rate=60MB\/s[\s\S]*did not converge within 2 iterations/);
  assert.match(readFileSync(path.join(dir, 'report.html'), 'utf8'), /did not converge within 2 iterations/);
});

test('a run that throws is recorded as failed; resume keeps it; --retry-failed runs it again', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-throws-'));
  const plan = expandSuite(parseSuite(SUITE, 'failing.yaml'));
  let calls = 0;
  const outcome = await runSuite(plan, {
    outDir: dir,
    toolVersion: 'test',
    migrate: async (config) => {
      calls++;
      if (config.pageWritesPerSec > 0) throw new Error('worker exploded');
      return fakeResult(config);
    },
  });
  assert.equal(outcome.failed, 1);
  assert.equal(calls, 2);
  assert.match(records(dir)[0].reason ?? '', /stopped with an error: worker exploded/);
  assert.equal(records(dir)[0].result, undefined);

  const resumed = await runSuite(plan, {
    outDir: dir,
    toolVersion: 'test',
    migrate: () => assert.fail('nothing to run'),
  });
  assert.equal(resumed.executed, 0);

  const retried = await runSuite(plan, {
    outDir: dir,
    toolVersion: 'test',
    retryFailed: true,
    migrate: async (config) => fakeResult(config),
  });
  assert.equal(retried.executed, 1);
  assert.equal(retried.completed, 1);
  const all = records(dir);
  assert.equal(all.length, 3, 'the retry is appended; the last record of a run id wins');
  assert.equal(all[2].runId, all[0].runId);
  assert.match(readFileSync(path.join(dir, 'summary.csv'), 'utf8'), /,60MB\/s,60000000,1,1,0,/);
});
