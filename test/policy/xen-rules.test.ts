import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XenPolicy } from '../../src/policy/xen.js';
import type { PolicyState } from '../../src/policy/policy.js';

const ram = 1 << 30;
const base: PolicyState = {
  roundsDone: 1,
  pendingPages: 10_000,
  pageSizeBytes: 4096,
  ramBytes: ram,
  bandwidthBytesPerSec: 1.25e8,
  totalBytesSent: ram,
  downtimeLimitMs: 300,
  maxIterations: null,
};

test('xen: last round under 50 dirty pages, after 29 rounds, or after 3 x RAM sent', () => {
  const p = new XenPolicy();
  assert.equal(p.decide(base).action, 'continue');
  assert.equal(p.decide({ ...base, pendingPages: 49 }).action, 'switchover');
  assert.equal(p.decide({ ...base, pendingPages: 50 }).action, 'continue');
  assert.equal(p.decide({ ...base, roundsDone: 28 }).action, 'continue');
  assert.equal(p.decide({ ...base, roundsDone: 29 }).action, 'switchover');
  assert.equal(p.decide({ ...base, totalBytesSent: 3 * ram - 1 }).action, 'continue');
  assert.equal(p.decide({ ...base, totalBytesSent: 3 * ram }).action, 'switchover');
});
