/**
 * Every codec round-trips the pages it takes (random, all-zero, text-like, one byte changed) and
 * passes on the ones it cannot shrink; pages are views into a shared wasm memory, like the guest's.
 * xbzrle: a page's first encode caches it, later ones send the delta; an unchanged page encodes
 * to at most 4 bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PageCodec } from '../../src/codec/codec.js';
import { DeflateCodec } from '../../src/codec/deflate.js';
import { Lz4Codec } from '../../src/codec/lz4.js';
import { XbzrleCodec } from '../../src/codec/xbzrle.js';
import { ZeroCodec, isZeroBytes, zeroTestInMemories } from '../../src/codec/zero.js';
import { instantiateKernels } from '../../src/kernel/loader.js';
import { ReferenceKernels } from '../../src/kernel/reference.js';
import { kernelMemory, kernelModule } from '../fixtures/kernel-pair.js';
import { TestPrng } from '../fixtures/prng.js';

const PAGE = 4096;
const memory = kernelMemory(1024 * 1024);
const kernels = instantiateKernels(await kernelModule(), memory);
const bytes = new Uint8Array(memory.buffer);
let nextPage = 16;

/** A page-sized view into the shared memory holding `content`. */
function guestPage(content: Uint8Array): Uint8Array {
  const at = nextPage++ * PAGE;
  bytes.set(content, at);
  return bytes.subarray(at, at + PAGE);
}

const prng = new TestPrng(70);
const TEXT = new TextEncoder().encode('the guest writes a page of memory while the host migrates it; ');

function randomPage(): Uint8Array {
  const p = new Uint8Array(PAGE);
  prng.fill(p);
  return p;
}
function textPage(): Uint8Array {
  const p = new Uint8Array(PAGE);
  for (let i = 0; i < PAGE; i++) p[i] = TEXT[(i * 7 + prng.below(3)) % TEXT.length];
  return p;
}
function changedByte(page: Uint8Array): Uint8Array {
  const p = page.slice();
  p[prng.below(PAGE)] ^= 0x5a;
  return p;
}

/** Encodes `page`, checks the result against `expectTaken`, and decodes what was taken. */
function roundTrip(
  codec: PageCodec,
  page: Uint8Array,
  pageNumber: number,
  target: Uint8Array,
  expectTaken: boolean,
  what: string,
): number {
  const out = new Uint8Array(PAGE);
  const n = codec.encode(page, pageNumber, out);
  assert.equal(n >= 0, expectTaken, `${codec.name} ${what}: encode returned ${n}`);
  if (n >= 0) {
    assert.ok(n < PAGE, `${codec.name} ${what}: ${n} bytes is no smaller than the page`);
    codec.decode(out.subarray(0, n), pageNumber, target);
    assert.deepEqual(target, page.slice(), `${codec.name} ${what}: decoded page differs`);
  }
  return n;
}

test('zero takes exactly the all-zero pages, with the wasm kernel and the TypeScript test', () => {
  for (const codec of [new ZeroCodec(zeroTestInMemories([{ memory, kernels }])), new ZeroCodec()]) {
    const target = randomPage();
    assert.equal(roundTrip(codec, guestPage(new Uint8Array(PAGE)), 1, target, true, 'zero page'), 0);
    roundTrip(codec, guestPage(randomPage()), 2, target, false, 'random page');
    roundTrip(codec, guestPage(textPage()), 3, target, false, 'text page');
    const oneByte = new Uint8Array(PAGE);
    oneByte[PAGE - 1] = 1;
    roundTrip(codec, guestPage(oneByte), 4, target, false, 'one non-zero byte');
    roundTrip(codec, new Uint8Array(PAGE), 5, target, true, 'zero page outside any memory');
    assert.deepEqual(codec.stats(), { ...codec.stats(), pages: 2, bytesIn: 2 * PAGE, bytesOut: 0 });
  }
  assert.equal(isZeroBytes(new Uint8Array(PAGE).subarray(1, 4000)), true);
  const odd = new Uint8Array(PAGE);
  odd[3999] = 1;
  assert.equal(isZeroBytes(odd.subarray(1, 4000)), false);
});

test('lz4 and deflate round-trip the pages they shrink and pass on random ones', () => {
  for (const codec of [new Lz4Codec(), new DeflateCodec(), new DeflateCodec(6)]) {
    const target = randomPage();
    const text = textPage();
    roundTrip(codec, guestPage(text), 1, target, true, 'text page');
    roundTrip(codec, guestPage(changedByte(text)), 1, target, true, 'text page, one byte changed');
    const zeroBytes = roundTrip(codec, guestPage(new Uint8Array(PAGE)), 2, target, true, 'zero page');
    assert.ok(zeroBytes < 64, `${codec.name}: a zero page in ${zeroBytes} bytes`);
    roundTrip(codec, guestPage(randomPage()), 3, target, false, 'random page');
    const s = codec.stats();
    assert.equal(s.pages, 3, codec.name);
    assert.equal(s.bytesIn, 3 * PAGE, codec.name);
    assert.ok(s.bytesOut > 0 && s.bytesOut < 3 * PAGE, codec.name);
    assert.ok(s.encodeMs > 0, codec.name);
  }
});

test('xbzrle caches a page on its first encode and sends deltas after, with either kernel', () => {
  const binders = [undefined, (m: WebAssembly.Memory) => new ReferenceKernels(m)];
  for (const bindKernels of binders) {
    const codec = new XbzrleCodec({ pageSizeBytes: PAGE, cacheBytes: 16 * PAGE, bindKernels });
    const receiver = new XbzrleCodec({ pageSizeBytes: PAGE, cacheBytes: 0, bindKernels });
    const v1 = randomPage();
    const target = v1.slice(); // the target got v1 raw after the miss
    assert.equal(codec.encode(guestPage(v1), 7, new Uint8Array(PAGE)), -1, 'first sight: a miss');
    const v2 = changedByte(v1);
    const delta = roundTripOn(codec, receiver, guestPage(v2), 7, target, true, 'one byte changed');
    assert.ok(delta <= 4, `one changed byte in ${delta} bytes`);
    assert.ok(roundTripOn(codec, receiver, guestPage(v2), 7, target, true, 'unchanged') <= 4);
    const text = textPage();
    roundTripOn(codec, receiver, guestPage(text), 7, target, false, 'all bytes changed (to text)');
    target.set(text); // the overflowed page went raw; the cache holds it
    roundTripOn(codec, receiver, guestPage(changedByte(text)), 7, target, true, 'text, one byte changed');
    const s = codec.stats();
    assert.deepEqual([s.cacheMisses, s.cacheHits, s.overflows, s.pages], [1, 4, 1, 3]);
  }
});

/** Like roundTrip, with the receiver's own xbzrle codec decoding. */
function roundTripOn(
  sender: XbzrleCodec,
  receiver: XbzrleCodec,
  page: Uint8Array,
  pageNumber: number,
  target: Uint8Array,
  expectTaken: boolean,
  what: string,
): number {
  const out = new Uint8Array(PAGE);
  const n = sender.encode(page, pageNumber, out);
  assert.equal(n >= 0, expectTaken, `xbzrle ${what}: encode returned ${n}`);
  if (n >= 0) {
    receiver.decode(out.subarray(0, n), pageNumber, target);
    assert.deepEqual(target, page.slice(), `xbzrle ${what}: decoded page differs`);
  }
  return n;
}
