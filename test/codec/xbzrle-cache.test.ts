/**
 * The xbzrle page cache: floor(capacity / page size) entries, direct-mapped by page number (a page
 * evicts the one sharing its entry), and the spare slot that becomes an entry's bytes on commit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XbzrleCache } from '../../src/codec/xbzrle-cache.js';
import { XbzrleCodec } from '../../src/codec/xbzrle.js';

const PAGE = 64;
const BASE = 128;

function filled(value: number): Uint8Array {
  return new Uint8Array(PAGE).fill(value);
}

function cachedBytes(bytes: Uint8Array, cache: XbzrleCache, pageNumber: number): Uint8Array | null {
  const ptr = cache.lookup(pageNumber);
  return ptr < 0 ? null : bytes.slice(ptr, ptr + PAGE);
}

test('entries are floor(capacity / page size); a capacity under one page caches nothing', () => {
  for (const [capacity, entries] of [
    [0, 0],
    [PAGE - 1, 0],
    [PAGE, 1],
    [3 * PAGE + PAGE - 1, 3],
  ]) {
    const bytes = new Uint8Array(BASE + XbzrleCache.regionBytes(capacity, PAGE));
    const cache = new XbzrleCache(bytes, BASE, PAGE, capacity);
    assert.equal(cache.entries, entries, `capacity ${capacity}`);
    cache.insert(7, filled(7));
    assert.equal(cache.lookup(7) >= 0, entries > 0, `capacity ${capacity}`);
  }
  assert.throws(() => new XbzrleCache(new Uint8Array(BASE + 2 * PAGE), BASE, PAGE, 2 * PAGE), RangeError);
});

test('a page evicts the page sharing its entry (page number modulo entries), and only that one', () => {
  const bytes = new Uint8Array(BASE + XbzrleCache.regionBytes(3 * PAGE, PAGE));
  const cache = new XbzrleCache(bytes, BASE, PAGE, 3 * PAGE);
  for (const p of [0, 1, 2]) cache.insert(p, filled(p + 10));
  assert.equal(cache.size, 3);
  cache.insert(4, filled(14)); // entry 1
  assert.equal(cache.lookup(1), -1);
  assert.deepEqual(cachedBytes(bytes, cache, 4), filled(14));
  assert.deepEqual(cachedBytes(bytes, cache, 0), filled(10));
  assert.deepEqual(cachedBytes(bytes, cache, 2), filled(12));
  assert.equal(cache.size, 3);
  assert.equal(cache.updateIfCached(1, filled(99)), false);
  assert.equal(cache.updateIfCached(4, filled(44)), true);
  assert.deepEqual(cachedBytes(bytes, cache, 4), filled(44));
  assert.deepEqual(cachedBytes(bytes, cache, 0), filled(10));
});

test('a committed spare slot becomes the entry, and the old slot the next spare', () => {
  const bytes = new Uint8Array(BASE + XbzrleCache.regionBytes(2 * PAGE, PAGE));
  const cache = new XbzrleCache(bytes, BASE, PAGE, 2 * PAGE);
  cache.insert(0, filled(1));
  cache.insert(1, filled(2));
  for (let round = 3; round < 8; round++) {
    const spare = cache.sparePtr();
    bytes.fill(round, spare, spare + PAGE);
    cache.commitSpare(round % 2);
    assert.equal(cache.lookup(round % 2), spare);
    assert.deepEqual(cachedBytes(bytes, cache, round % 2), filled(round));
    assert.deepEqual(cachedBytes(bytes, cache, (round + 1) % 2), filled(round === 3 ? 1 : round - 1)); // the other entry keeps its bytes
    assert.notEqual(cache.sparePtr(), spare);
  }
  assert.throws(() => cache.commitSpare(5), RangeError);
});

test('the codec counts a hit only for the page cached, not for one sharing its entry', () => {
  const codec = new XbzrleCodec({ pageSizeBytes: 4096, cacheBytes: 2 * 4096 });
  const page = new Uint8Array(4096);
  const out = new Uint8Array(4096);
  codec.encode(page, 0, out); // miss
  codec.encode(page, 2, out); // miss, evicts 0
  codec.encode(page, 0, out); // miss, evicts 2
  assert.equal(codec.encode(page, 0, out), 0); // hit, unchanged
  assert.deepEqual([codec.stats().cacheMisses, codec.stats().cacheHits], [3, 1]);
});
