/**
 * Where page kinds lie (src/memory/content.ts, pageKind): with a hot set, zero pages are free
 * memory outside it while they fit, or the hot set has a content of its own (--content-hot);
 * without one, every page draws from the shares alike, as before (test/memory-setup-content
 * holds the bytes of that, recorded from the code before placements).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PageKind, pageKind, type ContentMix } from '../../src/memory/content.js';

const PAGES = 20_000;
const HOT = 5_000;

function kinds(mix: ContentMix, from: number, to: number): Record<PageKind, number> {
  const n = { [PageKind.Zero]: 0, [PageKind.Text]: 0, [PageKind.Random]: 0 } as Record<PageKind, number>;
  for (let p = from; p < to; p++) n[pageKind(9, p, mix)]++;
  return n;
}

test('zero pages lie outside the hot set while they fit; the data keeps its text:random proportion', () => {
  const mix: ContentMix = {
    zeroPercent: 30,
    textPercent: 35,
    randomPercent: 35,
    placement: { pageCount: PAGES, hotPages: HOT },
  };
  const hot = kinds(mix, 0, HOT);
  const cold = kinds(mix, HOT, PAGES);
  assert.equal(hot[PageKind.Zero], 0);
  // 30 % of 20,000 pages = 6,000 zero pages, all among the 15,000 cold ones (40 %).
  assert.ok(Math.abs(cold[PageKind.Zero] / (PAGES - HOT) - 0.4) < 0.02, `${cold[PageKind.Zero]} cold zero pages`);
  assert.ok(Math.abs(hot[PageKind.Text] / HOT - 0.5) < 0.03, `${hot[PageKind.Text]} hot text pages`);
});

test('more zero pages than the cold set holds: the cold set is all zero, the rest in the hot set', () => {
  const mix: ContentMix = {
    zeroPercent: 90,
    textPercent: 0,
    randomPercent: 10,
    placement: { pageCount: PAGES, hotPages: HOT },
  };
  const cold = kinds(mix, HOT, PAGES);
  const hot = kinds(mix, 0, HOT);
  assert.equal(cold[PageKind.Zero], PAGES - HOT);
  // 18,000 zero pages: 3,000 of the 5,000 hot pages.
  assert.ok(Math.abs(hot[PageKind.Zero] / HOT - 0.6) < 0.03, `${hot[PageKind.Zero]} hot zero pages`);
});

test('--content-hot: the hot set has its own shares, the rest the given ones', () => {
  const mix: ContentMix = {
    zeroPercent: 80,
    textPercent: 20,
    randomPercent: 0,
    placement: { pageCount: PAGES, hotPages: HOT, hot: { zeroPercent: 0, textPercent: 0, randomPercent: 100 } },
  };
  assert.deepEqual(kinds(mix, 0, HOT), { [PageKind.Zero]: 0, [PageKind.Text]: 0, [PageKind.Random]: HOT });
  const cold = kinds(mix, HOT, PAGES);
  assert.equal(cold[PageKind.Random], 0);
  assert.ok(Math.abs(cold[PageKind.Zero] / (PAGES - HOT) - 0.8) < 0.02);
});
