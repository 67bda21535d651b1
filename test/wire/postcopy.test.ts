/**
 * The post-copy wire (src/wire/postcopy.ts): round trips, and every field of an advise or a discard
 * from an untrusted source checked against the handshake's guest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDiscard, decodeReport, encodeDiscards, encodeReport } from '../../src/wire/postcopy.js';
import { decodeAdvise, encodeAdvise, type AdvisedGuest } from '../../src/channel/postcopy-advise.js';
import { decodeFeedback, encodeFeedback } from '../../src/wire/feedback.js';
import { FrameError } from '../../src/wire/frame.js';
import type { Hello } from '../../src/wire/handshake.js';

const hello: Hello = {
  pageSizeBytes: 4096,
  ramBytes: 64 * 4096 * 32,
  vcpus: 2,
  codecs: false,
  userCodecs: [],
  streamIndex: 0,
  streamCount: 1,
  migrationId: '00'.repeat(16),
  token: '',
};
const pageCount = hello.ramBytes / hello.pageSizeBytes;

const advised: AdvisedGuest = {
  guest: {
    vcpus: 2,
    pageWritesPerSec: 20_000,
    pattern: { kind: 'hotset', fraction: 0.1, probability: 0.9 },
    writeSizeBytes: 8,
    catchUpMs: 10,
    seed: 3,
    writeSeed: 3,
    content: { zeroPercent: 25, textPercent: 40, randomPercent: 35, placement: { pageCount, hotPages: 205 } },
  },
  sourceWrites: [1234, 987],
};

test('an advise round-trips', () => {
  assert.deepEqual(decodeAdvise(encodeAdvise(advised), hello), advised);
});

const bad: [string, (a: AdvisedGuest) => unknown, RegExp][] = [
  [
    'vCPUs other than the handshake',
    (a) => ({ ...a, guest: { ...a.guest, vcpus: 3 } }),
    /vCPU count \(3, the handshake said 2\)/,
  ],
  ['a sourceWrites per vCPU', (a) => ({ ...a, sourceWrites: [1] }), /sourceWrites \(one per vCPU\)/],
  ['a negative rate', (a) => ({ ...a, guest: { ...a.guest, pageWritesPerSec: -1 } }), /page write rate/],
  ['a write past the page', (a) => ({ ...a, guest: { ...a.guest, writeSizeBytes: 8192 } }), /write size/],
  ['an unknown pattern', (a) => ({ ...a, guest: { ...a.guest, pattern: { kind: 'zigzag' } } }), /pattern kind/],
  [
    'a content mix not of 100 %',
    (a) => ({ ...a, guest: { ...a.guest, content: { zeroPercent: 50, textPercent: 40, randomPercent: 35 } } }),
    /content mix/,
  ],
  [
    'a hot set past the RAM',
    (a) => ({
      ...a,
      guest: { ...a.guest, content: { ...a.guest.content, placement: { pageCount, hotPages: pageCount + 1 } } },
    }),
    /content hot set/,
  ],
];

for (const [what, change, message] of bad) {
  test(`an advise with ${what} is refused`, () => {
    const body = new TextEncoder().encode(JSON.stringify(change(advised)));
    assert.throws(
      () => decodeAdvise(body, hello),
      (e: unknown) => e instanceof FrameError && message.test(e.message),
    );
  });
}

test('an advise that is not JSON, or too long, is refused', () => {
  assert.throws(() => decodeAdvise(new Uint8Array([0x7b, 0xff]), hello), /not JSON/);
  assert.throws(() => decodeAdvise(new Uint8Array(5000), hello), /exceeds 4096/);
});

test('discards round-trip over frames of bounded size', () => {
  const missing = [0, 1, 31, 32, 1000, pageCount - 1];
  const bodies = encodeDiscards(missing, pageCount, 68); // 64 bytes of bits: 512 pages a frame
  assert.ok(bodies.every((b) => b.length <= 68));
  // 2,048 pages in 4 ranges of 512: the third has no page missing and is not sent.
  assert.equal(bodies.length, 3);
  const got: number[] = [];
  for (const b of bodies) decodeDiscard(b, pageCount, (p) => got.push(p));
  assert.deepEqual(got, missing);
});

test('a discard past the RAM or not word-aligned is refused', () => {
  const past = new Uint8Array(8);
  new DataView(past.buffer).setUint32(0, pageCount, true);
  past[4] = 1;
  assert.throws(() => decodeDiscard(past, pageCount, () => {}), /past the RAM/);
  const odd = new Uint8Array(8);
  new DataView(odd.buffer).setUint32(0, 7, true);
  assert.throws(() => decodeDiscard(odd, pageCount, () => {}), /not a multiple of 32/);
});

test('a request and a report round-trip through feedback; a bad report is refused', () => {
  const request = decodeFeedback(encodeFeedback({ kind: 'request', page: 123_456 }));
  assert.deepEqual(request?.feedback, { kind: 'request', page: 123_456 });
  const report = {
    requests: 12,
    postcopyPageWrites: 300,
    postcopyMs: 150,
    pageWrites: 400,
    achievedPageWritesPerSec: 2000,
    blockedMsPerVcpu: [10.5, 20.25],
  };
  const back = decodeFeedback(encodeFeedback({ kind: 'postcopy-report', report: encodeReport(report) }));
  assert.equal(back?.feedback.kind, 'postcopy-report');
  if (back?.feedback.kind === 'postcopy-report') assert.deepEqual(decodeReport(back.feedback.report), report);
  assert.throws(() => decodeReport(Buffer.alloc(12)), /a post-copy report of 12 bytes/);
  const nan = encodeReport(report);
  nan.writeDoubleLE(Number.NaN, 0);
  assert.throws(() => decodeReport(nan), /bad number/);
});
