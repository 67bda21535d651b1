/**
 * A receiver that serves while peers misbehave (issue 27): connections are bounded, the oldest
 * one that never sent a handshake is dropped for a new one, so a flood of idle connections neither
 * exhausts file descriptors nor keeps a real source out; refusals are printed a few per window and
 * the rest summed up, not one line each. With a token the same holds for connections stuck before
 * TLS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { runMigration } from '../../src/driver/migrate.js';
import { smallConfig } from '../fixtures/migrate.js';
import { startReceiver } from '../fixtures/receiver.js';

/** Opens `n` connections that send nothing; resolves once all are connected. */
async function idle(port: number, n: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<void>((resolve) => {
          const s = net.connect(port, '127.0.0.1', () => resolve());
          s.on('error', () => resolve());
          s.on('close', () => resolve());
          sockets.push(s);
        }),
    ),
  );
  return sockets;
}

for (const token of [null, 'flood-proof'] as const) {
  test(`${token === null ? 'plain' : 'TLS'}: 300 idle connections against a bound of 40, then a real source migrates, verified`, async () => {
    const receiver = await startReceiver({ token, maxConnections: 40 });
    const flood = await idle(receiver.address.port, 300);
    try {
      // Give the receiver the flood's events before the real source connects.
      await new Promise((r) => setTimeout(r, 300));
      const open = flood.filter((s) => !s.destroyed && s.readyState === 'open').length;
      assert.ok(open <= 40, `${open} idle connections still open`);
      const r = await runMigration(
        smallConfig({ ramBytes: 8 * 2 ** 20, pageWritesPerSec: 0, target: receiver.address, token }),
      );
      assert.equal(r.status, 'completed', r.reason);
      assert.equal(r.verified, true);
      // About 260 refusals, reported as at most 10 lines in this window.
      assert.ok(receiver.refused.length <= 11, `${receiver.refused.length} refusal lines`);
      assert.match(receiver.refused[0] ?? '', /dropped without a handshake: 40 connections were open/);
    } finally {
      for (const s of flood) s.destroy();
      await receiver.server.close();
    }
  });
}
