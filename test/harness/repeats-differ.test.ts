/**
 * A suite's repeats of one configuration write with their own seeds (repeatConfig): on the
 * virtual clock they give different bytes and times, from the same initial memory, and each
 * result records its write seed; repeat 0 is the configuration as given.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expandSuite } from '../../src/suite/expand.js';
import { parseSuite } from '../../src/suite/parse.js';
import { runSuite } from '../../src/harness/run-suite.js';

const SUITE = `
name: repeats
base:
  clock: virtual
  ram: 16MiB
  vcpus: 1
  dirty-rate: 40MB/s
  link: 400Mbit/s
  seed: 3
repeat: 3
`;

test('virtual-clock repeats differ in bytes and time, and record their write seeds', async () => {
  const plan = expandSuite(parseSuite(SUITE, 'repeats.yaml'));
  assert.deepEqual(
    plan.runs.map((r) => r.config.seed),
    [3, 3, 3],
  );
  assert.equal(plan.runs[0].config.writeSeed, 3);
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-repeats-'));
  const outcome = await runSuite(plan, { outDir: dir, toolVersion: 'test' });
  assert.equal(outcome.completed, 3);
  const records = readFileSync(path.join(dir, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const seeds = records.map((r) => r.result.config.writeSeed);
  assert.equal(new Set(seeds).size, 3, `write seeds ${seeds}`);
  assert.ok(records.every((r) => r.result.verified === true));
  const bytes = records.map((r) => r.result.totals.bytesSent);
  assert.ok(new Set(bytes).size > 1, `bytes sent ${bytes}`);
  // Procedural memory (the virtual clock's) is not pooled (src/memory/pool.ts): each repeat's
  // memories are new, untouched, and hold nothing until written.
  for (const r of records)
    assert.ok(
      r.result.totals.setup.reusedSlots === 0 && r.result.totals.setup.freshSlots > 0,
      JSON.stringify(r.result.totals.setup),
    );
});
