/** compare's words: "B is 1.18 ± 0.02 x faster than A", within the noise, outliers; the percentiles suites and --runs report. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outliers, verdictOf } from '../../src/report/verdict.js';
import { quantile, statsOf } from '../../src/suite/summary.js';
import { formatRunsSummary, summarizeRuns } from '../../src/report/runs.js';

const around = (mean: number, n: number, spread: number): number[] =>
  Array.from({ length: n }, (_, i) => mean + spread * (i % 2 === 0 ? 1 : -1));

test('a clear difference is a factor ± its deviation, in the metric’s words', () => {
  const a = statsOf(around(118, 10, 1));
  const b = statsOf(around(100, 10, 1));
  assert.equal(verdictOf('total-time', a, b), 'B is 1.18 ± 0.02 x faster than A');
  assert.equal(verdictOf('total-time', b, a), 'B is 1.18 ± 0.02 x slower than A');
  assert.match(verdictOf('bytes-sent', a, b), /^B is 1\.18 ± 0\.02 x lower than A$/);
});

test('a difference smaller than twice its standard error is within the noise; one run a side cannot say', () => {
  assert.match(
    verdictOf('downtime', statsOf([100, 110, 90]), statsOf([101, 111, 91])),
    /^within the noise \(B is 1\.01/,
  );
  assert.match(
    verdictOf('downtime', statsOf([100]), statsOf([90])),
    /one run on a side: no spread to judge the noise by/,
  );
  assert.equal(verdictOf('downtime', undefined, statsOf([90])), 'no completed run on one side');
});

test('outliers: a modified z-score over 3.5 (median absolute deviation), none below 3 values or with no spread', () => {
  assert.deepEqual(outliers([10, 10.1, 9.9, 10.05, 9.95, 30]), [30]);
  assert.deepEqual(outliers([10, 30]), []);
  assert.deepEqual(outliers([5, 5, 5, 5]), []);
});

test('percentiles interpolate between the closest ranks, and --runs shows p95 and p99', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(quantile(hundred, 0.95), 95.05);
  assert.equal(quantile(hundred, 0.5), 50.5);
  const s = statsOf(hundred)!;
  assert.equal(s.p99, 99.01);
  const text = formatRunsSummary(summarizeRuns([]));
  assert.match(text, /Median .*p95 .*p99 .*Max/);
});
