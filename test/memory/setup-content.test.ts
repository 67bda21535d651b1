/**
 * Set-up writes the same initial content, byte for byte, as the sequential fill always did (the
 * hashes were recorded from fillInitialContent before set-up ran on several threads), on a fresh
 * memory and on a reused one full of another run's bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { fillInitialContent, type ContentMix } from '../../src/memory/content.js';
import { loadKernelModule } from '../../src/kernel/loader.js';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { planGuestLayout } from '../../src/memory/layout.js';
import { setUpMemories } from '../../src/memory/setup.js';
import { memoryPool } from '../../src/memory/pool.js';
import { runLayouts } from '../../src/memory/admission.js';
import { runMigration } from '../../src/driver/migrate.js';
import type { RunConfig } from '../../src/config/types.js';
import { smallConfig } from '../fixtures/migrate.js';

const module = await loadKernelModule();
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex').slice(0, 16);

/** [seed, first page, pages, page size, mix] -> sha256 prefix, recorded from the sequential fill of migbench 0.1.0. */
const RECORDED: Array<[number, number, number, number, ContentMix, string]> = [
  [1, 0, 1000, 4096, { zeroPercent: 25, textPercent: 40, randomPercent: 35 }, 'e7f8345cd0a22b2f'],
  [7, 5000, 777, 4096, { zeroPercent: 0, textPercent: 100, randomPercent: 0 }, '75aeb6dce115da1b'],
  [42, 0, 300, 8192, { zeroPercent: 10, textPercent: 30, randomPercent: 60 }, '8f14b3fe5b4a60d9'],
  [3, 123, 513, 4096, { zeroPercent: 0, textPercent: 0, randomPercent: 100 }, '83a741fb30e62911'],
];

test('the sequential fill still writes the recorded content', () => {
  for (const [seed, first, count, size, mix, hash] of RECORDED) {
    const b = new Uint8Array(count * size);
    fillInitialContent(b, first, count, size, seed, mix);
    assert.equal(sha(b), hash, `seed ${seed}, ${count} pages of ${size} B from ${first}`);
  }
});

test("set-up on several threads writes the sequential fill's bytes, fresh or reused, and clears the rest", async () => {
  // 40 MiB: three 16 MiB items per slot, the last one short.
  const size = 4096;
  const layout = planGuestLayout(40 * 1024 * 1024, size);
  const mix: ContentMix = { zeroPercent: 25, textPercent: 40, randomPercent: 35 };
  const expected = new Uint8Array(layout.pageCount * size);
  fillInitialContent(expected, 0, layout.pageCount, size, 9, mix);
  const memory = GuestMemory.allocate(layout, module);
  const report = await setUpMemories({ module, source: { memory, seed: 9, content: mix }, threads: 3 });
  assert.equal(report.freshSlots, 1);
  assert.equal(sha(memory.pages(0)), sha(expected), 'fresh memory');

  // Another run's bytes everywhere, then the memory comes back as a reused one.
  const all = new Uint8Array(memory.slots[0].memory.buffer);
  all.fill(0xa5);
  const reused = new GuestMemory(layout, module, [memory.slots[0].memory]);
  assert.deepEqual(reused.fresh, [false]);
  await setUpMemories({ module, source: { memory: reused, seed: 9, content: mix }, threads: 2 });
  assert.equal(sha(reused.pages(0)), sha(expected), 'reused memory: every page rewritten');
  const l = layout.slots[0];
  const afterPages = all.subarray(l.pagesPtr + l.pageCount * size, l.endBytes);
  assert.ok(
    afterPages.every((b) => b === 0),
    'bitmaps, lists, hashes and frame buffers are zero again',
  );
});

test('a target memory comes out all zero, fresh or reused', async () => {
  const layout = planGuestLayout(20 * 1024 * 1024, 4096, undefined, undefined, 64 * 1024);
  const fresh = GuestMemory.allocate(layout, module);
  await setUpMemories({ module, zero: [fresh], mainThreadWorks: false });
  const bytes = new Uint8Array(fresh.slots[0].memory.buffer, 0, layout.slots[0].endBytes);
  assert.ok(bytes.every((b) => b === 0));
  bytes.fill(0x5a);
  const reused = new GuestMemory(layout, module, [fresh.slots[0].memory]);
  await setUpMemories({ module, zero: [reused] });
  assert.ok(
    bytes.every((b) => b === 0),
    'no byte of the last run is left',
  );
});

test('a source reused after a run gets its initial content back: every page a vCPU wrote is rewritten', async () => {
  const variants: Array<[string, Partial<RunConfig>]> = [
    ['bitmap', { dirtyLog: 'bitmap' }],
    ['ring', { dirtyLog: 'ring' }],
    [
      'post-copy (the target guest mirrors its writes into the source)',
      { policy: 'qemu-rounds', postcopy: true, postcopyAfterRounds: 1 },
    ],
  ];
  for (const [name, variant] of variants) {
    memoryPool.drain();
    const config = smallConfig({
      clock: 'virtual',
      ramBytes: 24 * 1024 * 1024,
      pageWritesPerSec: 50_000,
      linkBitsPerSec: 1e9,
      seed: 11,
      ...variant,
    });
    const run = await runMigration(config);
    assert.equal(run.status, 'completed', `${name}: ${run.reason}`);
    assert.ok(run.totals.guestPageWrites + (run.postcopy?.guestPageWrites ?? 0) > 1000, `${name}: the guest wrote`);
    const layouts = runLayouts(config);
    const [source, target] = memoryPool.acquire([layouts.source, layouts.target], module);
    assert.deepEqual([source.fresh, target.fresh], [[false], [false]], `${name}: both reused`);
    const l = source.slots[0].layout;
    const touched = new Uint8Array(source.slots[0].memory.buffer, l.touchedPtr, l.pageCount);
    assert.ok(
      touched.some((b) => b === 1),
      `${name}: writes are in the touched map`,
    );
    await setUpMemories({ module, source: { memory: source, seed: 11, content: config.content }, zero: [target] });
    const expected = new Uint8Array(l.pageCount * l.pageSizeBytes);
    fillInitialContent(expected, 0, l.pageCount, l.pageSizeBytes, 11, config.content);
    assert.equal(sha(source.pages(0)), sha(expected), `${name}: the reused source holds the initial content again`);
    assert.ok(
      touched.every((b) => b === 0),
      `${name}: the touched map starts over`,
    );
    memoryPool.release(source, target);
  }
});
