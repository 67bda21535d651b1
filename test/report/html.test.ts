/**
 * HTML reports are self-contained (no URL, no script, no stylesheet or image to fetch) and carry
 * their charts as inline SVG: per comparison the metric and the trade-off, per configuration its
 * run's charts, the throttle chart only where a run was throttled. Vega-Lite raises no warning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_SECTIONS_CHARTED, renderRunHtml, renderSuiteHtml } from '../../src/report/html.js';
import { takeChartWarnings } from '../../src/report/charts/render.js';
import { fakeResult, fakeSuite } from '../fixtures/results.js';

function assertSelfContained(html: string): void {
  assert.match(html, /^<!DOCTYPE html>/);
  assert.doesNotMatch(html, /https?:\/\//i, 'no http(s) URL at all');
  assert.doesNotMatch(html, /<script\b/i, 'no script');
  assert.doesNotMatch(html, /<link\b/i, 'no linked stylesheet');
  assert.doesNotMatch(html, /\bsrc\s*=/i, 'nothing loaded by src');
  assert.doesNotMatch(html, /url\(/i, 'no CSS url()');
  assert.doesNotMatch(html, /@import/i);
}

const count = (html: string, s: string): number => html.split(s).length - 1;

test('a suite report is one self-contained file with SVG charts', async () => {
  takeChartWarnings();
  const { plan, latest } = fakeSuite();
  const html = await renderSuiteHtml(plan, latest, { toolVersion: 'test', generatedAt: '2026-01-01T00:00:00Z' });
  assertSelfContained(html);

  const configurations = new Set(plan.runs.map((r) => r.configId)).size;
  const throttled = new Set(plan.runs.filter((r) => r.config.autoConverge !== null).map((r) => r.configId)).size;
  // Comparisons: downtime-limit (metric + trade-off) and dirty-log (metric only); runs: pages,
  // bytes and expected downtime each, plus throttle where auto-converge ran.
  assert.equal(count(html, '<svg'), 2 + 1 + 3 * configurations + throttled);
  assert.equal(count(html, '>vCPU throttle per round<'), throttled);
  assert.ok(count(html, 'class="mark-line role-mark') > 0, 'lines drawn');
  assert.ok(count(html, 'class="mark-rect role-mark') > 0, 'bars drawn');
  assert.ok(count(html, 'class="mark-symbol role-mark') > 0, 'points drawn');
  assert.match(html, /downtime vs total time over downtime-limit/);
  assert.match(html, /did not converge within the timeout of 120.00 s \(fixture\)/, 'the failed run and its reason');
  assert.deepEqual(takeChartWarnings(), []);
});

test('a suite of thousands of configurations charts the runs of the first RUN_SECTIONS_CHARTED, one line for each other', async () => {
  const seeds = Array.from({ length: RUN_SECTIONS_CHARTED + 30 }, (_, i) => i + 1).join(', ');
  const { plan, latest } = fakeSuite(`name: many\nbase: { ram: 64MiB, clock: virtual }\nmatrix:\n  seed: [${seeds}]\n`);
  const html = await renderSuiteHtml(plan, latest, { toolVersion: 'test', generatedAt: '2026-01-01T00:00:00Z' });
  assert.equal(count(html, '<details>'), RUN_SECTIONS_CHARTED);
  assert.equal(count(html, '<p class="run">'), 30);
  assert.match(html, /charts for the first 100 of 130 configurations/);
});

test('a single run report is self-contained, with its charts and tables', async () => {
  takeChartWarnings();
  const html = await renderRunHtml(fakeResult(), { toolVersion: 'test' });
  assertSelfContained(html);
  assert.equal(count(html, '<svg'), 3, 'pages per round, bytes over time, expected downtime; no throttle chart');
  assert.match(html, />pages sent per round</);
  assert.match(html, /Total time \(ms\)/);
  assert.deepEqual(takeChartWarnings(), []);
});
