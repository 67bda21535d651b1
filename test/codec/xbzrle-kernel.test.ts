/**
 * xbzrleEncode / xbzrleDecode: the wasm kernel and the TypeScript reference write the same
 * encoding (a known answer, seeded random pages at 1 % and 30 % changed bytes, boundary lengths,
 * any alignment), report overflow at exactly the same capacity, never write at or past the
 * capacity, and decoding the encoding onto the old page gives the new one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, kernelPair, region, writeBoth, type Side } from '../fixtures/kernel-pair.js';
import { TestPrng } from '../fixtures/prng.js';

const OLD = BASE + 1024;
const NEW = OLD + 64 * 1024;
const OUT = NEW + 64 * 1024;
const TARGET = OUT + 64 * 1024;
const sides = await kernelPair(TARGET + 64 * 1024);
const GUARD = 0xa5;

/** Old and new versions of `len` bytes: random old, each byte changed with probability p. */
function versions(prng: TestPrng, len: number, p: number): [Uint8Array, Uint8Array] {
  const old = new Uint8Array(len);
  prng.fill(old);
  const cur = old.slice();
  for (let i = 0; i < len; i++) if (prng.chance(p)) cur[i] = old[i] ^ (1 + prng.below(255));
  return [old, cur];
}

/** Encodes on both sides (guard bytes from the capacity on); asserts they agree; returns the encoding. */
function encodeBoth(
  old: Uint8Array,
  cur: Uint8Array,
  cap: number,
  offs: [number, number, number] = [0, 0, 0],
  what = '',
): Uint8Array | null {
  const [o, n, w] = [OLD + offs[0], NEW + offs[1], OUT + offs[2]];
  writeBoth(sides, o, old);
  writeBoth(sides, n, cur);
  for (const s of sides) s.bytes.fill(GUARD, w, w + cap + 64);
  const results = sides.map((s) => s.kernels.xbzrleEncode(o, n, old.length, w, cap));
  assert.equal(results[0], results[1], `wasm and reference disagree on the length ${what}`);
  for (const s of sides) {
    assert.ok(
      region(s, w + cap, 64).every((b) => b === GUARD),
      `${s.name} wrote at or past the capacity ${what}`,
    );
  }
  if (results[0] < 0) return null;
  const [a, b] = sides.map((s) => region(s, w, results[0]));
  assert.deepEqual(a, b, `wasm and reference encodings differ ${what}`);
  return a;
}

/** Decodes `encoded` onto `old` on both sides; asserts the result is `cur` and the return value. */
function decodeBoth(encoded: Uint8Array, old: Uint8Array, cur: Uint8Array, what = ''): void {
  let lastDiff = 0;
  for (let i = 0; i < old.length; i++) if (old[i] !== cur[i]) lastDiff = i + 1;
  for (const s of sides) {
    s.bytes.set(encoded, OUT);
    s.bytes.set(old, TARGET);
    s.bytes.fill(GUARD, TARGET + old.length, TARGET + old.length + 64);
    assert.equal(
      s.kernels.xbzrleDecode(OUT, encoded.length, TARGET, old.length),
      lastDiff,
      `${s.name}: decode result ${what}`,
    );
    assert.deepEqual(region(s, TARGET, old.length), cur, `${s.name}: decoded page ${what}`);
    assert.ok(
      region(s, TARGET + old.length, 64).every((b) => b === GUARD),
      `${s.name}: decode wrote past the page ${what}`,
    );
  }
}

test('xbzrle encodes a known delta as QEMU does, and nothing for an unchanged page', () => {
  const old = new Uint8Array(40);
  const cur = old.slice();
  cur[0] = 1; // zero run 0, non-zero run 1
  cur[5] = 2;
  cur[6] = 3; // zero run 4, non-zero run 2
  cur.fill(9, 10, 10 + 20); // zero run 3, non-zero run 20; the trailing 10 equal bytes are left out
  const expected = [0, 1, 1, 4, 2, 2, 3, 3, 20, ...new Array(20).fill(9)];
  assert.deepEqual(Array.from(encodeBoth(old, cur, 100)!), expected);
  assert.equal(encodeBoth(old, old, 100)!.length, 0);
  // 200 changed bytes after 300 equal ones: both lengths take two ULEB128 bytes.
  const bigOld = new Uint8Array(600);
  const bigCur = bigOld.slice();
  bigCur.fill(7, 300, 500);
  const big = encodeBoth(bigOld, bigCur, 1000)!;
  assert.deepEqual(Array.from(big.subarray(0, 4)), [(300 % 128) | 0x80, 300 >> 7, (200 % 128) | 0x80, 200 >> 7]);
  assert.equal(big.length, 204);
  decodeBoth(big, bigOld, bigCur);
});

test('xbzrle wasm and reference agree on seeded random pages at 1 % and 30 % changed bytes', () => {
  const prng = new TestPrng(51);
  for (const p of [0.01, 0.3]) {
    for (let i = 0; i < 40; i++) {
      const [old, cur] = versions(prng, 4096, p);
      const encoded = encodeBoth(old, cur, 4095, [0, 0, 0], `(p ${p}, case ${i})`);
      assert.ok(encoded !== null, `a page with ${p * 100} % changed bytes fits below the page size`);
      decodeBoth(encoded, old, cur, `(p ${p}, case ${i})`);
    }
  }
});

test('xbzrle handles boundary lengths and alignments, with runs at the start and the end', () => {
  const prng = new TestPrng(52);
  const LENGTHS = [0, 1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 4095, 4096, 4097];
  const OFFSETS: [number, number, number][] = [
    [0, 0, 0],
    [1, 1, 1],
    [3, 0, 5],
    [0, 7, 2],
    [13, 2, 15],
  ];
  for (const len of LENGTHS) {
    for (const offs of OFFSETS) {
      for (const p of [0, 0.01, 0.3, 1]) {
        const [old, cur] = versions(prng, len, p);
        if (len > 0 && p > 0) {
          cur[0] ^= 0x40; // a non-zero run starting at byte 0 (zero run of length 0)...
          cur[len - 1] = old[len - 1] ^ 0x40; // ...and one reaching the last byte
        }
        const what = `(len ${len}, offsets ${offs}, p ${p})`;
        const encoded = encodeBoth(old, cur, 2 * len + 16, offs, what);
        assert.ok(encoded !== null, what);
        decodeBoth(encoded, old, cur, what);
      }
    }
  }
});

test('xbzrle reports overflow exactly when the encoding is longer than the capacity', () => {
  const prng = new TestPrng(53);
  for (let i = 0; i < 60; i++) {
    const len = [1, 17, 64, 65, 300, 4096][i % 6];
    const [old, cur] = versions(prng, len, [0.02, 0.3, 0.6][i % 3]);
    const full = encodeBoth(old, cur, 3 * len + 16, [0, 0, 0], `(case ${i})`);
    assert.ok(full !== null);
    if (full.length > 0)
      assert.equal(encodeBoth(old, cur, full.length - 1, [0, 0, 0], `(case ${i}, one byte short)`), null);
    assert.deepEqual(encodeBoth(old, cur, full.length, [0, 0, 0], `(case ${i}, exact)`), full);
    assert.deepEqual(encodeBoth(old, cur, full.length + 7, [0, 0, 0], `(case ${i}, roomy)`), full);
  }
});

test('xbzrle overflows on a page where every other byte differs, writing nothing past the capacity', () => {
  const old = new Uint8Array(4096);
  const cur = old.slice();
  for (let i = 0; i < cur.length; i += 2) cur[i] = 1;
  // 2048 records of 3 bytes: 6144 > 4095.
  assert.equal(encodeBoth(old, cur, 4095), null);
  assert.equal(encodeBoth(old, cur, 6143), null);
  assert.equal(encodeBoth(old, cur, 6144)!.length, 6144);
});

test('xbzrle encodings of every side decode on both sides', () => {
  // Encoded on one side, decoded on the other: each implementation reads what the other wrote.
  const prng = new TestPrng(54);
  const [old, cur] = versions(prng, 4096, 0.05);
  const encoded = encodeBoth(old, cur, 4095)!;
  const decodeOn = (s: Side): Uint8Array => {
    s.bytes.set(encoded, OUT);
    s.bytes.set(old, TARGET);
    s.kernels.xbzrleDecode(OUT, encoded.length, TARGET, old.length);
    return region(s, TARGET, old.length);
  };
  for (const s of sides) assert.deepEqual(decodeOn(s), cur, s.name);
});

test('xbzrle reads nothing past the pages and the delta: both at the very end of memory', () => {
  // A load past the end of memory traps, so a kernel that over-reads fails here.
  const prng = new TestPrng(55);
  for (const s of sides) {
    const memoryEnd = s.memory.buffer.byteLength;
    for (const len of [1, 15, 16, 17, 100, 4096]) {
      const [old, cur] = versions(prng, len, 0.3);
      cur[len - 1] = old[len - 1] ^ 1; // a non-zero run up to the last byte of memory
      const newAt = memoryEnd - len;
      s.bytes.set(old, OLD);
      s.bytes.set(cur, newAt);
      const n = s.kernels.xbzrleEncode(OLD, newAt, len, OUT, 3 * len);
      assert.ok(n > 0, `${s.name}: len ${len}`);
      const encoded = region(s, OUT, n);
      const inAt = memoryEnd - n;
      s.bytes.set(encoded, inAt);
      s.bytes.set(old, TARGET);
      assert.equal(s.kernels.xbzrleDecode(inAt, n, TARGET, len), len, `${s.name}: len ${len}`);
      assert.deepEqual(region(s, TARGET, len), cur, `${s.name}: len ${len}`);
    }
  }
});
