/**
 * Dirty bitmap kernels (markDirty, scanAndClear, collectDirty, clearPages, countDirty): the wasm
 * build and the reference agree with each other and with a plain model of the bitmap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, kernelPair, readU32s, region, writeBoth, writeU32sBoth, type Side } from '../fixtures/kernel-pair.js';
import { TestPrng } from '../fixtures/prng.js';

const BITMAP = BASE;
const BITMAP_WORDS = 8192; // 64 KiB
const OUT = BITMAP + BITMAP_WORDS * 8;
const LIST = OUT + 4097 * 64 * 4 + 64;
const sides = await kernelPair(LIST + 1024 * 1024);

/** Page numbers whose bits are set in words [firstWord, firstWord + wordCount) of a bitmap copy. */
function modelPages(bitmap: Uint8Array, firstWord: number, wordCount: number): Uint32Array {
  const pages: number[] = [];
  for (let p = firstWord * 64; p < (firstWord + wordCount) * 64; p++) {
    if (bitmap[p >> 3] & (1 << (p & 7))) pages.push(p);
  }
  return Uint32Array.from(pages);
}

function randomBitmap(prng: TestPrng, words: number, density: number): Uint8Array {
  const bytes = new Uint8Array(words * 8);
  if (density >= 1) return bytes.fill(0xff);
  for (let p = 0; p < words * 64; p++) if (prng.chance(density)) bytes[p >> 3] |= 1 << (p & 7);
  return bytes;
}

function resetBitmap(bitmap: Uint8Array): void {
  for (const s of sides) s.bytes.fill(0, BITMAP, BITMAP + BITMAP_WORDS * 8);
  writeBoth(sides, BITMAP, bitmap);
}

test('markDirty sets bit p & 63 of little-endian word p >> 6; scanAndClear lists pages ascending and clears them', () => {
  const pages = [4097, 0, 65, 63, 1, 4096, 64, 4095, 64, 33];
  const expected = [0, 1, 33, 63, 64, 65, 4095, 4096, 4097];
  resetBitmap(new Uint8Array(0));
  for (const s of sides) {
    for (const p of pages) s.kernels.markDirty(BITMAP, p);
    for (const p of expected)
      assert.equal(s.bytes[BITMAP + (p >> 3)] & (1 << (p & 7)), 1 << (p & 7), `${s.name}: bit of page ${p}`);
    assert.equal(s.bytes[BITMAP + 4], 0b10, `${s.name}: page 33 is bit 1 of byte 4 (little-endian)`);
    assert.equal(s.kernels.countDirty(BITMAP, 0, 65), expected.length, s.name);
    assert.equal(s.kernels.collectDirty(BITMAP, 0, 65, OUT, 65 * 64), expected.length, s.name);
    assert.deepEqual([...readU32s(s, OUT, expected.length)], expected, s.name);
    assert.equal(s.kernels.countDirty(BITMAP, 0, 65), expected.length, `${s.name}: collectDirty leaves the bitmap`);
    assert.equal(s.kernels.scanAndClear(BITMAP, 0, 65, OUT, 65 * 64), expected.length, s.name);
    assert.deepEqual([...readU32s(s, OUT, expected.length)], expected, s.name);
    assert.ok(
      region(s, BITMAP, 65 * 8).every((b) => b === 0),
      `${s.name}: scanAndClear clears what it returns`,
    );
    assert.equal(s.kernels.scanAndClear(BITMAP, 0, 65, OUT, 65 * 64), 0, `${s.name}: a second scan finds nothing`);
  }
});

test('scans and counts match the model at boundary word counts, offsets and densities', () => {
  const prng = new TestPrng(1);
  const densities = [0, 0.005, 0.3, 1];
  for (const wordCount of [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 4095, 4096, 4097]) {
    for (const firstWord of [0, 1, 5, 8]) {
      for (const outOffset of [0, 1]) {
        const density = densities[prng.below(densities.length)];
        const bitmap = randomBitmap(prng, firstWord + wordCount + 9, density);
        const expected = modelPages(bitmap, firstWord, wordCount);
        const what = `words [${firstWord}, +${wordCount}), density ${density}, out +${outOffset}`;
        resetBitmap(bitmap);
        for (const s of sides) {
          const out = OUT + outOffset;
          assert.equal(s.kernels.countDirty(BITMAP, firstWord, wordCount), expected.length, `${s.name} count: ${what}`);
          assert.equal(
            s.kernels.collectDirty(BITMAP, firstWord, wordCount, out, wordCount * 64),
            expected.length,
            `${s.name} collect: ${what}`,
          );
          assert.deepEqual(readU32s(s, out, expected.length), expected, `${s.name} collect: ${what}`);
          assert.deepEqual(region(s, BITMAP, bitmap.length), bitmap, `${s.name} collect leaves the bitmap: ${what}`);
          assert.equal(
            s.kernels.scanAndClear(BITMAP, firstWord, wordCount, out, wordCount * 64),
            expected.length,
            `${s.name} scan: ${what}`,
          );
          assert.deepEqual(readU32s(s, out, expected.length), expected, `${s.name} scan: ${what}`);
          const after = bitmap.slice();
          after.fill(0, firstWord * 8, (firstWord + wordCount) * 8);
          assert.deepEqual(region(s, BITMAP, bitmap.length), after, `${s.name} scan clears exactly the range: ${what}`);
        }
      }
    }
  }
});

test('scanAndClear and collectDirty return -1 and touch nothing when the output could overflow', () => {
  const prng = new TestPrng(2);
  const bitmap = randomBitmap(prng, 80, 1);
  for (const wordCount of [1, 8, 65]) {
    resetBitmap(bitmap);
    for (const s of sides) s.bytes.fill(0xaa, OUT, OUT + wordCount * 256);
    for (const s of sides) {
      for (const kernel of ['scanAndClear', 'collectDirty'] as const) {
        assert.equal(
          s.kernels[kernel](BITMAP, 3, wordCount, OUT, wordCount * 64 - 1),
          -1,
          `${s.name} ${kernel} ${wordCount}`,
        );
        assert.equal(s.kernels[kernel](BITMAP, 3, wordCount, OUT, 0), -1, `${s.name} ${kernel} ${wordCount}`);
      }
      assert.deepEqual(region(s, BITMAP, bitmap.length), bitmap, `${s.name}: bitmap untouched`);
      assert.ok(
        region(s, OUT, wordCount * 256).every((b) => b === 0xaa),
        `${s.name}: output untouched`,
      );
      // Exactly enough room is not an overflow, even with every bit set.
      assert.equal(s.kernels.scanAndClear(BITMAP, 3, wordCount, OUT, wordCount * 64), wordCount * 64, s.name);
    }
  }
  // wordCount * 64 must not wrap in 32 bits: 2^26 words need 2^32 entries, more than any cap.
  for (const s of sides) assert.equal(s.kernels.scanAndClear(BITMAP, 0, 2 ** 26, OUT, 0xffff_ffff), -1, s.name);
});

test('clearPages clears exactly the listed bits, in any order, with repeats', () => {
  const prng = new TestPrng(3);
  for (const count of [0, 1, 2, 63, 64, 65, 500]) {
    const words = 70;
    const bitmap = randomBitmap(prng, words, 0.6);
    const list = Array.from({ length: count }, () => prng.below(words * 64));
    if (count > 10) list.sort((a, b) => a - b).splice(count >> 1, 0, list[0], list[1], list[1]); // runs, repeats, out of order
    resetBitmap(bitmap);
    writeU32sBoth(sides, LIST + 2, list);
    const expected = bitmap.slice();
    const wasSet = new Set(list.filter((p) => (bitmap[p >> 3] & (1 << (p & 7))) !== 0));
    for (const p of list) expected[p >> 3] &= ~(1 << (p & 7));
    for (const s of sides) {
      // Returns the listed pages whose bits were set, each once (KVM re-protects those).
      assert.equal(
        s.kernels.clearPages(BITMAP, LIST + 2, list.length),
        wasSet.size,
        `${s.name}: ${count} pages cleared`,
      );
      assert.deepEqual(region(s, BITMAP, bitmap.length), expected, `${s.name}: ${count} pages`);
    }
  }
});

test('random sequences of bitmap operations keep both implementations equal to the model', () => {
  const prng = new TestPrng(4);
  const words = 300;
  const model = new Uint8Array(words * 8);
  resetBitmap(model);
  const step = (name: string, run: (s: Side) => ArrayLike<number>): void => {
    const [w, r] = sides.map((s) => Array.from(run(s)));
    assert.deepEqual(w, r, name);
  };
  for (let i = 0; i < 400; i++) {
    const firstWord = prng.below(words);
    const wordCount = prng.below(words - firstWord + 1);
    const op = prng.below(5);
    if (op === 0) {
      const pages = Array.from({ length: prng.below(200) }, () => prng.below(words * 64));
      for (const p of pages) model[p >> 3] |= 1 << (p & 7);
      step(`mark ${i}`, (s) => (pages.forEach((p) => s.kernels.markDirty(BITMAP, p)), []));
    } else if (op === 1) {
      const pages = Array.from({ length: prng.below(100) }, () => prng.below(words * 64));
      for (const p of pages) model[p >> 3] &= ~(1 << (p & 7));
      writeU32sBoth(sides, LIST, pages);
      step(`clear ${i}`, (s) => (s.kernels.clearPages(BITMAP, LIST, pages.length), []));
    } else if (op === 2) {
      const expected = modelPages(model, firstWord, wordCount);
      model.fill(0, firstWord * 8, (firstWord + wordCount) * 8);
      step(`scan ${i}`, (s) =>
        readU32s(s, OUT, s.kernels.scanAndClear(BITMAP, firstWord, wordCount, OUT, wordCount * 64)),
      );
      assert.deepEqual(readU32s(sides[0], OUT, expected.length), expected, `scan ${i}`);
    } else if (op === 3) {
      const expected = modelPages(model, firstWord, wordCount);
      step(`collect ${i}`, (s) =>
        readU32s(s, OUT, s.kernels.collectDirty(BITMAP, firstWord, wordCount, OUT, wordCount * 64)),
      );
      assert.deepEqual(readU32s(sides[0], OUT, expected.length), expected, `collect ${i}`);
    } else {
      const expected = modelPages(model, firstWord, wordCount).length;
      step(`count ${i}`, (s) => [s.kernels.countDirty(BITMAP, firstWord, wordCount)]);
      assert.equal(sides[0].kernels.countDirty(BITMAP, firstWord, wordCount), expected, `count ${i}`);
    }
    for (const s of sides) assert.deepEqual(region(s, BITMAP, model.length), model, `${s.name} bitmap after step ${i}`);
  }
});
