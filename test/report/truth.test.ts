/**
 * Reports that tell the truth, checked where a reader sees them, in headless Chromium, on the
 * built-in guestperf suite's report (reduced, with one run marked failed as a full run has them):
 * - every point of a comparison is a run of a block that sweeps its option (no stray point from a
 *   block that fixes it, no series named after a value a run does not have: "dirty-rate=-");
 * - a failed run is drawn (a red cross, its reason in the page) rather than dropped;
 * - a numeric axis has its ticks at the swept values, labelled as the suite file writes them;
 * - the text labels of a chart do not overlap, and charts are sized to the page (at least 40 % of it);
 * - `run --html` has HTML tables, not box-drawing text.
 * Before these fixes the postcopy-after chart had points at x=1 from the link sweep, the failed
 * compress-threads run was missing, the log axes ticked at 50, 200, 400, labels collided and charts
 * were 450 px wide: this test failed on that report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateInPage, CHROMIUM, chromiumOrSkip } from '../fixtures/cdp-pipe.js';

// MIGBENCH_TRUTH_BIN: another build's CLI, to check this test fails on the reports before the fixes.
const BIN = process.env.MIGBENCH_TRUTH_BIN ?? fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));
const SUITE = fileURLToPath(new URL('../../../bench/suites/guestperf.yaml', import.meta.url));

interface Chart {
  heading: string;
  width: number;
  /** Tick labels of the x axis. */
  xTicks: string[];
  /** Legend entries. */
  legend: string[];
  /** Text marks (data labels) and their boxes. */
  labels: { text: string; x: number; y: number; w: number; h: number }[];
  /** Red crosses (failed runs). */
  failed: number;
}

// In the page: per chart, its section heading, width, x-axis tick labels, legend labels, text marks, failure marks.
const INSPECT = `(() => {
  const page = document.body.getBoundingClientRect().width;
  const charts = [...document.querySelectorAll('section')].flatMap((sec) => [...sec.querySelectorAll('svg')].map((svg) => {
    const axes = [...svg.querySelectorAll('g.role-axis')];
    const xAxis = axes.find((a) => (a.getAttribute('aria-label') || '').startsWith('X-axis'));
    const ticks = xAxis ? [...xAxis.querySelectorAll('g.role-axis-label text')].map((t) => t.textContent) : [];
    const legend = [...svg.querySelectorAll('g.role-legend-label text')].map((t) => t.textContent);
    const labels = [...svg.querySelectorAll('g.role-mark.marktype-text text, g.mark-text.role-mark text')].filter((t) => t.textContent).map((t) => {
      const b = t.getBoundingClientRect();
      return { text: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height };
    });
    const failed = [...svg.querySelectorAll('g.role-mark path')].filter((p) => (p.getAttribute('fill') || '').toLowerCase() === '#c0392b' || (p.getAttribute('stroke') || '').toLowerCase() === '#c0392b').length;
    return { heading: sec.querySelector('h3')?.textContent || '', width: svg.getBoundingClientRect().width / page, xTicks: ticks, legend, labels, failed };
  }));
  return charts;
})()`;

async function inspect(file: string, dir: string): Promise<{ charts: Chart[]; pres: string[] }> {
  const [charts, pres] = await evaluateInPage(CHROMIUM, file, path.join(dir, `profile-${path.basename(file)}`), [
    INSPECT,
    "[...document.querySelectorAll('pre')].map((p) => p.textContent)",
  ]);
  return { charts: charts as Chart[], pres: pres as string[] };
}

const overlaps = (a: Chart['labels'][number], b: Chart['labels'][number]): boolean =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

test(
  'the guestperf report tells the truth: block points only, failures drawn, swept ticks, no collisions, sized to the page',
  { timeout: 240_000 },
  async (t) => {
    if (!chromiumOrSkip(t)) return;
    const dir = mkdtempSync(path.join(tmpdir(), 'migbench-truth-'));
    const out = path.join(dir, 'guestperf');
    const run = spawnSync(process.execPath, [BIN, 'suite', SUITE, '--out', out, '--reduce', '--quiet'], {
      encoding: 'utf8',
      timeout: 180_000,
    });
    assert.equal(run.status, 0, run.stderr);
    // One compression run did not converge, as on a full run: marked so, the report written again.
    const lines = readFileSync(path.join(out, 'results.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string; reason?: string; varied: Record<string, string> });
    const victim = lines.find((l) => l.varied.compressThreads === '4');
    assert.ok(victim, 'the reduced suite has a compress-threads=4 run');
    victim.status = 'failed';
    victim.reason = 'did not converge within the timeout of 300 s';
    writeFileSync(path.join(out, 'results.jsonl'), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    assert.equal(spawnSync(process.execPath, [BIN, 'report', out], { encoding: 'utf8' }).status, 0);

    const { charts } = await inspect(path.join(out, 'report.html'), dir);
    assert.ok(charts.length >= 5, `${charts.length} charts`);
    for (const c of charts) {
      assert.ok(c.width >= 0.4, `${c.heading}: ${Math.round(c.width * 100)} % of the page wide`);
      for (const l of c.legend) assert.doesNotMatch(l, /=[-–]($|,)/, `${c.heading}: legend "${l}" names no value`);
      for (let i = 0; i < c.labels.length; i++) {
        for (let j = i + 1; j < c.labels.length; j++)
          assert.ok(
            !overlaps(c.labels[i], c.labels[j]),
            `${c.heading}: labels "${c.labels[i].text}" and "${c.labels[j].text}" overlap`,
          );
      }
    }
    const postcopy = charts.find((c) => /rounds before post-copy/.test(c.heading));
    assert.ok(postcopy);
    assert.deepEqual(postcopy.xTicks, ['0', '20'], 'the post-copy-after sweep only (the link sweep fixes it at 1)');
    const links = charts.find((c) => /against the link rate/.test(c.heading));
    assert.deepEqual(links?.xTicks, ['100Mbit/s', '100Gbit/s'], 'ticks at the swept values, as written');
    const threads = charts.find((c) => /compression threads/.test(c.heading));
    assert.ok(threads && threads.failed >= 1, 'the failed run is drawn');
    assert.match(
      readFileSync(path.join(out, 'report.html'), 'utf8'),
      /1 of 1 failed — did not converge within the timeout of 300 s/,
    );

    const html = path.join(dir, 'run.html');
    const single = spawnSync(
      process.execPath,
      [BIN, 'run', '--ram', '16MiB', '--clock', 'virtual', '--quiet', '--html', html],
      { encoding: 'utf8' },
    );
    assert.equal(single.status, 0, single.stderr);
    const { pres } = await inspect(html, dir);
    for (const p of pres) assert.doesNotMatch(p, /[┌─│└┼]/, 'no box-drawing text tables');
    assert.ok((readFileSync(html, 'utf8').match(/<table>/g) ?? []).length >= 4, 'the run report has HTML tables');
  },
);
