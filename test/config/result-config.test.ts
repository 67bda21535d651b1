/**
 * A result records every option of its run: each RunConfig field is copied into the result's
 * config under its own name or mapped under another (RECORDED_AS); an evacuation's result records
 * every EvacuationConfig field but the VMs (in its own list). The mapped type of the derivation
 * (src/util/derive.ts) makes a ResultConfig field without a derivation fail to compile; this
 * checks the other direction, so an option added to a feature's config cannot go unrecorded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COPIED_FIELDS, RECORDED_AS, RECORDED_FIELDS, resultConfig } from '../../src/config/result-config.js';
import { DEFAULT_RUN_CONFIG, resolveRunConfig } from '../../src/config/options.js';
import { EVACUATION_LEFT_OUT, EVACUATION_RECORDED_FIELDS, evacuationResultConfig } from '../../src/evacuate/outcome.js';
import { resolveEvacuation } from '../../src/evacuate/config.js';

test('every RunConfig field reaches the result: copied, or recorded under another name', () => {
  const missing = Object.keys(DEFAULT_RUN_CONFIG).filter((k) => !RECORDED_FIELDS.includes(k) && !(k in RECORDED_AS));
  assert.ok(COPIED_FIELDS.length > 20, 'most are copied as they are');
  assert.deepEqual(missing, []);
  const r = resultConfig(DEFAULT_RUN_CONFIG) as unknown as Record<string, unknown>;
  for (const [from, to] of Object.entries(RECORDED_AS)) {
    assert.equal(r[to as string], (DEFAULT_RUN_CONFIG as unknown as Record<string, unknown>)[from], `${from} as ${to}`);
  }
});

test("a result's config is a copy: changing it changes nothing of the run's", () => {
  const config = resolveRunConfig({ pattern: 'hotset:0.1:0.9', codec: 'zero,lz4', autoConverge: true });
  const r = resultConfig(config);
  (r.pattern as { fraction: number }).fraction = 0.5;
  r.codecs.push('deflate');
  assert.equal((config.pattern as { fraction: number }).fraction, 0.1);
  assert.deepEqual(config.codecs, ['zero', 'lz4']);
});

test('a secret never reaches a result', () => {
  const config = { ...DEFAULT_RUN_CONFIG, token: 's3cret' };
  assert.equal(resultConfig(config).token, '(hidden)');
});

test('every EvacuationConfig field reaches its result but the VMs, which are its own list', () => {
  const ev = resolveEvacuation({ host: {}, common: {}, vms: [{ where: 'vm 1', options: {} }] });
  const missing = Object.keys(ev).filter((k) => !EVACUATION_RECORDED_FIELDS.includes(k) && !(k in EVACUATION_LEFT_OUT));
  assert.deepEqual(missing, []);
  assert.deepEqual(evacuationResultConfig(ev).targets, ['target-1'], 'targets by name');
});
