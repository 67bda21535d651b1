/**
 * Interrupts end everything (issue 27): SIGTERM to each long-running command makes it exit within
 * seconds, its summaries or result written, with no thread left running it (a process that does
 * not exit is killed after 30 s and the test fails on that).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnReceiver } from '../fixtures/receiver-process.js';
import { interrupted, type Interrupted } from '../fixtures/interrupted.js';

function ended(r: Interrupted): void {
  assert.equal(r.signal, null, `ended by ${r.signal}: it did not exit on SIGTERM (${r.stderr.slice(-500)})`);
  assert.ok(r.exitMs < 5_000, `exited ${(r.exitMs / 1000).toFixed(1)} s after SIGTERM`);
}

test('run, real clock: SIGTERM mid-migration exits with a failed result, the guest on the source', async () => {
  const r = await interrupted(['run', '--ram', '64MiB', '--dirty-rate', '1MB/s', '--link', '20Mbit/s', '--json'], 2500);
  ended(r);
  const result = JSON.parse(r.stdout) as { status: string; sourceRunning: boolean };
  assert.equal(result.status, 'failed');
  assert.equal(result.sourceRunning, true);
});

test('evacuate over TCP: SIGTERM exits, its result written', async () => {
  const receiver = await spawnReceiver(['--max-migrations', '2']);
  try {
    const dir = mkdtempSync(path.join(tmpdir(), 'migbench-int-tcp-'));
    const json = path.join(dir, 'e.json');
    const vm = 'ram=16MiB,dirty-rate=1MB/s';
    const r = await interrupted(
      ['evacuate', '--vm', vm, '--vm', vm, '--vm', vm, '--link', '40Mbit/s', '--max-concurrent', '1'].concat([
        '--target',
        `tcp://127.0.0.1:${receiver.port}`,
        '--export-json',
        json,
      ]),
      3000,
    );
    ended(r);
    assert.ok(existsSync(json), 'the result was written');
  } finally {
    receiver.child.kill('SIGTERM');
  }
});

test('a suite of evacuations: SIGTERM exits with its summaries written', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-int-evsuite-'));
  const file = path.join(dir, 'e.yaml');
  writeFileSync(
    file,
    'name: e\nkind: evacuation\nhost:\n  vms: [{ ram: 16MiB, dirty-rate: 1MB/s }, { ram: 16MiB, dirty-rate: 1MB/s }]\n  link: 40Mbit/s\nmatrix:\n  max-concurrent: [1, 2]\n',
  );
  const out = path.join(dir, 'out');
  const r = await interrupted(['suite', file, '--out', out], 3000);
  ended(r);
  assert.match(r.stderr, /interrupted/);
  assert.ok(existsSync(path.join(out, 'summary.md')), 'summaries written');
});
