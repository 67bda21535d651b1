/** isZero: 1 exactly when every byte of [ptr, ptr + len) is zero, at any alignment and length. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, kernelPair } from '../fixtures/kernel-pair.js';
import { TestPrng } from '../fixtures/prng.js';

const AREA = BASE + 4096;
const sides = await kernelPair(AREA + 2 * 1024 * 1024);
const SIZES = [
  0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 143, 144, 255, 256, 4095, 4096, 4097,
];
const OFFSETS = [0, 1, 3, 8, 15];

/** Zeroes [ptr, ptr + len) with non-zero guard bytes around it, which must not count. */
function zeroWithGuards(ptr: number, len: number): void {
  for (const s of sides) {
    s.bytes.fill(0xff, ptr - 256, ptr);
    s.bytes.fill(0, ptr, ptr + len);
    s.bytes.fill(0xff, ptr + len, ptr + len + 256);
  }
}

function positions(len: number, prng: TestPrng): number[] {
  if (len <= 300) return Array.from({ length: len }, (_, i) => i);
  const edges = [
    0,
    1,
    15,
    16,
    17,
    63,
    64,
    127,
    128,
    len >> 1,
    len - 129,
    len - 65,
    len - 17,
    len - 16,
    len - 15,
    len - 1,
  ];
  return [...edges, ...Array.from({ length: 16 }, () => prng.below(len))];
}

test('isZero finds zero ranges zero and any single non-zero byte non-zero, ignoring bytes outside', () => {
  const prng = new TestPrng(10);
  for (const len of SIZES) {
    for (const offset of OFFSETS) {
      const ptr = AREA + 1024 + offset;
      zeroWithGuards(ptr, len);
      for (const s of sides) assert.equal(s.kernels.isZero(ptr, len), 1, `${s.name}: ${len} zero bytes at +${offset}`);
      for (const at of positions(len, prng)) {
        const value = 1 + prng.below(255);
        for (const s of sides) {
          s.bytes[ptr + at] = value;
          assert.equal(s.kernels.isZero(ptr, len), 0, `${s.name}: byte ${at} of ${len} at +${offset} is ${value}`);
          s.bytes[ptr + at] = 0;
        }
      }
    }
  }
});

test('isZero covers a whole 1 MiB range, up to its last byte', () => {
  const len = 1024 * 1024;
  zeroWithGuards(AREA + 512, len);
  for (const s of sides) {
    assert.equal(s.kernels.isZero(AREA + 512, len), 1, s.name);
    s.bytes[AREA + 512 + len - 1] = 0x80;
    assert.equal(s.kernels.isZero(AREA + 512, len), 0, s.name);
    assert.equal(s.kernels.isZero(AREA + 512, len - 1), 1, s.name);
  }
});

test('isZero agrees with the model on random sparse ranges', () => {
  const prng = new TestPrng(11);
  for (let i = 0; i < 300; i++) {
    const len = prng.below(prng.chance(0.5) ? 200 : 9000);
    const ptr = AREA + 512 + prng.below(64);
    zeroWithGuards(ptr, len);
    const nonZero = prng.below(3);
    for (let k = 0; k < nonZero && len > 0; k++) {
      const at = ptr + prng.below(len);
      for (const s of sides) s.bytes[at] = 1 << prng.below(8);
    }
    const expected = sides[0].bytes.subarray(ptr, ptr + len).every((b) => b === 0) ? 1 : 0;
    for (const s of sides)
      assert.equal(s.kernels.isZero(ptr, len), expected, `${s.name}: case ${i}, ${len} bytes at ${ptr}`);
  }
});
