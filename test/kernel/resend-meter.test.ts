/**
 * The resend meter (countUnchanged): a page sent again with the same bytes counts as unchanged,
 * a page with one changed byte does not, the stored hashes follow the pages, and wasm agrees with
 * the reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, kernelPair, region, writeBoth, writeU32sBoth } from '../fixtures/kernel-pair.js';
import { TestPrng } from '../fixtures/prng.js';

const PAGE = 4096;
const PAGES = BASE;
const COUNT = 64;
const HASHES = PAGES + COUNT * PAGE;
const LIST = HASHES + COUNT * 8;
const sides = await kernelPair(LIST + 64 * 4 + 16 * (8 + PAGE) + 64);

test('countUnchanged counts pages whose bytes equal their last send', () => {
  const prng = new TestPrng(3);
  const content = new Uint8Array(COUNT * PAGE);
  prng.fill(content);
  writeBoth(sides, PAGES, content);
  const list = Uint32Array.from({ length: 40 }, (_, i) => (i * 7) % COUNT);
  writeU32sBoth(sides, LIST, list);
  for (const s of sides) {
    s.bytes.fill(0, HASHES, HASHES + COUNT * 8);
    assert.equal(
      s.kernels.countUnchanged(PAGES, PAGE, LIST, 40, HASHES),
      0,
      `${s.name}: first send, nothing to compare`,
    );
    assert.equal(s.kernels.countUnchanged(PAGES, PAGE, LIST, 40, HASHES), 40, `${s.name}: same bytes again`);
    s.bytes[PAGES + 7 * PAGE + 4095] ^= 1; // page 7 is list[1]
    s.bytes[PAGES + 14 * PAGE] ^= 0x80; // page 14 is list[2]
    assert.equal(s.kernels.countUnchanged(PAGES, PAGE, LIST, 40, HASHES), 38, `${s.name}: two pages changed`);
    assert.equal(s.kernels.countUnchanged(PAGES, PAGE, LIST, 40, HASHES), 40, `${s.name}: hashes were updated`);
  }
  assert.deepEqual(region(sides[0], HASHES, COUNT * 8), region(sides[1], HASHES, COUNT * 8), 'same hashes stored');
});
