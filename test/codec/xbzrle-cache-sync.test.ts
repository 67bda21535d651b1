/**
 * xbzrle's cache keeps in step with the target through sent(): a page that another codec sends
 * (zero, lz4, raw) leaves the cache holding what the target got, so a later delta is taken
 * against the right bytes and decodes to the page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODEC_IDS } from '../../src/codec/codec.js';
import { decodePages, encodePages } from '../../src/codec/frame-codec.js';
import { createCodecChain, createDecoders } from '../../src/codec/registry.js';
import { XbzrleCodec } from '../../src/codec/xbzrle.js';
import { zeroTestInMemories } from '../../src/codec/zero.js';
import { instantiateKernels } from '../../src/kernel/loader.js';
import { kernelMemory, kernelModule } from '../fixtures/kernel-pair.js';
import { TestPrng } from '../fixtures/prng.js';

const PAGE = 4096;
const SLOT_PAGES = 8;
const PAGE_BASE = 1000;

test('a page sent as zero, then changed, goes as a delta from zero and decodes right', async () => {
  const memory = kernelMemory(65536 + SLOT_PAGES * PAGE);
  const kernels = instantiateKernels(await kernelModule(), memory);
  const pages = new Uint8Array(memory.buffer, 65536, SLOT_PAGES * PAGE);
  const target = new Uint8Array(SLOT_PAGES * PAGE);
  const chain = createCodecChain(['zero', 'xbzrle', 'lz4'], {
    pageSizeBytes: PAGE,
    xbzrleCacheBytes: SLOT_PAGES * PAGE,
    isZero: zeroTestInMemories([{ memory, kernels }]),
  });
  const decoders = createDecoders(PAGE);
  const out = new Uint8Array(SLOT_PAGES * (8 + PAGE));
  const prng = new TestPrng(100);
  const page3 = pages.subarray(3 * PAGE, 4 * PAGE);

  /** Sends page 3 in a frame of its own; returns the codec that carried it. */
  function send(): number {
    const n = encodePages(chain, pages, PAGE, Uint32Array.of(3), PAGE_BASE, out);
    decodePages(out.subarray(0, n), 1, target, PAGE, SLOT_PAGES, PAGE_BASE, decoders);
    assert.deepEqual(target.subarray(3 * PAGE, 4 * PAGE), page3, 'target page 3 differs from the source');
    return new DataView(out.buffer).getUint32(4, true) >>> 24;
  }

  prng.fill(page3);
  assert.equal(send(), CODEC_IDS.raw, 'random page, first sight: cached by xbzrle, sent raw');
  page3.fill(0);
  assert.equal(send(), CODEC_IDS.zero, 'zeroed: sent by the zero codec');
  for (let i = 0; i < 10; i++) page3[prng.below(PAGE)] = 1 + prng.below(255);
  // Against a stale cache (the random page) this delta would overflow and go raw.
  assert.equal(send(), CODEC_IDS.xbzrle, 'a few bytes written: a delta from the zero page');
  page3.fill(0x61, 0, 2048); // half text-like: lz4 shrinks it, xbzrle's delta would be 2 KiB + 2 bytes
  page3.set(
    Uint8Array.from({ length: 2048 }, (_, i) => 0x61 + (i % 7)),
    2048,
  );
  prng.fill(page3.subarray(0, 1024));
  const before = chain[1].stats();
  const carrier = send();
  assert.ok(carrier === CODEC_IDS.lz4 || carrier === CODEC_IDS.raw, `mostly rewritten: not xbzrle (codec ${carrier})`);
  assert.equal(chain[1].stats().overflows, before.overflows! + 1);
  page3[4000] ^= 0xff;
  assert.equal(send(), CODEC_IDS.xbzrle, 'one byte more: a delta from what lz4 or raw sent');
});

test('sent() with other bytes than the last encode overwrites the cached page', () => {
  const codec = new XbzrleCodec({ pageSizeBytes: PAGE, cacheBytes: 2 * PAGE });
  const receiver = new XbzrleCodec({ pageSizeBytes: PAGE, cacheBytes: 0 });
  const prng = new TestPrng(101);
  const v1 = new Uint8Array(PAGE);
  prng.fill(v1);
  assert.equal(codec.encode(v1, 5, new Uint8Array(PAGE)), -1);
  codec.sent(v1, 5);
  const v2 = new Uint8Array(PAGE); // what another codec sent instead
  prng.fill(v2);
  codec.sent(v2, 5);
  const v3 = v2.slice();
  v3[17] ^= 1;
  const out = new Uint8Array(PAGE);
  const n = codec.encode(v3, 5, out);
  assert.ok(n >= 0 && n <= 4, `delta of ${n} bytes`);
  const target = v2.slice();
  receiver.decode(out.subarray(0, n), 5, target);
  assert.deepEqual(target, v3);
  // A page never cached stays uncached.
  codec.sent(v2, 6);
  assert.equal(codec.cache.lookup(6), -1);
});
