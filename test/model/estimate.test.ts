/** estimateRun: the memory need is admission's; the time is the model's, to the timeout when it will not converge. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RUN_CONFIG } from '../../src/config/options.js';
import { memoryNeed } from '../../src/config/admission.js';
import { estimateRun, formatEstimate } from '../../src/model/estimate.js';
import { predictPrecopy } from '../../src/model/precopy.js';
import type { RunConfig } from '../../src/config/types.js';

const MiB = 2 ** 20;

test('a converging run: the model time, a wall time above it (set-up and start), the need admission reckons', () => {
  const c: RunConfig = { ...DEFAULT_RUN_CONFIG, ramBytes: 256 * MiB };
  const e = estimateRun(c);
  assert.equal(e.converges, true);
  assert.equal(e.migrationMs, predictPrecopy(c).totalTimeMs);
  assert.ok(e.wallMs !== null && e.wallMs > e.migrationMs);
  assert.deepEqual(e.need, memoryNeed(c));
  const rows = formatEstimate(c, e, null);
  assert.deepEqual(
    rows.map(([k]) => k),
    ['dry run', 'memory', 'migration', 'wall time'],
  );
});

test('a run the model says will not converge lasts its timeout, and the procedural virtual clock costs less wall time than the real clock', () => {
  const c: RunConfig = {
    ...DEFAULT_RUN_CONFIG,
    ramBytes: 256 * MiB,
    linkBitsPerSec: 100e6,
    pageWritesPerSec: 50_000,
    timeoutMs: 20_000,
  };
  const e = estimateRun(c);
  assert.equal(e.converges, false);
  assert.equal(e.migrationMs, 20_000);
  assert.match(formatEstimate(c, e, null)[2][1], /not to converge, so it runs to its timeout of 20\.00 s/);
  const v = estimateRun({ ...c, clock: 'virtual', memory: 'procedural' });
  assert.ok(v.wallMs !== null && e.wallMs !== null && v.wallMs < e.wallMs / 10, `${v.wallMs} vs ${e.wallMs}`);
});

test('a run that will not fit says so in the memory row', () => {
  const c: RunConfig = { ...DEFAULT_RUN_CONFIG, ramBytes: 256 * MiB };
  const rows = formatEstimate(c, estimateRun(c), '--ram 64GiB needs about 129.2 GiB');
  assert.match(rows[1][1], /WILL NOT RUN: --ram 64GiB needs about 129\.2 GiB/);
});
