/**
 * The memory pool: a run's memories serve the next run of a fitting shape (no byte of the earlier
 * run reaches the later one: both verify, and the second's content is its own), and memories that
 * no request fits are released rather than kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMigration } from '../../src/driver/migrate.js';
import { loadKernelModule } from '../../src/kernel/loader.js';
import { planGuestLayout } from '../../src/memory/layout.js';
import { setUpMemories } from '../../src/memory/setup.js';
import { MemoryPool, longestFitting, memoryPool } from '../../src/memory/pool.js';
import { smallConfig } from '../fixtures/migrate.js';

const MiB = 1024 * 1024;
const module = await loadKernelModule();

test("the next run reuses the last run's memories and still verifies byte for byte", async () => {
  memoryPool.drain();
  const config = smallConfig({
    clock: 'virtual',
    ramBytes: 24 * MiB,
    pageWritesPerSec: 5_000,
    linkBitsPerSec: 1e9,
    seed: 5,
  });
  const first = await runMigration(config);
  assert.equal(first.status, 'completed', first.reason);
  assert.equal(first.totals.setup?.freshSlots, 2);
  assert.equal(memoryPool.idleCount(), 2, 'source and target are back in the pool');
  // Another seed and content: a byte of the first run left anywhere in the pages fails verification
  // (the target would differ from the source), and the zero-page codec skips no stale page.
  const second = await runMigration({
    ...config,
    seed: 77,
    content: { zeroPercent: 60, textPercent: 20, randomPercent: 20 },
    codecs: ['zero'],
  });
  assert.equal(second.status, 'completed', second.reason);
  assert.equal(second.verified, true);
  assert.equal(second.totals.setup?.reusedSlots, 2, 'both memories reused');
  assert.equal(second.totals.setup?.freshSlots, 0);
});

test('memories of another size are released before new ones are allocated', () => {
  const pool = new MemoryPool();
  const small = planGuestLayout(8 * MiB, 4096);
  const large = planGuestLayout(32 * MiB, 4096);
  const [a] = pool.acquire([small], module);
  pool.release(a);
  assert.equal(pool.idleCount(), 1);
  const [b] = pool.acquire([large], module);
  assert.equal(pool.stats.released, 1, 'the small memory cannot serve the large guest: released');
  assert.deepEqual(b.fresh, [true]);
  pool.release(b);
  const [c] = pool.acquire([small], module);
  assert.deepEqual(c.fresh, [true], 'a large memory is not kept for a small guest');
  assert.equal(pool.stats.released, 2);
  pool.release(c);
  const [d] = pool.acquire([planGuestLayout(8 * MiB + 4096, 4096)], module);
  pool.release(d);
  const [e] = pool.acquire([small], module);
  assert.deepEqual(e.fresh, [false], 'a guest a page smaller than the last one takes its memory');
  assert.ok(longestFitting(small.memoryBytes[0]) < large.memoryBytes[0]);
});

test('a released memory goes back to the system: resident before, gone after the pool lets it go', async () => {
  const pool = new MemoryPool();
  const settle = async (): Promise<number> => {
    await new Promise((r) => setTimeout(r, 300));
    return process.memoryUsage.rss();
  };
  const before = await settle();
  // As a run does: the memory is referenced only until it goes back to the pool.
  await (async () => {
    const [m] = pool.acquire([planGuestLayout(192 * MiB, 4096)], module);
    await setUpMemories({ module, zero: [m] }); // faults in all of it
    pool.release(m);
  })();
  const resident = await settle();
  assert.ok(
    resident - before > 160 * MiB,
    `set-up made it resident (+${((resident - before) / MiB).toFixed(0)} MiB), and the pool keeps it`,
  );
  // A guest it does not fit: released before the new memory is made.
  await (async () => {
    const [m] = pool.acquire([planGuestLayout(16 * MiB, 4096)], module);
    pool.release(m);
  })();
  const afterAcquire = await settle();
  assert.ok(
    resident - afterAcquire > 160 * MiB,
    `released by acquire: RSS ${(resident / MiB).toFixed(0)} -> ${(afterAcquire / MiB).toFixed(0)} MiB`,
  );
  await (async () => {
    const [m] = pool.acquire([planGuestLayout(192 * MiB, 4096)], module);
    await setUpMemories({ module, zero: [m] });
    pool.release(m);
  })();
  const again = await settle();
  pool.drain();
  const after = await settle();
  assert.ok(
    again - after > 160 * MiB,
    `released by drain: RSS ${(again / MiB).toFixed(0)} -> ${(after / MiB).toFixed(0)} MiB`,
  );
});
