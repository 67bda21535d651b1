/** fillBytes: sets exactly [ptr, ptr + len) to the value's low byte, at any alignment and length. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, kernelPair } from '../fixtures/kernel-pair.js';
import { TestPrng } from '../fixtures/prng.js';

const AREA = BASE + 4096;
const sides = await kernelPair(AREA + 64 * 1024);
const SIZES = [0, 1, 2, 3, 7, 15, 16, 17, 63, 64, 65, 4095, 4096, 4097, 40000];
const OFFSETS = [0, 1, 3, 8, 15];

test('fillBytes sets the range and nothing around it, in both kernels alike', () => {
  const prng = new TestPrng(11);
  for (const len of SIZES) {
    for (const offset of OFFSETS) {
      const ptr = AREA + 1024 + offset;
      const value = prng.below(256) | 0x100; // only the low byte counts
      const before = new Uint8Array(len + 512);
      for (let i = 0; i < before.length; i++) before[i] = prng.below(256);
      for (const s of sides) {
        s.bytes.set(before, ptr - 256);
        s.kernels.fillBytes(ptr, len, value);
        const after = s.bytes.subarray(ptr - 256, ptr + len + 256);
        assert.deepEqual(
          after.subarray(0, 256),
          before.subarray(0, 256),
          `${s.name}: bytes before ${len} at +${offset}`,
        );
        assert.ok(
          after.subarray(256, 256 + len).every((b) => b === (value & 0xff)),
          `${s.name}: ${len} bytes at +${offset}`,
        );
        assert.deepEqual(
          after.subarray(256 + len),
          before.subarray(256 + len),
          `${s.name}: bytes after ${len} at +${offset}`,
        );
      }
    }
  }
});

test('fillXorshift32x4 writes four xorshift32 streams, and a repeated lane repeats its page', () => {
  const pages = [AREA, AREA + 8192, AREA + 16384, AREA + 8192];
  const seeds = [1, 0x9e3779b9, 12345, 0x9e3779b9];
  for (const len of [4, 64, 4096]) {
    for (const s of sides) {
      s.bytes.fill(0, AREA, AREA + 32768);
      s.kernels.fillXorshift32x4(pages[0], seeds[0], pages[1], seeds[1], pages[2], seeds[2], pages[3], seeds[3], len);
    }
    for (let lane = 0; lane < 4; lane++) {
      // Marsaglia's xorshift32, the first output first.
      let x = seeds[lane];
      const want = new Uint8Array(len);
      const view = new DataView(want.buffer);
      for (let at = 0; at < len; at += 4) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        view.setUint32(at, x >>> 0, true);
      }
      for (const s of sides)
        assert.deepEqual(s.bytes.subarray(pages[lane], pages[lane] + len), want, `${s.name}: lane ${lane}, ${len} B`);
    }
    for (const s of sides) assert.equal(s.bytes[pages[0] + len], 0, `${s.name}: nothing past ${len} B`);
  }
});

test('copyBytes copies like memmove, overlapping or not', () => {
  const prng = new TestPrng(12);
  for (const [dst, src, len] of [
    [AREA + 5000, AREA + 100, 4097],
    [AREA + 200, AREA + 100, 1000],
    [AREA + 100, AREA + 200, 1000],
    [AREA + 3, AREA + 64, 0],
  ]) {
    const data = new Uint8Array(12000);
    for (let i = 0; i < data.length; i++) data[i] = prng.below(256);
    const want = data.slice();
    want.copyWithin(dst - AREA, src - AREA, src - AREA + len);
    for (const s of sides) {
      s.bytes.set(data, AREA);
      s.kernels.copyBytes(dst, src, len);
      assert.deepEqual(
        s.bytes.subarray(AREA, AREA + data.length),
        want,
        `${s.name}: ${len} B from ${src - AREA} to ${dst - AREA}`,
      );
    }
  }
});
