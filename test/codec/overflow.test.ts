/**
 * A codec that cannot shrink a page into `out` says so with -1 and writes nothing past `out`:
 * xbzrle on a page where every other byte changed (its maximum expansion, 1.5 x), lz4 and
 * deflate on random pages, and every codec given less room than its encoding needs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PageCodec } from '../../src/codec/codec.js';
import { DeflateCodec } from '../../src/codec/deflate.js';
import { Lz4Codec } from '../../src/codec/lz4.js';
import { XbzrleCodec } from '../../src/codec/xbzrle.js';
import { TestPrng } from '../fixtures/prng.js';

const PAGE = 4096;
const GUARD = 0xc3;

/** encode() into the first `cap` bytes of a buffer whose guard bytes after them must survive. */
function encodeGuarded(codec: PageCodec, page: Uint8Array, pageNumber: number, cap: number): number {
  const buffer = new Uint8Array(cap + 256).fill(GUARD);
  const n = codec.encode(page, pageNumber, buffer.subarray(0, cap));
  assert.ok(
    buffer.subarray(cap).every((b) => b === GUARD),
    `${codec.name} wrote past ${cap} bytes of out`,
  );
  assert.ok(n <= cap, `${codec.name} returned ${n} for ${cap} bytes of out`);
  return n;
}

test('xbzrle reports a page where every other byte changed as an overflow', () => {
  const codec = new XbzrleCodec({ pageSizeBytes: PAGE, cacheBytes: 4 * PAGE });
  const old = new Uint8Array(PAGE);
  const cur = old.slice();
  for (let i = 0; i < PAGE; i += 2) cur[i] = 0xff;
  assert.equal(encodeGuarded(codec, old, 3, PAGE), -1); // miss: cached
  for (const cap of [PAGE, 2 * PAGE]) {
    assert.equal(encodeGuarded(codec, cur, 3, cap), -1, `${cap} bytes of room`);
    assert.equal(encodeGuarded(codec, old, 3, cap), -1, `${cap} bytes of room, back to the old page`);
  }
  assert.equal(codec.stats().overflows, 4);
  assert.equal(codec.stats().pages, 0);
});

test('xbzrle given less room than its delta passes the page on', () => {
  const codec = new XbzrleCodec({ pageSizeBytes: PAGE, cacheBytes: PAGE });
  const old = new Uint8Array(PAGE);
  const cur = old.slice();
  cur.fill(1, 100, 200); // a delta of 1 + 1 + 100 bytes
  encodeGuarded(codec, old, 0, PAGE);
  assert.equal(encodeGuarded(codec, cur, 0, 101), -1);
  assert.equal(encodeGuarded(codec, old, 0, PAGE), 102); // the cache took `cur` all the same
  assert.equal(encodeGuarded(codec, cur, 0, 102), 102);
});

test('lz4 and deflate pass on random pages and pages whose encoding exceeds out', () => {
  const prng = new TestPrng(80);
  const random = new Uint8Array(PAGE);
  prng.fill(random);
  const half = random.slice();
  half.fill(0, 0, PAGE / 2); // compresses to about half a page
  for (const codec of [new Lz4Codec(), new DeflateCodec()]) {
    assert.equal(encodeGuarded(codec, random, 1, PAGE), -1, `${codec.name}: random page`);
    assert.equal(encodeGuarded(codec, random, 1, 2 * PAGE), -1, `${codec.name}: random page, room to spare`);
    const n = encodeGuarded(codec, half, 2, PAGE);
    assert.ok(n > PAGE / 2 && n < PAGE, `${codec.name}: half-random page in ${n} bytes`);
    assert.equal(encodeGuarded(codec, half, 2, n - 1), -1, `${codec.name}: one byte short`);
    assert.equal(encodeGuarded(codec, half, 2, n), n, `${codec.name}: exact room`);
    assert.equal(codec.stats().pages, 2, codec.name);
  }
});
