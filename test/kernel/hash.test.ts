/** hash64 and hashPages compute XXH64 (Yann Collet): known answers, any alignment, both builds equal. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, kernelPair, writeBoth } from '../fixtures/kernel-pair.js';
import { TestPrng } from '../fixtures/prng.js';

const AREA = BASE + 1024;
const OUT = AREA + 256 * 1024;
const sides = await kernelPair(OUT + 64 * 1024);
const PRIME32 = 2654435761n;

/** xxHash's own sanity buffer (cli/xsum_sanity_check.c): byte i is the top byte of PRIME32 * PRIME64^i. */
function sanityBuffer(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let gen = PRIME32;
  for (let i = 0; i < length; i++) {
    bytes[i] = Number(gen >> 56n);
    gen = BigInt.asUintN(64, gen * 11400714785074694797n);
  }
  return bytes;
}

test('hash64 gives the published XXH64 values', () => {
  const text: [string, bigint][] = [
    ['', 0xef46db3751d8e999n],
    ['a', 0xd24ec4f1a98c6e5bn],
    ['abc', 0x44bc2cf5ad770999n],
    ['Nobody inspects the spammish repetition', 0xfbcea83c8a378bf1n],
  ];
  for (const [input, expected] of text) {
    writeBoth(sides, AREA, new TextEncoder().encode(input));
    for (const s of sides) assert.equal(s.kernels.hash64(AREA, input.length, 0n), expected, `${s.name}: "${input}"`);
  }
  // Lengths around the 32-byte stripe and the 4 KiB page; seed 0 values checked with xxhsum 0.8.1,
  // PRIME32-seeded ones from xxHash's sanity table.
  const sanity: [number, bigint, bigint][] = [
    [0, PRIME32, 0xac75fda2929b17efn],
    [1, 0n, 0xe934a84adb052768n],
    [1, PRIME32, 0x5014607643a9b4c3n],
    [4, 0n, 0x9136a0dca57457een],
    [14, 0n, 0x8282dcc4994e35c8n],
    [14, PRIME32, 0xc3bd6bf63deb6df0n],
    [31, 0n, 0x299b39a290e6d783n],
    [32, 0n, 0x18b216492bb44b70n],
    [33, 0n, 0x55c8dc3e578f5b59n],
    [63, 0n, 0xa9efbe0fa0f3f4e7n],
    [64, 0n, 0xef558f8acac2b5cdn],
    [65, 0n, 0xde0f20dc2631af7an],
    [222, 0n, 0xb641ae8cb691c174n],
    [222, PRIME32, 0x20cb8ab7ae10c14an],
    [4095, 0n, 0xf7cfaaa03be2abf0n],
    [4096, 0n, 0xab77f4af85f4e70bn],
    [4097, 0n, 0xf617de30f1c0abb6n],
  ];
  const buffer = sanityBuffer(4097);
  for (const offset of [0, 1, 3, 7]) {
    writeBoth(sides, AREA + offset, buffer);
    for (const [length, seed, expected] of sanity) {
      for (const s of sides) {
        assert.equal(
          s.kernels.hash64(AREA + offset, length, seed),
          expected,
          `${s.name}: sanity ${length} seed ${seed} at +${offset}`,
        );
      }
    }
  }
});

test('hash64 agrees between builds for random data, lengths, alignments and 64-bit seeds', () => {
  const prng = new TestPrng(30);
  const data = new Uint8Array(10000);
  prng.fill(data);
  writeBoth(sides, AREA, data);
  const seeds = [0n, 1n, 0xffff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n];
  for (let i = 0; i < 200; i++) {
    const ptr = AREA + prng.below(64);
    const len = prng.below(prng.chance(0.5) ? 100 : 9000);
    const seed = i < seeds.length ? seeds[i] : (BigInt(prng.nextU32()) << 32n) | BigInt(prng.nextU32());
    const [w, r] = sides.map((s) => s.kernels.hash64(ptr, len, seed));
    assert.equal(w, r, `case ${i}: ${len} bytes at ${ptr}, seed ${seed}`);
    assert.ok(w >= 0n && w < 2n ** 64n, 'unsigned 64-bit');
  }
  // A one-bit change anywhere changes the hash.
  const [before] = sides.map((s) => s.kernels.hash64(AREA, 4096, 0n));
  for (const s of sides) {
    s.bytes[AREA + 4095] ^= 1;
    assert.notEqual(s.kernels.hash64(AREA, 4096, 0n), before, s.name);
  }
});

test('hashPages writes hash64(page, seed 0) of each page as u64, and nothing past them', () => {
  const prng = new TestPrng(31);
  for (const pageSizeBytes of [1, 63, 64, 65, 4096]) {
    for (const count of [0, 1, 5]) {
      const pagesPtr = AREA + prng.below(8);
      const outPtr = OUT + prng.below(8);
      const data = new Uint8Array(pageSizeBytes * count);
      prng.fill(data);
      writeBoth(sides, pagesPtr, data);
      for (const s of sides) s.bytes.fill(0xcc, outPtr, outPtr + count * 8 + 16);
      for (const s of sides) {
        s.kernels.hashPages(pagesPtr, pageSizeBytes, count, outPtr);
        const view = new DataView(s.memory.buffer);
        for (let i = 0; i < count; i++) {
          const expected = s.kernels.hash64(pagesPtr + i * pageSizeBytes, pageSizeBytes, 0n);
          assert.equal(
            view.getBigUint64(outPtr + i * 8, true),
            expected,
            `${s.name}: page ${i} of ${count} x ${pageSizeBytes}`,
          );
        }
        assert.ok(
          s.bytes.subarray(outPtr + count * 8, outPtr + count * 8 + 16).every((b) => b === 0xcc),
          `${s.name}: wrote past the end`,
        );
      }
      assert.deepEqual(
        sides[0].bytes.slice(outPtr, outPtr + count * 8),
        sides[1].bytes.slice(outPtr, outPtr + count * 8),
      );
    }
  }
});
