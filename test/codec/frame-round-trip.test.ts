/**
 * encodePages / decodePages carry a frame of mixed pages (zero, text-like, random) through the
 * chain zero,xbzrle,lz4 into a separate target, over two rounds: round 2 changes a few bytes of
 * some pages, which then go as xbzrle deltas, decoded in place in the receiver's memory. The
 * target equals the source after each round.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODEC_IDS } from '../../src/codec/codec.js';
import { decodePages, encodePages, newRawStats } from '../../src/codec/frame-codec.js';
import { createCodecChain, createDecoders } from '../../src/codec/registry.js';
import { zeroTestInMemories } from '../../src/codec/zero.js';
import { instantiateKernels } from '../../src/kernel/loader.js';
import { kernelMemory, kernelModule } from '../fixtures/kernel-pair.js';
import { TestPrng } from '../fixtures/prng.js';

const PAGE = 4096;
const SLOT_PAGES = 48;
const PAGE_BASE = 5000;
const TEXT = new TextEncoder().encode('dirty pages go round after round until the rest fits the downtime; ');

test('a frame of mixed pages round-trips through zero,xbzrle,lz4 over two rounds', async () => {
  const module = await kernelModule();
  const source = kernelMemory(65536 + SLOT_PAGES * PAGE);
  const receiver = kernelMemory(65536 + SLOT_PAGES * PAGE + SLOT_PAGES * (8 + PAGE));
  const pages = new Uint8Array(source.buffer, 65536, SLOT_PAGES * PAGE);
  const targetPages = new Uint8Array(receiver.buffer, 65536, SLOT_PAGES * PAGE);
  // The receiver's frame buffer lies in its own memory, after the pages, as in a slot.
  const frame = new Uint8Array(receiver.buffer, 65536 + SLOT_PAGES * PAGE, SLOT_PAGES * (8 + PAGE));
  const prng = new TestPrng(110);
  for (let p = 0; p < SLOT_PAGES; p++) {
    const page = pages.subarray(p * PAGE, (p + 1) * PAGE);
    if (p % 3 === 1) for (let i = 0; i < PAGE; i++) page[i] = TEXT[(i + prng.below(4)) % TEXT.length];
    if (p % 3 === 2) prng.fill(page);
  }
  prng.fill(targetPages); // the target starts with other bytes

  const chain = createCodecChain(['zero', 'xbzrle', 'lz4'], {
    pageSizeBytes: PAGE,
    xbzrleCacheBytes: 64 * PAGE,
    deflateLevel: 1,
    isZero: zeroTestInMemories([{ memory: source, kernels: instantiateKernels(module, source) }]),
  });
  // xbzrle decodes in place in the receiver's memory, with kernels that count those calls.
  const receiverKernels = instantiateKernels(module, receiver);
  let inPlaceDecodes = 0;
  const countingKernels = {
    ...receiverKernels,
    xbzrleDecode: (...args: Parameters<typeof receiverKernels.xbzrleDecode>) => {
      inPlaceDecodes++;
      return receiverKernels.xbzrleDecode(...args);
    },
  };
  const decoders = createDecoders(PAGE, { targetMemories: [{ memory: receiver, kernels: countingKernels }] });
  const raw = newRawStats();
  const out = new Uint8Array(SLOT_PAGES * (8 + PAGE));

  function sendRound(list: Uint32Array): Map<number, number> {
    const n = encodePages(chain, pages, PAGE, list, PAGE_BASE, out, raw);
    frame.set(out.subarray(0, n));
    assert.equal(
      decodePages(frame.subarray(0, n), list.length, targetPages, PAGE, SLOT_PAGES, PAGE_BASE, decoders),
      list.length,
    );
    assert.ok(Buffer.from(targetPages).equals(Buffer.from(pages)), 'target equals source');
    const view = new DataView(out.buffer);
    const byCodec = new Map<number, number>();
    for (let i = 0; i < list.length; i++) {
      assert.equal(view.getUint32(i * 8, true), PAGE_BASE + list[i], `descriptor ${i} names its page`);
      const id = view.getUint32(i * 8 + 4, true) >>> 24;
      byCodec.set(id, (byCodec.get(id) ?? 0) + 1);
    }
    return byCodec;
  }

  // Round 0: every page, in shuffled order.
  const all = prng.shuffle(Uint32Array.from({ length: SLOT_PAGES }, (_, i) => i));
  const round0 = sendRound(all);
  assert.deepEqual([round0.get(CODEC_IDS.zero), round0.get(CODEC_IDS.lz4), round0.get(CODEC_IDS.raw)], [16, 16, 16]);
  assert.equal(round0.get(CODEC_IDS.xbzrle), undefined, 'no xbzrle hit on first sight');

  // Round 1: a few bytes written in 12 text and random pages, and in 2 zero pages, which xbzrle
  // has not cached (the zero codec took them): they go by lz4.
  const dirty = Uint32Array.of(1, 2, 4, 5, 7, 8, 10, 11, 13, 14, 16, 17, 0, 3);
  for (const p of dirty) for (let k = 0; k < 3; k++) pages[p * PAGE + prng.below(PAGE)] = 1 + prng.below(255);
  const round1 = sendRound(dirty);
  assert.equal(round1.get(CODEC_IDS.xbzrle), 12, 'every changed page xbzrle has seen goes as a delta');
  assert.equal(round1.get(CODEC_IDS.lz4), 2);
  assert.equal(inPlaceDecodes, 12, 'deltas decoded in place in the receiver memory');

  const [zero, xbzrle, lz4] = chain.map((c) => c.stats());
  assert.deepEqual([zero.pages, xbzrle.pages, lz4.pages, raw.pages], [16, 12, 18, 16]);
  assert.deepEqual([xbzrle.cacheMisses, xbzrle.cacheHits, xbzrle.overflows], [34, 12, 0]);
  assert.ok(xbzrle.bytesOut < 12 * 20, `12 deltas in ${xbzrle.bytesOut} bytes`);
  assert.equal(raw.bytesOut, 16 * PAGE);
});
