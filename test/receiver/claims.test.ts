/**
 * A receiver's slots cannot be held (issue 27): a source that finds every slot taken waits for
 * one, first come first served, instead of being turned away at once; a migration that stalls (a
 * claim that sends nothing) gives its slot up while a source waits; clients that claim and drop
 * slots over and over queue behind the source that waited. Each test fails on a receiver that
 * refuses a busy handshake at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { runMigration } from '../../src/driver/migrate.js';
import { smallConfig } from '../fixtures/migrate.js';
import { startReceiver, type TestReceiver } from '../fixtures/receiver.js';
import { hello } from '../fixtures/wire-client.js';
import { decodeReply } from '../../src/wire/handshake.js';
import { memoryPool } from '../../src/memory/pool.js';

/** Claims a slot (a HELLO, then nothing); resolves once the receiver accepted it. */
function claim(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(hello()));
    let inbox = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      inbox = Buffer.concat([inbox, c]);
      const r = decodeReply(inbox);
      if (r === null) return;
      if (r.reply.accepted) resolve(s);
      else reject(new Error(`claim refused: ${r.reply.reason}`));
    });
    s.on('error', () => undefined);
  });
}

/** Claims and drops the slot over and over until stopped: the churn of issue 27. Counts its claims. */
function churn(port: number): { stop: () => void; claims: () => number } {
  let stopped = false;
  let claims = 0;
  let current: net.Socket | undefined;
  const loop = (): void => {
    if (stopped) return;
    current = net.connect(port, '127.0.0.1', () => current?.write(hello()));
    let inbox = Buffer.alloc(0);
    current.on('data', (c: Buffer) => {
      inbox = Buffer.concat([inbox, c]);
      if (decodeReply(inbox) === null) return;
      claims++;
      current?.destroy();
    });
    current.on('error', () => undefined);
    current.on('close', () => setImmediate(loop));
  };
  loop();
  return {
    stop: () => {
      stopped = true;
      current?.destroy();
    },
    claims: () => claims,
  };
}

async function legitimate(receiver: TestReceiver): Promise<void> {
  const r = await runMigration(
    smallConfig({ ramBytes: 8 * 2 ** 20, pageWritesPerSec: 0, target: receiver.address, token: null }),
  );
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
}

test('silent claims on every slot: the one stalled longest gives its slot to a source that waits', async () => {
  const receiver = await startReceiver({ maxMigrations: 2, progressWindowMs: 1000, queueWaitMs: 15_000 });
  const held = [await claim(receiver.address.port), await claim(receiver.address.port)];
  try {
    await legitimate(receiver);
    const released = receiver.summaries.filter((s) =>
      /released its slot: stalled \(0 bytes in the last 1 s/.test(s.reason ?? ''),
    );
    assert.equal(released.length, 1, JSON.stringify(receiver.summaries.map((s) => s.reason)));
  } finally {
    for (const s of held) s.destroy();
    await receiver.server.close();
  }
});

test('three clients claiming and dropping the only slot over and over: a source that waits gets in', async () => {
  const receiver = await startReceiver({ maxMigrations: 1, queueWaitMs: 15_000 });
  const churners = [0, 1, 2].map(() => churn(receiver.address.port));
  try {
    // Let them churn first: the slot is theirs almost all the time.
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < 3; i++) await legitimate(receiver);
    assert.ok(
      churners.every((c) => c.claims() > 0),
      'every churner claimed the slot',
    );
  } finally {
    for (const c of churners) c.stop();
    await receiver.server.close();
  }
});

test('a wait for a slot ends: busy after queueWaitMs, as before', async () => {
  const receiver = await startReceiver({ maxMigrations: 1, queueWaitMs: 1500 });
  const held = await claim(receiver.address.port);
  // Silent, but younger than the default 30 s progress window: not stalled, so the wait times out.
  try {
    const started = performance.now();
    const r = await runMigration(
      smallConfig({ ramBytes: 8 * 2 ** 20, pageWritesPerSec: 0, target: receiver.address, token: null }),
    );
    assert.equal(r.status, 'failed');
    assert.match(
      r.reason ?? '',
      /refused the migration: busy with migration [0-9a-f]{8}; try again when one ends \(waited 2 s for a slot\)/,
    );
    assert.ok(performance.now() - started < 10_000);
  } finally {
    held.destroy();
    await receiver.server.close();
  }
});

test('the memory of a claim that gave its slot up is released, not kept resident beside the next migration', async () => {
  memoryPool.drain();
  const receiver = await startReceiver({ maxMigrations: 1, progressWindowMs: 1000 });
  const held = await claim(receiver.address.port);
  try {
    await legitimate(receiver);
    await receiver.waitForMigrations(2);
    await new Promise((r) => setTimeout(r, 100));
    // Idle now: the source's memory and the target memory of the migration that ran; the stalled
    // claim's came back while that one held the slot, and was released.
    assert.equal(memoryPool.idleCount(), 2);
  } finally {
    held.destroy();
    await receiver.server.close();
  }
});
