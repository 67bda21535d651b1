import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QemuPolicy } from '../../src/policy/qemu.js';
import type { PolicyState } from '../../src/policy/policy.js';

const base: PolicyState = {
  roundsDone: 1,
  pendingPages: 0,
  pageSizeBytes: 4096,
  ramBytes: 1 << 30,
  bandwidthBytesPerSec: 1.25e9,
  totalBytesSent: 1 << 30,
  downtimeLimitMs: 300,
  maxIterations: null,
};

test('qemu switches over when pending bytes fit bandwidth x downtime limit, and not a page later', () => {
  const thresholdPages = Math.floor((1.25e9 * 0.3) / 4096); // 91552 pages
  const p = new QemuPolicy();
  assert.equal(p.decide({ ...base, pendingPages: thresholdPages }).action, 'switchover');
  assert.equal(p.decide({ ...base, pendingPages: thresholdPages + 1 }).action, 'continue');
  assert.equal(p.decide({ ...base, pendingPages: thresholdPages + 1, downtimeLimitMs: 400 }).action, 'switchover');
});

test('qemu never gives up by itself; --max-iterations makes it fail with a reason', () => {
  const p = new QemuPolicy();
  const stuck = { ...base, pendingPages: 1e6, roundsDone: 500 };
  assert.equal(p.decide(stuck).action, 'continue');
  const d = p.decide({ ...stuck, maxIterations: 500 });
  assert.equal(d.action, 'fail');
  assert.match(d.why, /did not converge within 500 iterations/);
});
