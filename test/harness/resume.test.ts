/**
 * Running a suite again into the same directory resumes it: runs already recorded are skipped (a
 * finished suite runs nothing), and results.jsonl and the summaries come out unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expandSuite } from '../../src/suite/expand.js';
import { parseSuite } from '../../src/suite/parse.js';
import { runSuite } from '../../src/harness/run-suite.js';
import type { RunConfig } from '../../src/config/types.js';
import type { MigrationResult } from '../../src/result/schema.js';
import { fakeResult } from '../fixtures/results.js';

const SUITE = `
name: resume
base:
  ram: 16MiB
  link: 2Gbit/s
  timeout: 20s
matrix:
  dirty-rate: [10MB/s, 40MB/s]
`;

test('a second run of a finished suite executes nothing and leaves its results as they were', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-resume-'));
  const first = await runSuite(expandSuite(parseSuite(SUITE, 'resume.yaml')), { outDir: dir, toolVersion: 'test' });
  assert.equal(first.executed, 2);
  assert.equal(first.completed, 2);
  const files = ['results.jsonl', 'summary.csv', 'summary.md'].map((f) => path.join(dir, f));
  const before = files.map((f) => readFileSync(f, 'utf8'));
  assert.equal(before[0].trim().split('\n').length, 2);

  const second = await runSuite(expandSuite(parseSuite(SUITE, 'resume.yaml')), {
    outDir: dir,
    toolVersion: 'test',
    migrate: () => assert.fail('no run should execute on resume'),
  });
  assert.equal(second.executed, 0);
  assert.equal(second.skipped, 2);
  assert.deepEqual(
    files.map((f) => readFileSync(f, 'utf8')),
    before,
  );
});

test('a suite that gained a configuration runs only the new one', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-resume-grow-'));
  const calls: number[] = [];
  const migrate = async (config: RunConfig): Promise<MigrationResult> => {
    calls.push(config.pageWritesPerSec);
    return fakeResult(config);
  };
  await runSuite(expandSuite(parseSuite(SUITE, 'resume.yaml')), { outDir: dir, toolVersion: 'test', migrate });
  assert.equal(calls.length, 2);
  const grown = SUITE.replace('[10MB/s, 40MB/s]', '[10MB/s, 40MB/s, 20MB/s]');
  const again = await runSuite(expandSuite(parseSuite(grown, 'resume.yaml')), {
    outDir: dir,
    toolVersion: 'test',
    migrate,
  });
  assert.equal(again.executed, 1);
  assert.deepEqual(calls.slice(2), [Math.floor(20e6 / 4096)]);
});
