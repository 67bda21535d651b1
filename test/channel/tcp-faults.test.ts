/**
 * --fault on the source side: each ends as a `failed` run with a reason, within a bounded time,
 * the guest still running on the source; the receiver keeps listening.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { runMigration } from '../../src/driver/migrate.js';
import { smallConfig } from '../fixtures/migrate.js';
import { startReceiver } from '../fixtures/receiver.js';
import { spawnReceiver } from '../fixtures/receiver-process.js';
import type { RunConfig } from '../../src/config/types.js';
import type { FaultSpec } from '../../src/channel/fault.js';

const receiver = await startReceiver();
after(() => receiver.server.close());

// Faults fire at a round: the round-based loop's, whose round 1 is the first resend.
const config = (fault: FaultSpec, o: Partial<RunConfig> = {}): RunConfig =>
  smallConfig({
    policy: 'qemu-rounds',
    ramBytes: 16 * 1024 * 1024,
    pageWritesPerSec: 5_000,
    linkBitsPerSec: 1e9,
    target: receiver.address,
    fault,
    ...o,
  });

const cases: [FaultSpec, RegExp, number][] = [
  [
    { kind: 'drop', round: 1 },
    /connection to the receiver at 127\.0\.0\.1:\d+ closed unexpectedly in round 1 .*\(injected fault drop@1\)/,
    5_000,
  ],
  [
    { kind: 'corrupt', round: 1 },
    /rejected the migration in round 1: stream 0: frame checksum mismatch in round 1/,
    5_000,
  ],
  // The default ack timeout is 5 s: a 60 s stall ends the run after about that.
  [
    { kind: 'stall', round: 1, ms: 60_000 },
    /no acknowledgement from the receiver .* for 5\.\d s with \d+ frames outstanding in round 1 \(injected fault stall@1:60000\)/,
    9_000,
  ],
];

for (const [fault, reason, boundMs] of cases) {
  test(`--fault ${fault.kind}@${fault.round} fails with a reason within ${boundMs / 1000} s, the source running`, async () => {
    const t0 = performance.now();
    const r = await runMigration(config(fault));
    const ms = performance.now() - t0;
    assert.equal(r.status, 'failed');
    assert.match(r.reason ?? '', reason);
    assert.equal(r.sourceRunning, true);
    assert.equal(r.verified, false);
    assert.ok(ms < boundMs + 1_000, `ended after ${ms.toFixed(0)} ms`); // + set-up (guest start, baseline window)
  });
}

test('a short stall is survived: the run completes verified', async () => {
  const r = await runMigration(config({ kind: 'stall', round: 0, ms: 300 }));
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
});

test('--fault kill-receiver@1 kills a receiver started with --allow-kill: failed with a reason, the source running', async () => {
  const child = await spawnReceiver(['--allow-kill']);
  try {
    const r = await runMigration(
      config({ kind: 'kill-receiver', round: 1 }, { target: { host: '127.0.0.1', port: child.port } }),
    );
    assert.equal(r.status, 'failed');
    assert.match(r.reason ?? '', /(closed unexpectedly|failed) in round 1.*\(injected fault kill-receiver@1\)/);
    assert.equal(r.sourceRunning, true);
    const exit = await child.exited();
    assert.equal(exit.signal, 'SIGKILL');
  } finally {
    child.child.kill('SIGKILL');
  }
});

test('the receiver keeps listening after the faults', async () => {
  const r = await runMigration(config(null as unknown as FaultSpec, { fault: null }));
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
});

test('a --fault whose round never comes does not pass unnoticed: the result and stderr say it never fired', async () => {
  const r = await runMigration(config({ kind: 'drop', round: 99 }));
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
  assert.equal(r.warnings?.length, 1);
  assert.match(r.warnings?.[0] ?? '', /^--fault drop@99 never fired: the run ended in round \d+, before round 99$/);
  const fired = await runMigration(config({ kind: 'drop', round: 1 }));
  assert.equal(fired.warnings, undefined, 'a fault that fired is no warning');
});
