/**
 * xbzrle under QEMU's rules (the qemu pre-copy loop gives the codec its phase): the cache's
 * lifetime rule (page_cache.c: an entry inserted or hit in this sync generation or the one before
 * is not evicted), nothing before the scan's first wrap, no inserts or updates in the last stage,
 * and zero pages sent by the zero codec inserted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CACHED_PAGE_LIFETIME, XbzrleCache } from '../../src/codec/xbzrle-cache.js';
import { XbzrleCodec } from '../../src/codec/xbzrle.js';

const PAGE = 4096;
const BASE = 128;

function filled(value: number): Uint8Array {
  return new Uint8Array(PAGE).fill(value);
}

test('with generations, an entry of another page is kept for CACHED_PAGE_LIFETIME syncs after its last insert or hit', () => {
  assert.equal(CACHED_PAGE_LIFETIME, 2);
  const bytes = new Uint8Array(BASE + XbzrleCache.regionBytes(2 * PAGE, PAGE));
  const cache = new XbzrleCache(bytes, BASE, PAGE, 2 * PAGE);
  assert.equal(cache.insert(0, filled(1), 5), true);
  // Page 2 shares entry 0: refused in generations 5 and 6, taken in 7.
  assert.equal(cache.insert(2, filled(2), 5), false);
  assert.equal(cache.insert(2, filled(2), 6), false);
  assert.ok(cache.lookup(0) >= 0);
  // A hit in 6 stamps the entry again: refused in 7, taken in 8.
  assert.ok(cache.lookup(0, 6) >= 0);
  assert.equal(cache.insert(2, filled(2), 7), false);
  assert.equal(cache.insert(2, filled(2), 8), true);
  assert.equal(cache.lookup(0), -1);
  // The same page is always rewritten; without generations a miss always evicts.
  assert.equal(cache.insert(2, filled(3), 8), true);
  assert.equal(cache.insert(0, filled(4)), true);
  assert.ok(cache.lookup(0) >= 0);
});

function codec(cacheBytes: number): XbzrleCodec {
  return new XbzrleCodec({ pageSizeBytes: PAGE, cacheBytes });
}

test('before the first wrap xbzrle takes nothing and caches nothing; then a miss caches, and a hit sends the delta', () => {
  const c = codec(4 * PAGE);
  const out = new Uint8Array(PAGE);
  const page = filled(7);
  c.phase({ generation: 1, started: false, lastStage: false });
  assert.equal(c.encode(page, 3, out), -1);
  c.sent(page, 3);
  assert.equal(c.cache.size, 0);
  assert.deepEqual([c.stats().cacheHits, c.stats().cacheMisses], [0, 0]);
  c.phase({ generation: 2, started: true, lastStage: false });
  assert.equal(c.encode(page, 3, out), -1);
  c.sent(page, 3);
  assert.equal(c.cache.size, 1);
  const changed = page.slice();
  changed[100] = 8;
  const n = c.encode(changed, 3, out);
  assert.ok(n > 0 && n < 8, `delta of ${n} bytes`);
  // Unchanged since: an empty delta.
  assert.equal(c.encode(changed, 3, out), 0);
  assert.deepEqual([c.stats().cacheHits, c.stats().cacheMisses], [2, 1]);
});

test('the last stage neither inserts nor updates the cache', () => {
  const c = codec(1 * PAGE);
  const out = new Uint8Array(PAGE);
  c.phase({ generation: 3, started: true, lastStage: false });
  c.encode(filled(1), 0, out);
  c.sent(filled(1), 0);
  c.phase({ generation: 4, started: true, lastStage: true });
  // A hit is encoded against the cached copy, which stays as it was.
  const second = filled(1);
  second[0] = 9;
  assert.ok(c.encode(second, 0, out) > 0);
  const third = filled(1);
  third[1] = 9;
  const n = c.encode(third, 0, out);
  assert.ok(n > 0);
  // The delta from the page sent before the last stage: one changed byte (had the cache taken
  // `second`, two would differ).
  const fresh = codec(1 * PAGE);
  fresh.phase({ generation: 3, started: true, lastStage: false });
  fresh.encode(filled(1), 0, out);
  assert.equal(n, fresh.encode(third, 0, new Uint8Array(PAGE)));
  // A miss in the last stage caches nothing (the entry stays page 0's, whatever its age).
  c.encode(filled(5), 1, out);
  c.sent(filled(5), 1);
  assert.ok(c.cache.lookup(0) >= 0);
  assert.equal(c.cache.lookup(1), -1);
});

test('a zero page sent by the zero codec is inserted once xbzrle has started, under the lifetime rule', () => {
  const c = codec(1 * PAGE);
  const zero = new Uint8Array(PAGE);
  c.phase({ generation: 1, started: true, lastStage: false });
  c.sent(zero, 4);
  assert.ok(c.cache.lookup(4) >= 0);
  // Page 5 shares the only entry: refused while page 4's entry is fresh.
  c.sent(zero, 5);
  assert.equal(c.cache.lookup(5), -1);
  c.phase({ generation: 3, started: true, lastStage: false });
  c.sent(zero, 5);
  assert.ok(c.cache.lookup(5) >= 0);
});
