/**
 * The two-level scan: with summary bits set for the words that hold dirty pages, it emits exactly
 * the pages a plain scan would, ascending, clears both levels, skips words whose summary bit is
 * clear (their pages stay for a later scan), and wasm agrees with the reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, kernelPair, readU32s, region, writeBoth } from '../fixtures/kernel-pair.js';
import { TestPrng } from '../fixtures/prng.js';

const SUMMARY = BASE;
const BITMAP = SUMMARY + 64 * 1024;
const OUT = BITMAP + 1024 * 1024;
const sides = await kernelPair(OUT + 8 * 1024 * 1024);

function setUp(words: number, pages: number[], summaryFor: (word: number) => boolean): void {
  for (const s of sides) {
    s.bytes.fill(0, SUMMARY, SUMMARY + 64 * 1024);
    s.bytes.fill(0, BITMAP, BITMAP + words * 8);
  }
  const bitmap = new Uint8Array(words * 8);
  const summary = new Uint8Array(Math.ceil(words / 64) * 8);
  for (const p of pages) {
    bitmap[p >> 3] |= 1 << (p & 7);
    const w = p >> 6;
    if (summaryFor(w)) summary[w >> 3] |= 1 << (w & 7);
  }
  writeBoth(sides, BITMAP, bitmap);
  writeBoth(sides, SUMMARY, summary);
}

test("two-level scan emits the flagged words' pages ascending and clears both levels", () => {
  const prng = new TestPrng(7);
  for (const words of [1, 63, 64, 65, 1023, 1024, 1025, 16 * 64 + 3, 16384]) {
    for (const density of [0, 0.0005, 0.02, 0.5]) {
      const pages: number[] = [];
      for (let p = 0; p < words * 64; p++) if (prng.chance(density)) pages.push(p);
      setUp(words, pages, () => true);
      for (const s of sides) {
        const n = s.kernels.scanAndClearTwoLevel(SUMMARY, BITMAP, words, OUT, words * 64);
        assert.equal(n, pages.length, `${s.name} words=${words} density=${density}`);
        assert.deepEqual([...readU32s(s, OUT, n)], pages, `${s.name} words=${words}`);
        assert.ok(
          region(s, BITMAP, words * 8).every((b) => b === 0),
          `${s.name}: bitmap cleared`,
        );
        assert.ok(
          region(s, SUMMARY, Math.ceil(words / 64) * 8).every((b) => b === 0),
          `${s.name}: summary cleared`,
        );
      }
    }
  }
});

test('a word whose summary bit is clear is skipped and keeps its pages for later', () => {
  const words = 4096;
  const pages = [3, 64 * 5 + 1, 64 * 700 + 63, 64 * 4095];
  setUp(words, pages, (w) => w !== 700);
  for (const s of sides) {
    const n = s.kernels.scanAndClearTwoLevel(SUMMARY, BITMAP, words, OUT, words * 64);
    assert.deepEqual([...readU32s(s, OUT, n)], [3, 64 * 5 + 1, 64 * 4095], s.name);
    assert.equal(s.kernels.countDirty(BITMAP, 0, words), 1, `${s.name}: the unflagged page is still dirty`);
  }
});

test('two-level scan refuses a list too small, touching nothing', () => {
  setUp(128, [5, 70], () => true);
  for (const s of sides) {
    assert.equal(s.kernels.scanAndClearTwoLevel(SUMMARY, BITMAP, 128, OUT, 128 * 64 - 1), -1, s.name);
    assert.equal(s.kernels.countDirty(BITMAP, 0, 128), 2, `${s.name}: nothing cleared`);
  }
});
