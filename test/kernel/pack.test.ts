/**
 * packPages / unpackPages: the raw frame body layout, round trips at boundary page sizes and
 * alignments, overflow (-1) and every unpack error (-1, -2, -3) with nothing written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, kernelPair, readU32s, region, writeBoth, writeU32sBoth, type Side } from '../fixtures/kernel-pair.js';
import { TestPrng } from '../fixtures/prng.js';
import { CODEC_RAW, DESCRIPTOR_BYTES } from '../../src/kernel/types.js';

const SOURCE = BASE; // source page area
const TARGET = BASE + 1024 * 1024; // target page area
const LIST = BASE + 2 * 1024 * 1024;
const FRAME = LIST + 64 * 1024;
const sides = await kernelPair(FRAME + 1024 * 1024);

function randomPages(prng: TestPrng, ptr: number, bytes: number): void {
  const data = new Uint8Array(bytes);
  prng.fill(data);
  writeBoth(sides, ptr, data);
}

function setU32(side: Side, ptr: number, value: number): void {
  new DataView(side.memory.buffer).setUint32(ptr, value, true);
}

test('packPages writes descriptors (pageBase + local, raw codec, page size) then the pages in list order', () => {
  const pageSizeBytes = 64;
  for (const s of sides)
    for (let p = 0; p < 16; p++) s.bytes.fill(p + 1, SOURCE + p * pageSizeBytes, SOURCE + (p + 1) * pageSizeBytes);
  writeU32sBoth(sides, LIST, [3, 0, 15]);
  const total = 3 * (DESCRIPTOR_BYTES + pageSizeBytes);
  for (const s of sides) {
    s.bytes.fill(0xee, FRAME, FRAME + total + 64);
    assert.equal(s.kernels.packPages(SOURCE, pageSizeBytes, LIST, 3, 1000, FRAME, total), total, s.name);
    const codecLength = (CODEC_RAW << 24) | pageSizeBytes;
    assert.deepEqual([...readU32s(s, FRAME, 6)], [1003, codecLength, 1000, codecLength, 1015, codecLength], s.name);
    const data = region(s, FRAME + 24, 3 * pageSizeBytes);
    assert.deepEqual([...new Set(data.subarray(0, 64))], [4], s.name);
    assert.deepEqual([...new Set(data.subarray(64, 128))], [1], s.name);
    assert.deepEqual([...new Set(data.subarray(128, 192))], [16], s.name);
    assert.ok(
      region(s, FRAME + total, 64).every((b) => b === 0xee),
      `${s.name}: nothing past the body`,
    );
  }
});

test('packPages returns -1 and writes nothing when the body exceeds outCapBytes', () => {
  writeU32sBoth(sides, LIST, [0, 1, 2, 3]);
  for (const pageSizeBytes of [64, 4096]) {
    const total = 4 * (DESCRIPTOR_BYTES + pageSizeBytes);
    for (const s of sides) {
      s.bytes.fill(0xee, FRAME, FRAME + total);
      assert.equal(s.kernels.packPages(SOURCE, pageSizeBytes, LIST, 4, 0, FRAME, total - 1), -1, s.name);
      assert.equal(s.kernels.packPages(SOURCE, pageSizeBytes, LIST, 4, 0, FRAME, 0), -1, s.name);
      assert.ok(
        region(s, FRAME, total).every((b) => b === 0xee),
        `${s.name}: untouched`,
      );
      assert.equal(s.kernels.packPages(SOURCE, pageSizeBytes, LIST, 0, 0, FRAME, 0), 0, `${s.name}: empty list`);
      assert.ok(
        region(s, FRAME, total).every((b) => b === 0xee),
        `${s.name}: empty list writes nothing`,
      );
    }
  }
});

test('pack then unpack restores exactly the listed pages at boundary sizes and any alignment', () => {
  const prng = new TestPrng(40);
  for (const pageSizeBytes of [1, 63, 64, 65, 4095, 4096, 4097]) {
    for (const [srcOff, listOff, frameOff, dstOff] of [
      [0, 0, 0, 0],
      [1, 2, 3, 5],
      [7, 1, 1, 3],
    ]) {
      const slotPageCount = Math.min(100, Math.floor((512 * 1024) / pageSizeBytes));
      const pageBase = 5000;
      const src = SOURCE + srcOff;
      const dst = TARGET + dstOff;
      const list = prng
        .shuffle(Array.from({ length: slotPageCount }, (_, i) => i))
        .slice(0, 1 + prng.below(Math.min(40, slotPageCount)));
      const what = `${list.length} pages of ${pageSizeBytes} bytes, offsets ${srcOff}/${listOff}/${frameOff}/${dstOff}`;
      randomPages(prng, src, slotPageCount * pageSizeBytes);
      writeU32sBoth(sides, LIST + listOff, list);
      for (const s of sides) s.bytes.fill(0, dst, dst + slotPageCount * pageSizeBytes);
      const total = list.length * (DESCRIPTOR_BYTES + pageSizeBytes);
      for (const s of sides) {
        assert.equal(
          s.kernels.packPages(src, pageSizeBytes, LIST + listOff, list.length, pageBase, FRAME + frameOff, total + 3),
          total,
          `${s.name} pack: ${what}`,
        );
        assert.equal(
          s.kernels.unpackPages(dst, pageSizeBytes, slotPageCount, pageBase, FRAME + frameOff, total, list.length),
          list.length,
          `${s.name} unpack: ${what}`,
        );
        const listed = new Set(list);
        for (let p = 0; p < slotPageCount; p++) {
          const got = region(s, dst + p * pageSizeBytes, pageSizeBytes);
          const want = listed.has(p)
            ? region(s, src + p * pageSizeBytes, pageSizeBytes)
            : new Uint8Array(pageSizeBytes);
          assert.deepEqual(got, want, `${s.name} page ${p}: ${what}`);
        }
      }
      assert.deepEqual(
        region(sides[0], FRAME + frameOff, total),
        region(sides[1], FRAME + frameOff, total),
        `same frame: ${what}`,
      );
    }
  }
});

test('unpackPages validates every descriptor first: -1 page range, -2 codec or length, -3 short body', () => {
  const prng = new TestPrng(41);
  const pageSizeBytes = 256;
  const slotPageCount = 32;
  const pageBase = 64;
  const count = 6;
  const total = count * (DESCRIPTOR_BYTES + pageSizeBytes);
  randomPages(prng, SOURCE, slotPageCount * pageSizeBytes);
  writeU32sBoth(sides, LIST, [0, 31, 7, 8, 1, 30]);
  for (const s of sides)
    assert.equal(s.kernels.packPages(SOURCE, pageSizeBytes, LIST, count, pageBase, FRAME, total), total);
  const frame = region(sides[0], FRAME, total);
  const codecLength = (CODEC_RAW << 24) | pageSizeBytes;
  const cases: { name: string; expected: number; edits: [number, number][]; inLenBytes?: number }[] = [
    { name: 'page below pageBase', expected: -1, edits: [[8 * 5, pageBase - 1]] },
    { name: 'page at pageBase + slotPageCount', expected: -1, edits: [[8 * 2, pageBase + slotPageCount]] },
    { name: 'page 0xffffffff', expected: -1, edits: [[8 * 3, 0xffff_ffff]] },
    { name: 'codec not raw', expected: -2, edits: [[8 * 5 + 4, (1 << 24) | pageSizeBytes]] },
    { name: 'length short of the page size', expected: -2, edits: [[8 * 1 + 4, codecLength - 1]] },
    { name: 'length past the page size', expected: -2, edits: [[8 * 0 + 4, codecLength + 1]] },
    { name: 'body one byte short', expected: -3, edits: [], inLenBytes: total - 1 },
    { name: 'body holds only the descriptors', expected: -3, edits: [], inLenBytes: count * 8 },
    {
      name: 'an earlier bad codec before a later bad page',
      expected: -2,
      edits: [
        [8 * 1 + 4, 0],
        [8 * 4, 0],
      ],
    },
    {
      name: 'an earlier bad page before a later bad codec',
      expected: -1,
      edits: [
        [8 * 1, 0],
        [8 * 4 + 4, 0],
      ],
    },
    {
      name: 'bad page and bad codec in one descriptor',
      expected: -1,
      edits: [
        [8 * 2, 0],
        [8 * 2 + 4, 0],
      ],
    },
    { name: 'short body before a bad page', expected: -3, edits: [[0, 0]], inLenBytes: total - 1 },
  ];
  for (const c of cases) {
    for (const s of sides) {
      s.bytes.set(frame, FRAME);
      for (const [at, value] of c.edits) setU32(s, FRAME + at, value);
      s.bytes.fill(0x5a, TARGET, TARGET + slotPageCount * pageSizeBytes);
      const frameBefore = region(s, FRAME, total);
      assert.equal(
        s.kernels.unpackPages(TARGET, pageSizeBytes, slotPageCount, pageBase, FRAME, c.inLenBytes ?? total, count),
        c.expected,
        `${s.name}: ${c.name}`,
      );
      assert.ok(
        region(s, TARGET, slotPageCount * pageSizeBytes).every((b) => b === 0x5a),
        `${s.name}: ${c.name} wrote pages`,
      );
      assert.deepEqual(region(s, FRAME, total), frameBefore, `${s.name}: ${c.name} changed the frame`);
    }
  }
  // The untouched frame unpacks, and a longer inLenBytes than needed is fine.
  for (const s of sides) {
    s.bytes.set(frame, FRAME);
    assert.equal(
      s.kernels.unpackPages(TARGET, pageSizeBytes, slotPageCount, pageBase, FRAME, total + 100, count),
      count,
      s.name,
    );
    assert.deepEqual(
      region(s, TARGET + 31 * pageSizeBytes, pageSizeBytes),
      region(s, SOURCE + 31 * pageSizeBytes, pageSizeBytes),
      s.name,
    );
  }
});

test("checkPages gives unpackPages' verdicts on raw descriptors, and checks bare page lists (stride 4) for range and length only", () => {
  const pageBase = 64;
  const slotPageCount = 32;
  const pageSizeBytes = 256;
  const codecLength = (CODEC_RAW << 24) | pageSizeBytes;
  const raw = (pages: number[], lengths: number[] = pages.map(() => codecLength)): number[] =>
    pages.flatMap((p, i) => [p, lengths[i]]);
  const cases: {
    name: string;
    words: number[];
    stride: number;
    rawPageBytes: number;
    bodyLenBytes: number;
    count: number;
    expected: number;
  }[] = [
    {
      name: 'raw, in range',
      words: raw([64, 95, 70]),
      stride: 8,
      rawPageBytes: pageSizeBytes,
      bodyLenBytes: 3 * (8 + pageSizeBytes),
      count: 3,
      expected: 0,
    },
    {
      name: 'raw, page past the slot',
      words: raw([64, 96]),
      stride: 8,
      rawPageBytes: pageSizeBytes,
      bodyLenBytes: 2 * (8 + pageSizeBytes),
      count: 2,
      expected: -1,
    },
    {
      name: 'raw, codec not raw',
      words: raw([64, 65], [codecLength, (2 << 24) | 10]),
      stride: 8,
      rawPageBytes: pageSizeBytes,
      bodyLenBytes: 2 * (8 + pageSizeBytes),
      count: 2,
      expected: -2,
    },
    {
      name: 'raw, body short of the pages',
      words: raw([64]),
      stride: 8,
      rawPageBytes: pageSizeBytes,
      bodyLenBytes: 8 + pageSizeBytes - 1,
      count: 1,
      expected: -3,
    },
    {
      name: 'descriptors of any codec (rawPageBytes 0): range only',
      words: raw([64, 65], [(3 << 24) | 100, 0]),
      stride: 8,
      rawPageBytes: 0,
      bodyLenBytes: 16,
      count: 2,
      expected: 0,
    },
    {
      name: 'page list, in range',
      words: [64, 95, 80],
      stride: 4,
      rawPageBytes: 0,
      bodyLenBytes: 12,
      count: 3,
      expected: 0,
    },
    {
      name: 'page list, below pageBase',
      words: [64, 63],
      stride: 4,
      rawPageBytes: 0,
      bodyLenBytes: 8,
      count: 2,
      expected: -1,
    },
    {
      name: 'page list, shorter than its count',
      words: [64, 65],
      stride: 4,
      rawPageBytes: 0,
      bodyLenBytes: 7,
      count: 2,
      expected: -3,
    },
  ];
  for (const c of cases) {
    writeU32sBoth(sides, FRAME, c.words);
    for (const s of sides) {
      assert.equal(
        s.kernels.checkPages(FRAME, c.bodyLenBytes, c.count, c.stride, pageBase, slotPageCount, c.rawPageBytes),
        c.expected,
        `${s.name}: ${c.name}`,
      );
    }
  }
});

test('random pack/unpack round trips agree between builds', () => {
  const prng = new TestPrng(42);
  for (let i = 0; i < 60; i++) {
    const pageSizeBytes = [64, 512, 4096][prng.below(3)];
    const slotPageCount = 1 + prng.below(Math.floor((256 * 1024) / pageSizeBytes));
    const pageBase = prng.nextU32() >>> 4;
    const list = Array.from({ length: prng.below(64) }, () => prng.below(slotPageCount)); // repeats allowed
    const total = list.length * (DESCRIPTOR_BYTES + pageSizeBytes);
    randomPages(prng, SOURCE, slotPageCount * pageSizeBytes);
    writeU32sBoth(sides, LIST, list);
    for (const s of sides) s.bytes.fill(0, TARGET, TARGET + slotPageCount * pageSizeBytes);
    const results = sides.map((s) => [
      s.kernels.packPages(SOURCE, pageSizeBytes, LIST, list.length, pageBase, FRAME, total + prng.below(2)),
      s.kernels.unpackPages(TARGET, pageSizeBytes, slotPageCount, pageBase, FRAME, total, list.length),
    ]);
    assert.deepEqual(results[0], [total, list.length], `case ${i}`);
    assert.deepEqual(results[1], results[0], `case ${i}`);
    assert.deepEqual(region(sides[0], FRAME, total), region(sides[1], FRAME, total), `case ${i}: frames`);
    assert.deepEqual(
      region(sides[0], TARGET, slotPageCount * pageSizeBytes),
      region(sides[1], TARGET, slotPageCount * pageSizeBytes),
      `case ${i}: targets`,
    );
  }
});
