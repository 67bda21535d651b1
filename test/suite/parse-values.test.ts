/**
 * Suite files accept run options as kebab-case or camelCase keys and values as strings, numbers or
 * booleans, pass them to resolveRunConfig like command-line text, and expand a matrix (a mapping,
 * or a list of mappings each crossed on its own) into stable run ids.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandSuite } from '../../src/suite/expand.js';
import { parseSuite } from '../../src/suite/parse.js';

const TEXT = `
name: values
base:
  ram: 16MiB
  pageSize: 4KiB
  vcpus: 1
  max-iterations: 5
  policy: qemu-rounds
  sdps: true
matrix:
  - dirty-rate: [0, 10MB/s]
    downtimeLimit: [30ms, 1s]
  - link: [1Gbit/s, unlimited]
repeat: 2
`;

test('keys in both spellings, numbers and booleans resolve like command-line text', () => {
  const plan = expandSuite(parseSuite(TEXT, 'values.yaml'));
  const first = plan.runs[0];
  assert.equal(first.config.ramBytes, 16 * 2 ** 20);
  assert.equal(first.config.vcpus, 1);
  assert.equal(first.config.maxIterations, 5);
  assert.equal(first.config.sdps, true);
  assert.equal(first.config.pageWritesPerSec, 0);
  assert.equal(first.config.downtimeLimitMs, 30);
  assert.deepEqual(plan.variedKeys, ['dirtyRate', 'downtimeLimit', 'link']);
});

test('blocks cross on their own and join; repeats come configuration by configuration, then again', () => {
  const plan = expandSuite(parseSuite(TEXT, 'values.yaml'));
  assert.equal(plan.runs.length, (4 + 2) * 2);
  assert.deepEqual(
    plan.runs.slice(0, 6).map((r) => r.repeat),
    [0, 0, 0, 0, 0, 0],
  );
  assert.deepEqual(plan.runs[4].varied, { link: '1Gbit/s' });
  assert.equal(plan.runs[5].config.linkBitsPerSec, null);
  assert.equal(new Set(plan.runs.map((r) => r.runId)).size, plan.runs.length);
  assert.equal(plan.runs[6].configId, plan.runs[0].configId);
  assert.notEqual(plan.runs[6].runId, plan.runs[0].runId);
});

test('run ids depend on the resolved configuration, not on how it was written', () => {
  const a = expandSuite(parseSuite('name: a\nbase: { ram: 16MiB, link: 10Gbit/s }\n', 'a.yaml'));
  const b = expandSuite(parseSuite('name: b\nbase: { ram: 16384KiB, link: 1.25GB/s }\n', 'b.yaml'));
  const c = expandSuite(parseSuite('name: c\nbase: { ram: 32MiB }\n', 'c.yaml'));
  assert.equal(a.runs[0].runId, b.runs[0].runId);
  assert.notEqual(a.runs[0].runId, c.runs[0].runId);
});

test('--reduce: two configurations per block, once, 16 MiB guests, rates scaled together', () => {
  const text =
    'name: r\nbase: { ram: 256MiB, link: 2Gbit/s }\nmatrix:\n  dirty-rate: [50MB/s, 100MB/s, 150MB/s]\n  downtime-limit: [30ms, 2s]\nrepeat: 3\n';
  const full = expandSuite(parseSuite(text, 'r.yaml'));
  const reduced = expandSuite(parseSuite(text, 'r.yaml'), { reduce: true });
  assert.equal(full.runs.length, 18);
  assert.equal(reduced.runs.length, 2);
  assert.equal(reduced.reduced, true);
  assert.deepEqual(
    reduced.runs.map((r) => r.varied),
    [
      { dirtyRate: '50MB/s', downtimeLimit: '30ms' },
      { dirtyRate: '150MB/s', downtimeLimit: '2s' },
    ],
  );
  const [small] = reduced.runs;
  const [big] = full.runs;
  assert.equal(small.config.ramBytes, 16 * 2 ** 20);
  const ratio = (c: typeof small.config): number =>
    (c.pageWritesPerSec * c.pageSizeBytes * 8) / (c.linkBitsPerSec ?? 1);
  assert.ok(
    Math.abs(ratio(small.config) - ratio(big.config)) / ratio(big.config) < 0.01,
    'dirty rate / link rate kept',
  );
  assert.ok(small.config.timeoutMs !== null && small.config.timeoutMs <= 15_000);
});

test('a field at its default does not enter the id: a new option does not orphan recorded runs', async () => {
  const { configIdOf } = await import('../../src/suite/run-id.js');
  const { DEFAULT_RUN_CONFIG } = await import('../../src/config/options.js');
  const config = { ...DEFAULT_RUN_CONFIG, ramBytes: 16 * 2 ** 20 };
  const { seed: _, ...withoutSeed } = config;
  assert.equal(configIdOf(withoutSeed as typeof config), configIdOf(config), 'a field at its default changes nothing');
  assert.notEqual(configIdOf({ ...config, seed: 2 }), configIdOf(config));
});
