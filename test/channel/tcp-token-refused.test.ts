/**
 * A wrong token is refused with a clear message on both sides (with a token, streams are TLS-PSK
 * keyed by it: the handshake fails); the receiver prints its address and stops on SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { BIN, spawnReceiver } from '../fixtures/receiver-process.js';
import { resolvesToLoopback } from '../../src/wire/address.js';

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('a wrong token: the source fails saying the receiver refused it, the receiver says why it refused', async () => {
  const receiver = await spawnReceiver(['--token', 's3cret']);
  try {
    const target = `tcp://127.0.0.1:${receiver.port}`;
    const bad = await run(['--target', target, '--token', 'nope', '--ram', '16MiB', '--dirty-rate', '0', '--json']);
    assert.equal(bad.code, 1);
    const result = JSON.parse(bad.stdout);
    assert.equal(result.status, 'failed');
    assert.match(result.reason, /the receiver at 127\.0\.0\.1:\d+: the TLS handshake failed: the tokens differ/);
    assert.equal(result.sourceRunning, true);
    assert.match(
      receiver.stderr(),
      /migbench: refused a connection from 127\.0\.0\.1:\d+: TLS handshake failed \(.*\): a wrong token/,
    );

    const good = await run([
      '--target',
      target,
      '--token',
      's3cret',
      '--ram',
      '16MiB',
      '--multifd',
      '2',
      '--codec',
      'zero,lz4',
      '--json',
    ]);
    assert.equal(good.code, 0, good.stderr);
    assert.equal(JSON.parse(good.stdout).verified, true);
    assert.match(receiver.stdout(), /migration [0-9a-f]{8} completed: .* over 2 streams/);
  } finally {
    receiver.child.kill('SIGTERM');
  }
  const exit = await receiver.exited();
  assert.equal(exit.code, 0, 'SIGTERM stops the receiver cleanly');
});

test('binding beyond loopback without --token is refused', () => {
  const r = spawnSync(process.execPath, [BIN, 'receive', '--listen', '0.0.0.0:0'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.equal(r.status, 2);
  assert.match(
    r.stderr,
    /binding 0\.0\.0\.0:0 \(beyond loopback: it does not resolve to 127\.0\.0\.0\/8 or ::1 only\) needs --token/,
  );
});

test('loopback is decided on the resolved address, not the text: 127.attacker.example is a name', async () => {
  assert.equal(await resolvesToLoopback('127.attacker.example'), false);
  assert.equal(await resolvesToLoopback('127.0.0.1'), true);
  assert.equal(await resolvesToLoopback('127.9.8.7'), true);
  assert.equal(await resolvesToLoopback('::1'), true);
  assert.equal(await resolvesToLoopback('::ffff:127.0.0.1'), true);
  assert.equal(await resolvesToLoopback('localhost'), true);
  assert.equal(await resolvesToLoopback('0.0.0.0'), false);
  assert.equal(await resolvesToLoopback('10.0.0.1'), false);
  const r = spawnSync(process.execPath, [BIN, 'receive', '--listen', '127.attacker.example:0'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /binding 127\.attacker\.example:0 \(beyond loopback/);
});
