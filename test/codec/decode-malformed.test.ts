/**
 * Every codec's decode, given malformed bytes, throws CodecError and leaves the target page as it
 * was: wrong lengths, corrupt and truncated streams, a deflate stream that would inflate past the
 * page, trailing bytes, a malformed or overlong xbzrle delta.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { compress } from 'lz4-wasm-nodejs';
import { CodecError, type PageCodec } from '../../src/codec/codec.js';
import { DeflateCodec } from '../../src/codec/deflate.js';
import { Lz4Codec } from '../../src/codec/lz4.js';
import { XbzrleCodec } from '../../src/codec/xbzrle.js';
import { ZeroCodec } from '../../src/codec/zero.js';
import { instantiateKernels } from '../../src/kernel/loader.js';
import { kernelMemory, kernelModule } from '../fixtures/kernel-pair.js';
import { TestPrng } from '../fixtures/prng.js';

const PAGE = 4096;
const prng = new TestPrng(90);
const original = new Uint8Array(PAGE);
prng.fill(original);

function text(n: number): Uint8Array {
  return new TextEncoder().encode('pages move while the guest runs; '.repeat(Math.ceil(n / 33))).subarray(0, n);
}

function assertRejects(codec: PageCodec, encoded: Uint8Array, what: string): void {
  const target = original.slice();
  assert.throws(() => codec.decode(encoded, 42, target), CodecError, `${codec.name}: ${what}`);
  assert.deepEqual(target, original, `${codec.name}: ${what} changed the target`);
}

/** A copy of `bytes` with the byte at `at` replaced. */
function corrupt(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const c = bytes.slice();
  c[at] = value;
  return c;
}

test('zero rejects any bytes', () => {
  assertRejects(new ZeroCodec(), new Uint8Array(1), 'one byte');
});

test('lz4 rejects short, mis-sized, corrupt and truncated blocks', () => {
  const codec = new Lz4Codec();
  const good = compress(text(PAGE));
  const target = original.slice();
  codec.decode(good, 42, target); // the unmodified block decodes
  assert.deepEqual(target, text(PAGE));
  assertRejects(codec, new Uint8Array(3), 'three bytes');
  assertRejects(codec, corrupt(good, 1, 0x20), 'size prefix of 8 KiB');
  assertRejects(codec, compress(text(PAGE - 1)), 'a block of one byte less than the page');
  assertRejects(codec, good.subarray(0, good.length - 1), 'truncated block');
  assertRejects(codec, good.subarray(0, 4), 'prefix only');
  // Token: no literals, a match of 5 bytes at offset 770, before the start of the page.
  assertRejects(codec, new Uint8Array([0, 16, 0, 0, 0x01, 0x02, 0x03]), 'match before the start');
  const garbage = new Uint8Array(100);
  prng.fill(garbage);
  garbage.set([0, 16, 0, 0]);
  assertRejects(codec, garbage, 'random bytes after a right prefix');
});

test('deflate rejects garbage, truncated, short, ballooning and trailing streams', () => {
  const codec = new DeflateCodec();
  const good = deflateRawSync(text(PAGE));
  const target = original.slice();
  codec.decode(good, 42, target);
  assert.deepEqual(target, text(PAGE));
  const garbage = new Uint8Array(64);
  prng.fill(garbage);
  assertRejects(codec, corrupt(garbage, 0, 0xff), 'random bytes');
  assertRejects(codec, good.subarray(0, good.length - 2), 'truncated stream');
  assertRejects(codec, deflateRawSync(text(100)), 'a stream of 100 bytes');
  assertRejects(codec, deflateRawSync(new Uint8Array(1024 * 1024)), 'a stream of 1 MiB');
  assertRejects(codec, new Uint8Array([...good, 0]), 'a byte after the stream');
  assertRejects(codec, new Uint8Array(0), 'no bytes');
});

test('xbzrle rejects malformed and overlong deltas', () => {
  const codec = new XbzrleCodec({ pageSizeBytes: PAGE, cacheBytes: 0 });
  const target = original.slice();
  codec.decode(new Uint8Array([0, 2, 7, 7]), 42, target);
  assert.deepEqual(Array.from(target.subarray(0, 3)), [7, 7, original[2]]);
  assertRejects(codec, new Uint8Array([0, 2, 7]), 'run past the delta');
  assertRejects(codec, new Uint8Array([0xff, 0x1f, 2, 7, 7]), 'run past the page');
  assertRejects(codec, new Uint8Array([0, 2, 7, 7, 5]), 'trailing zero run');
  assertRejects(codec, new Uint8Array(2 * PAGE + 2), 'longer than any delta of a page');
});

test('xbzrle decoding in place, in a memory with its own kernels, rejects the same deltas', async () => {
  const memory = kernelMemory(4 * 65536);
  const bytes = new Uint8Array(memory.buffer);
  const codec = new XbzrleCodec({
    pageSizeBytes: PAGE,
    cacheBytes: 0,
    decodeInPlace: [{ memory, kernels: instantiateKernels(await kernelModule(), memory) }],
  });
  const target = bytes.subarray(65536, 65536 + PAGE);
  const delta = bytes.subarray(2 * 65536, 2 * 65536 + 16);
  for (const [what, input] of [
    ['run past the delta', [0, 2, 7]],
    ['run past the page', [0xff, 0x1f, 2, 7, 7]],
    ['trailing zero run', [0, 2, 7, 7, 5]],
  ] as const) {
    target.set(original);
    delta.set(input);
    assert.throws(() => codec.decode(delta.subarray(0, input.length), 42, target), CodecError, what);
    assert.deepEqual(target, original, `${what} changed the target`);
  }
  delta.set([1, 2, 7, 7]);
  codec.decode(delta.subarray(0, 4), 42, target);
  assert.deepEqual(Array.from(target.subarray(0, 4)), [original[0], 7, 7, original[3]]);
});
