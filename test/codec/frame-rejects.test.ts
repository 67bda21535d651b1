/**
 * decodePages checks every descriptor before writing a byte: a frame with a page outside the
 * slot, an unknown codec, a raw page not a page long, a zero page with bytes, lengths that do not
 * add up to the body, or a body shorter than its descriptors is a CodecError and the target stays
 * as it was. A codec that finds its own bytes malformed is named with the page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODEC_IDS, CodecError } from '../../src/codec/codec.js';
import { decodePages, encodePages } from '../../src/codec/frame-codec.js';
import { createCodecChain, createDecoders } from '../../src/codec/registry.js';
import { TestPrng } from '../fixtures/prng.js';

const PAGE = 4096;
const SLOT_PAGES = 8;
const PAGE_BASE = 64;
const decoders = createDecoders(PAGE);
const prng = new TestPrng(120);

/** A valid frame of pages 1 (zero), 2 (text, lz4) and 3 (random, raw) of the slot. */
function validFrame(): Uint8Array {
  const pages = new Uint8Array(SLOT_PAGES * PAGE);
  pages.fill(0x41, 2 * PAGE, 3 * PAGE);
  prng.fill(pages.subarray(3 * PAGE, 4 * PAGE));
  const chain = createCodecChain(['zero', 'lz4'], { pageSizeBytes: PAGE, xbzrleCacheBytes: 0 });
  const out = new Uint8Array(3 * (8 + PAGE));
  const n = encodePages(chain, pages, PAGE, Uint32Array.of(1, 2, 3), PAGE_BASE, out);
  return out.slice(0, n);
}

function descriptor(body: Uint8Array, i: number): { page: number; id: number; length: number } {
  const view = new DataView(body.buffer, body.byteOffset);
  const codecLength = view.getUint32(i * 8 + 4, true);
  return { page: view.getUint32(i * 8, true), id: codecLength >>> 24, length: codecLength & 0xffffff };
}

function withDescriptor(body: Uint8Array, i: number, page: number, id: number, length: number): Uint8Array {
  const copy = body.slice();
  const view = new DataView(copy.buffer);
  view.setUint32(i * 8, page, true);
  view.setUint32(i * 8 + 4, ((id << 24) | length) >>> 0, true);
  return copy;
}

function assertRejected(body: Uint8Array, count: number, mentions: string, what: string): void {
  const target = new Uint8Array(SLOT_PAGES * PAGE);
  prng.fill(target);
  const before = target.slice();
  assert.throws(
    () => decodePages(body, count, target, PAGE, SLOT_PAGES, PAGE_BASE, decoders),
    (e: unknown) => {
      assert.ok(e instanceof CodecError, `${what}: a CodecError`);
      assert.ok(e.message.includes(mentions), `${what}: "${e.message}" mentions "${mentions}"`);
      return true;
    },
  );
  assert.ok(Buffer.from(target).equals(Buffer.from(before)), `${what}: the target was written`);
}

test('the valid frame decodes, and each flaw in it is rejected before a byte is written', () => {
  const body = validFrame();
  const [zero, lz4, raw] = [0, 1, 2].map((i) => descriptor(body, i));
  assert.deepEqual([zero.id, lz4.id, raw.id], [CODEC_IDS.zero, CODEC_IDS.lz4, CODEC_IDS.raw]);
  const target = new Uint8Array(SLOT_PAGES * PAGE).fill(7);
  assert.equal(decodePages(body, 3, target, PAGE, SLOT_PAGES, PAGE_BASE, decoders), 3);
  assert.ok(target.subarray(PAGE, 2 * PAGE).every((b) => b === 0));
  assert.ok(target.subarray(2 * PAGE, 3 * PAGE).every((b) => b === 0x41));

  // The flaw is in the last descriptor, so the pages before it would be written if not checked first.
  assertRejected(
    withDescriptor(body, 2, PAGE_BASE + SLOT_PAGES, raw.id, raw.length),
    3,
    `page ${PAGE_BASE + SLOT_PAGES} is outside`,
    'page past the slot',
  );
  assertRejected(
    withDescriptor(body, 2, PAGE_BASE - 1, raw.id, raw.length),
    3,
    `page ${PAGE_BASE - 1} is outside`,
    'page before the slot',
  );
  assertRejected(withDescriptor(body, 2, raw.page, 9, raw.length), 3, 'unknown codec 9', 'unknown codec');
  assertRejected(withDescriptor(body, 2, raw.page, CODEC_IDS.raw, PAGE - 1), 3, 'raw page', 'raw page one byte short');
  assertRejected(withDescriptor(body, 0, zero.page, CODEC_IDS.zero, 1), 3, 'zero page', 'zero page with a byte');
  assertRejected(withDescriptor(body, 1, lz4.page, lz4.id, lz4.length + 1), 3, 'add up', 'lz4 length one too many');
  assertRejected(withDescriptor(body, 1, lz4.page, lz4.id, lz4.length - 1), 3, 'add up', 'lz4 length one too few');
  assertRejected(body.subarray(0, body.length - 1), 3, 'add up', 'body one byte short');
  assertRejected(new Uint8Array([...body, 0]), 3, 'add up', 'a byte after the pages');
  assertRejected(body, 4, 'descriptor 3', 'count one too many: the first data bytes read as a descriptor');
  assertRejected(body.subarray(0, 20), 3, 'shorter than its 3 descriptors', 'body cut inside the descriptors');
});

test('a page its codec finds malformed is named with the codec; the pages before it are written', () => {
  const body = validFrame();
  const lz4 = descriptor(body, 1);
  const corrupt = body.slice();
  corrupt[3 * 8 + 1] = 0x20; // the lz4 block's size prefix says 8 KiB
  const target = new Uint8Array(SLOT_PAGES * PAGE).fill(7);
  assert.throws(
    () => decodePages(corrupt, 3, target, PAGE, SLOT_PAGES, PAGE_BASE, decoders),
    (e: unknown) => {
      assert.ok(e instanceof CodecError);
      for (const part of [`page ${lz4.page}`, 'lz4', 'descriptor 1 of 3'])
        assert.ok(e.message.includes(part), `"${e.message}" mentions ${part}`);
      return true;
    },
  );
  assert.ok(
    target.subarray(PAGE, 2 * PAGE).every((b) => b === 0),
    'the zero page before it is written',
  );
  assert.ok(
    target.subarray(2 * PAGE, 3 * PAGE).every((b) => b === 7),
    'the lz4 page is untouched',
  );
});
