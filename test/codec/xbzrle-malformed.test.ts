/**
 * xbzrleDecode on malformed deltas: both implementations return the same negative code and leave
 * the target page untouched, including when the malformed part comes after well-formed records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, kernelPair, region } from '../fixtures/kernel-pair.js';
import { TestPrng } from '../fixtures/prng.js';

const IN = BASE + 1024;
const TARGET = IN + 64 * 1024;
const sides = await kernelPair(TARGET + 64 * 1024);
const PAGE = 4096;

/** A valid prefix: bytes 2..3 of the page become 0xee. */
const VALID = [2, 2, 0xee, 0xee];

const CASES: [string, number[], number][] = [
  ['a zero-run length cut off', [0x80], -1],
  ['a zero-run length cut off after a record', [...VALID, 0x81, 0x80], -1],
  ['a non-zero-run length cut off', [...VALID, 1, 0x80], -1],
  ['a length of 6 bytes', [0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 1, 7], -1],
  ['a non-zero run longer than the bytes that follow', [...VALID, 1, 5, 1, 2, 3, 4], -1],
  ['a zero run past the end of the page', [...VALID, 0x80, 0x20, 1, 9], -2],
  ['a non-zero run past the end of the page', [0xfe, 0x1f, 3, 1, 2, 3], -2],
  ['a 35-bit length', [0xff, 0xff, 0xff, 0xff, 0x7f, 1, 1], -2],
  ['a trailing zero run with nothing after it', [...VALID, 5], -3],
  ['an empty zero run after the first', [...VALID, 0, 1, 9], -3],
  ['an empty non-zero run', [3, 0], -3],
  ['an empty non-zero run after a record', [...VALID, 1, 0, 1, 1, 7], -3],
];

test('xbzrleDecode rejects malformed deltas with the same code on both sides, writing nothing', () => {
  const prng = new TestPrng(60);
  const page = new Uint8Array(PAGE);
  prng.fill(page);
  for (const [what, bytes, code] of CASES) {
    for (const s of sides) {
      s.bytes.set(bytes, IN);
      s.bytes.set(page, TARGET);
      assert.equal(s.kernels.xbzrleDecode(IN, bytes.length, TARGET, PAGE), code, `${s.name}: ${what}`);
      assert.deepEqual(region(s, TARGET, PAGE), page, `${s.name}: ${what} changed the page`);
    }
  }
});

test('xbzrleDecode accepts the valid prefix and edge cases the malformed ones are built from', () => {
  // So each rejection above is for the flaw named, not for the bytes around it.
  const ok: [number[], number][] = [
    [VALID, 4],
    [[], 0],
    [[0, 1, 9], 1],
    [[0xff, 0x1f, 1, 9], PAGE], // a run up to the last byte
    [[0x81, 0x80, 0x80, 0x80, 0x00, 1, 7], 2], // a 5-byte (not minimal) length is allowed
  ];
  for (const [bytes, result] of ok) {
    for (const s of sides) {
      s.bytes.set(bytes, IN);
      assert.equal(s.kernels.xbzrleDecode(IN, bytes.length, TARGET, PAGE), result, `${s.name}: [${bytes}]`);
    }
  }
});

test('xbzrleDecode rejects truncations of a valid delta without writing', () => {
  const prng = new TestPrng(61);
  const old = new Uint8Array(PAGE);
  prng.fill(old);
  const cur = old.slice();
  for (let i = 0; i < 40; i++) cur[prng.below(PAGE)] ^= 0x10;
  const [wasm] = sides;
  wasm.bytes.set(old, TARGET);
  wasm.bytes.set(cur, TARGET + PAGE);
  const n = wasm.kernels.xbzrleEncode(TARGET, TARGET + PAGE, PAGE, IN, PAGE);
  const encoded = region(wasm, IN, n);
  // Every prefix ends inside a record unless it ends exactly at a record's end.
  let rejected = 0;
  for (let cut = 1; cut < n; cut++) {
    const results = sides.map((s) => {
      s.bytes.set(encoded.subarray(0, cut), IN);
      s.bytes.set(old, TARGET);
      const r = s.kernels.xbzrleDecode(IN, cut, TARGET, PAGE);
      if (r < 0) assert.deepEqual(region(s, TARGET, PAGE), old, `${s.name}: cut at ${cut} changed the page`);
      return r;
    });
    assert.equal(results[0], results[1], `cut at ${cut}`);
    if (results[0] < 0) rejected++;
  }
  assert.ok(rejected > n / 2, `${rejected} of ${n - 1} truncations rejected`);
});
