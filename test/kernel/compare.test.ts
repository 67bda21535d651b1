/** firstDifference: the offset of the first differing byte of two ranges, or -1 when equal. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, kernelPair } from '../fixtures/kernel-pair.js';
import { TestPrng } from '../fixtures/prng.js';

const A = BASE + 1024;
const B = A + 64 * 1024;
const sides = await kernelPair(B + 64 * 1024);
const SIZES = [0, 1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 127, 128, 129, 4095, 4096, 4097];
const ALIGNMENTS: [number, number][] = [
  [0, 0],
  [1, 1],
  [0, 3],
  [3, 0],
  [5, 14],
  [8, 1],
];

/** Equal random contents in [a, a + len) and [b, b + len); the bytes around them differ. */
function equalRanges(prng: TestPrng, a: number, b: number, len: number): void {
  const data = new Uint8Array(len);
  prng.fill(data);
  for (const s of sides) {
    s.bytes.fill(0x11, a - 64, a + len + 64);
    s.bytes.fill(0x22, b - 64, b + len + 64);
    s.bytes.set(data, a);
    s.bytes.set(data, b);
  }
}

test('firstDifference returns -1 for equal ranges and the offset of a single differing byte', () => {
  const prng = new TestPrng(20);
  for (const len of SIZES) {
    for (const [offA, offB] of ALIGNMENTS) {
      const a = A + offA;
      const b = B + offB;
      equalRanges(prng, a, b, len);
      for (const s of sides)
        assert.equal(s.kernels.firstDifference(a, b, len), -1, `${s.name}: ${len} equal bytes (+${offA}, +${offB})`);
      const ats =
        len <= 130
          ? Array.from({ length: len }, (_, i) => i)
          : [0, 7, 8, 63, 64, 65, len >> 1, len - 9, len - 8, len - 1];
      for (const at of ats) {
        for (const s of sides) {
          const saved = s.bytes[b + at];
          s.bytes[b + at] ^= 1 << prng.below(8);
          assert.equal(
            s.kernels.firstDifference(a, b, len),
            at,
            `${s.name}: byte ${at} of ${len} (+${offA}, +${offB})`,
          );
          assert.equal(s.kernels.firstDifference(b, a, len), at, `${s.name}: swapped, byte ${at} of ${len}`);
          s.bytes[b + at] = saved;
        }
      }
    }
  }
});

test('firstDifference reports the first of several differences', () => {
  const prng = new TestPrng(21);
  for (let i = 0; i < 300; i++) {
    const len = 1 + prng.below(prng.chance(0.5) ? 100 : 5000);
    const a = A + prng.below(32);
    const b = B + prng.below(32);
    equalRanges(prng, a, b, len);
    const diffs = Array.from({ length: prng.below(4) }, () => prng.below(len));
    for (const at of diffs) for (const s of sides) s.bytes[b + at] = s.bytes[a + at] ^ 0x80;
    const expected = diffs.length === 0 ? -1 : Math.min(...diffs);
    for (const s of sides) assert.equal(s.kernels.firstDifference(a, b, len), expected, `${s.name}: case ${i}`);
  }
});
