/**
 * A peer cannot hold the receiver: a frame must arrive whole within the frame timeout of its first
 * byte (half a frame, or one byte now and then, is dropped with a reason), and a migration must end
 * within its deadline however it trickles whole frames; the receiver then takes a good migration.
 * (Verify floods and incomplete migrations: test/channel/tcp-hostile-input.test.ts.)
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { runMigration } from '../../src/driver/migrate.js';
import { smallConfig } from '../fixtures/migrate.js';
import { startReceiver } from '../fixtures/receiver.js';
import { frame, hello, pagesBody } from '../fixtures/wire-client.js';
import { spawnReceiver } from '../fixtures/receiver-process.js';

const receiver = await startReceiver({ frameTimeoutMs: 500, migrationDeadlineMs: 2000 });
after(() => receiver.server.close());

/** Connects, says hello, then calls `drip` with a writer until the receiver closes; resolves with ms until then. */
function hostile(drip: (write: (b: Buffer) => void) => NodeJS.Timeout): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const socket = net.connect(receiver.address);
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(hello());
      timer = drip((b) => {
        if (!socket.destroyed) socket.write(b);
      });
    });
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve(performance.now() - t0);
    });
  });
}

async function goodMigrationCompletes(): Promise<void> {
  const r = await runMigration(
    smallConfig({
      ramBytes: 8 * 1024 * 1024,
      pageWritesPerSec: 2000,
      target: receiver.address,
      dirtyCost: { preset: 'none', overrides: {} },
    }),
  );
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
}

test('half a frame is dropped after the frame timeout, with a reason; then a good migration completes', async () => {
  const before = receiver.summaries.length;
  const f = frame(pagesBody([1]), { count: 1 });
  const ms = await hostile((write) => {
    write(f.subarray(0, 10));
    return setInterval(() => undefined, 1000);
  });
  assert.ok(ms < 3000, `held ${ms.toFixed(0)} ms`);
  const [s] = (await receiver.waitForMigrations(before + 1)).slice(before);
  assert.equal(s.status, 'failed');
  assert.match(
    s.reason ?? '',
    /too slow: a frame begun 0\.5 s ago has 10 bytes of its header \(a frame must arrive within 0\.5 s\)/,
  );
  await goodMigrationCompletes();
});

test('one byte every 100 ms is dropped the same way', async () => {
  const before = receiver.summaries.length;
  const f = frame(pagesBody([1]), { count: 1 });
  let i = 0;
  const ms = await hostile((write) => setInterval(() => write(f.subarray(i, ++i)), 100));
  assert.ok(ms < 3000, `held ${ms.toFixed(0)} ms`);
  const [s] = (await receiver.waitForMigrations(before + 1)).slice(before);
  assert.match(s.reason ?? '', /too slow: a frame begun 0\.5 s ago has [1-9] bytes of its header/);
  await goodMigrationCompletes();
});

test("whole frames trickled past the migration's deadline: dropped, with a reason", async () => {
  const before = receiver.summaries.length;
  let page = 0;
  const ms = await hostile((write) => setInterval(() => write(frame(pagesBody([page++]), { count: 1 })), 200));
  assert.ok(ms < 5000, `held ${ms.toFixed(0)} ms`);
  const [s] = (await receiver.waitForMigrations(before + 1)).slice(before);
  assert.match(s.reason ?? '', /too slow: not complete 2\.0 s after its first handshake/);
  assert.ok(s.frames >= 3, 'frames came, but too slowly');
  await goodMigrationCompletes();
});

test('with --max-migrations 2, a legitimate migration completes while a slow stream is being dropped', async () => {
  const two = await startReceiver({ frameTimeoutMs: 8000, maxMigrations: 2 });
  try {
    const f = frame(pagesBody([1]), { count: 1 });
    const socket = net.connect(two.address);
    const closed = new Promise<number>((resolve) => {
      const t0 = performance.now();
      socket.on('close', () => resolve(performance.now() - t0));
    });
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    await new Promise<void>((resolve) =>
      socket.on('connect', () => {
        socket.write(hello());
        socket.write(f.subarray(0, 10));
        resolve();
      }),
    );
    // The hostile stream holds one place; the source takes the other and finishes before the frame timeout.
    const t0 = performance.now();
    const r = await runMigration(
      smallConfig({
        ramBytes: 8 * 1024 * 1024,
        pageWritesPerSec: 2000,
        target: two.address,
        dirtyCost: { preset: 'none', overrides: {} },
      }),
    );
    assert.equal(r.status, 'completed', r.reason);
    assert.equal(r.verified, true);
    assert.ok(performance.now() - t0 < 7000, 'it did not wait for the slow stream to go');
    const heldMs = await closed;
    assert.ok(heldMs >= 7900 && heldMs < 12000, `the slow stream was dropped after ${heldMs.toFixed(0)} ms`);
    const failed = (await two.waitForMigrations(2)).find((s) => s.status === 'failed');
    assert.match(failed?.reason ?? '', /too slow: a frame begun 8 s ago/);
  } finally {
    await two.server.close();
  }
});

test('migbench receive --frame-timeout sets the bound (a slower link may need it raised)', async () => {
  const r = await spawnReceiver(['--frame-timeout', '700ms']);
  try {
    const socket = net.connect(r.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    const t0 = performance.now();
    const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(performance.now() - t0)));
    socket.on('connect', () => {
      socket.write(hello());
      socket.write(frame(pagesBody([1]), { count: 1 }).subarray(0, 40));
    });
    const ms = await closed;
    assert.ok(ms >= 650 && ms < 5000, `dropped after ${ms.toFixed(0)} ms`);
    await new Promise((res) => setTimeout(res, 100));
    assert.match(
      r.stderr(),
      /too slow: a frame begun 0\.7 s ago has 40 of its \d+ bytes \(a frame must arrive within 0\.7 s\)/,
    );
  } finally {
    r.child.kill('SIGTERM');
    await r.exited();
  }
});
