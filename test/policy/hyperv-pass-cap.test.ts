import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HypervPolicy } from '../../src/policy/hyperv.js';
import type { PolicyState } from '../../src/policy/policy.js';

const base: PolicyState = {
  roundsDone: 1,
  pendingPages: 100_000,
  pageSizeBytes: 4096,
  ramBytes: 1 << 30,
  bandwidthBytesPerSec: 1.25e8,
  totalBytesSent: 1 << 30,
  downtimeLimitMs: 300,
  maxIterations: null,
};

test('hyperv suspends after 10 passes regardless of the dirty set', () => {
  const p = new HypervPolicy();
  assert.equal(p.decide({ ...base, roundsDone: 9 }).action, 'continue');
  assert.equal(p.decide({ ...base, roundsDone: 10 }).action, 'switchover');
  assert.equal(p.decide({ ...base, roundsDone: 3, maxIterations: 3 }).action, 'switchover');
});

test('hyperv suspends early when the dirty set is small (0.1 % of pages)', () => {
  const p = new HypervPolicy();
  assert.equal(p.decide({ ...base, pendingPages: 262 }).action, 'switchover'); // 262144 pages / 1000
  assert.equal(p.decide({ ...base, pendingPages: 263 }).action, 'continue');
});
