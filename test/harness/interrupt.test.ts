/**
 * An interrupted suite (Ctrl-C: its signal aborts) ends the run in progress without recording it,
 * keeps what was written and writes the summaries; run again, it runs what is left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expandSuite } from '../../src/suite/expand.js';
import { parseSuite } from '../../src/suite/parse.js';
import { runSuite } from '../../src/harness/run-suite.js';
import { fakeResult } from '../fixtures/results.js';

const SUITE = 'name: interrupt\nbase: { ram: 16MiB }\nmatrix:\n  dirty-rate: [1MB/s, 2MB/s, 3MB/s]\n';

test('an abort during the second run keeps the first, records nothing else, and a rerun finishes', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-interrupt-'));
  const plan = expandSuite(parseSuite(SUITE, 'interrupt.yaml'));
  const controller = new AbortController();
  let calls = 0;
  const outcome = await runSuite(plan, {
    outDir: dir,
    toolVersion: 'test',
    signal: controller.signal,
    migrate: async (config, hooks) => {
      calls++;
      if (calls === 2) {
        controller.abort();
        assert.equal(hooks.signal?.aborted, true, 'the driver is handed the signal');
        return { ...fakeResult(config), status: 'failed', reason: 'interrupted before the migration completed' };
      }
      return fakeResult(config);
    },
  });
  assert.equal(outcome.interrupted, true);
  assert.equal(outcome.executed, 1);
  assert.equal(calls, 2);
  const lines = readFileSync(path.join(dir, 'results.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 1);
  assert.match(readFileSync(path.join(dir, 'summary.md'), 'utf8'), /1 completed, 0 failed, 2 not run/);

  const rest = await runSuite(plan, {
    outDir: dir,
    toolVersion: 'test',
    migrate: async (config) => fakeResult(config),
  });
  assert.equal(rest.executed, 2);
  assert.equal(rest.skipped, 1);
});

test('a torn last line (a writer killed mid-line) is cut off before appending', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-torn-'));
  const plan = expandSuite(parseSuite(SUITE, 'interrupt.yaml'));
  await runSuite(
    { ...plan, runs: plan.runs.slice(0, 1) },
    { outDir: dir, toolVersion: 'test', migrate: async (c) => fakeResult(c) },
  );
  appendFileSync(path.join(dir, 'results.jsonl'), '{"recordVersion":1,"suite":"interr');
  const outcome = await runSuite(plan, { outDir: dir, toolVersion: 'test', migrate: async (c) => fakeResult(c) });
  assert.equal(outcome.executed, 2);
  const lines = readFileSync(path.join(dir, 'results.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 3);
  for (const l of lines) JSON.parse(l);
});
