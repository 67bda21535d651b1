/**
 * HTML reports: one self-contained file each (inline CSS and inline SVG charts; no script, no
 * font, nothing fetched), readable offline and attachable to an issue.
 * - a suite's report.html: summary table; per comparison its metric against the varied option and
 *   the downtime vs total-time trade-off; per configuration, one run's charts.
 * - a run's report (`migbench run --html`): header, charts, totals and rounds.
 */
import { kebabOf } from '../suite/parse.js';
import type { SuitePlan, SuiteRecord } from '../suite/schema.js';
import { summarize, summaryCells } from '../suite/summary.js';
import type { MigrationResult } from '../result/schema.js';
import { formatMs } from '../util/format.js';
import { comparisonSpec } from './charts/comparison.js';
import { renderSvg, type ChartSpec } from './charts/render.js';
import { runChartSpecs } from './charts/run-charts.js';
import { tradeoffSpec } from './charts/tradeoff.js';
import { comparisonViews, configGroups, seriesLabel, type ComparisonView } from './comparison-data.js';
import {
  codecTableOf,
  formatConfigHeader,
  formatStatusLine,
  postcopyTableOf,
  qemuTableOf,
  roundsTableOf,
  stagesTableOf,
  totalsTableOf,
} from './human.js';

export interface ReportMeta {
  /** migbench version, for the footer. */
  toolVersion: string;
  /** When the report was written (ISO); defaults to now. */
  generatedAt?: string;
}

export async function renderSuiteHtml(
  plan: SuitePlan,
  latest: ReadonlyMap<string, SuiteRecord>,
  meta: ReportMeta,
): Promise<string> {
  const summary = summarize(plan, latest);
  const parts: string[] = [];
  const planned = plan.runs.length;
  const completed = summary.rows.reduce((n, r) => n + r.completed, 0);
  const failed = summary.rows.reduce((n, r) => n + r.failed, 0);

  parts.push(`<h1>Suite ${esc(plan.name)}${plan.reduced ? ' <span class="tag">reduced</span>' : ''}</h1>`);
  if (plan.description !== '') parts.push(`<p>${esc(plan.description)}</p>`);
  parts.push(
    `<p class="meta">${summary.rows.length} configurations × ${plan.repeat} repeat${plan.repeat === 1 ? '' : 's'} = ${planned} runs: ` +
      `${completed} completed, ${failed} failed, ${planned - completed - failed} not run · from ${esc(plan.file)}</p>`,
  );
  const env = [...latest.values()].find((r) => r.result !== undefined)?.result?.environment;
  if (env !== undefined) {
    parts.push(
      `<p class="meta">Node ${esc(env.node)} · ${esc(env.platform)}/${esc(env.arch)} · ${esc(env.cpu)} · ${env.cores} cores · wasm SIMD ${env.wasmSimd ? 'yes' : 'no'}</p>`,
    );
  }

  parts.push(
    '<h2 id="summary">Summary</h2>',
    '<p class="meta">Each cell: mean (min – max) over the completed runs of the configuration.</p>',
  );
  const { head, rows } = summaryCells(plan, summary);
  parts.push(htmlTable(head, rows, plan.variedKeys.length));

  const views = comparisonViews(plan, latest);
  if (views.length > 0) parts.push('<h2 id="comparisons">Comparisons</h2>');
  for (const v of views) {
    parts.push(`<section><h3>${esc(v.comparison.title)}</h3>`);
    if (v.points.length === 0 && v.failures.length === 0) {
      parts.push('<p class="note">No runs of this comparison are done yet.</p></section>');
      continue;
    }
    // The section heading titles the metric chart; the trade-off chart has its own title.
    const charts = [
      await figure(
        comparisonSpec(undefined, v.metric.label, v.seriesTitle, v.axis, v.points, v.failures, v.references),
      ),
    ];
    if (v.failures.length > 0) {
      parts.push(
        `<p class="note">Failed runs are the red crosses, at the value they reached (at the top of the chart where they reached none): ${v.failures.map((f) => `${esc(v.axis.title)} ${esc(f.xLabel)}${f.series === 'all' ? '' : ` (${esc(f.series)})`}: ${f.failed} of ${f.runs} failed — ${esc(f.reason)}`).join('; ')}.</p>`,
      );
    }
    if (v.comparison.tradeoff && v.tradeoff.length >= 2) {
      charts.push(
        await figure(
          tradeoffSpec(`downtime vs total time over ${kebabOf(v.comparison.vary)}`, v.seriesTitle, v.tradeoff),
        ),
        tradeoffTable(kebabOf(v.comparison.vary), v),
      );
    }
    parts.push(`<div class="charts">${charts.join('')}</div></section>`);
  }

  if (summary.failedRuns.length > 0) {
    parts.push('<h2 id="failed">Failed runs</h2><ul>');
    for (const r of summary.failedRuns) {
      parts.push(
        `<li><code>${esc(r.runId)}</code> ${esc(seriesLabel(plan, r.varied))}: ${esc(r.reason ?? 'failed')}</li>`,
      );
    }
    parts.push('</ul>');
  }

  parts.push(...(await runSections(plan, latest)));
  return page(`migbench suite ${plan.name}`, parts.join('\n'), meta);
}

export async function renderRunHtml(result: MigrationResult, meta: ReportMeta): Promise<string> {
  const parts: string[] = ['<h1>migbench run</h1>'];
  // The header's "name  value" lines as a two-column table.
  const header = formatConfigHeader(result.config, result.environment, meta.toolVersion)
    .split('\n')
    .map((line) => {
      const m = /^(\S+)\s{2,}(.*)$/.exec(line);
      return m ? [m[1], m[2]] : ['', line.trim()];
    });
  parts.push(htmlTable(['', 'configuration'], header, 1));
  parts.push(`<p class="status ${result.status}">${esc(formatStatusLine(result))}</p>`);
  const charts = await Promise.all(runChartSpecs(result).map(figure));
  parts.push(`<div class="charts">${charts.join('')}</div>`);
  parts.push('<h2>Totals</h2>', totalsTableOf(result)?.toHtml() ?? '');
  const qemu = qemuTableOf(result);
  if (qemu) parts.push("<h2>QEMU's statistics</h2>", qemu.toHtml());
  if (result.totals.codec) parts.push('<h2>Codecs</h2>', codecTableOf(result)?.toHtml() ?? '');
  const postcopy = postcopyTableOf(result);
  if (postcopy) parts.push('<h2>Post-copy</h2>', postcopy.toHtml());
  parts.push('<h2>Stages</h2>', stagesTableOf(result.stages)?.toHtml() ?? '');
  parts.push(`<h2>Rounds (${result.iterations.length})</h2>`, roundsTableOf(result.iterations)?.toHtml() ?? '');
  return page('migbench run', parts.join('\n'), meta);
}

/** One section per configuration: its run's charts (the first RUN_SECTIONS_CHARTED), or a line. */
async function runSections(plan: SuitePlan, latest: ReadonlyMap<string, SuiteRecord>): Promise<string[]> {
  const parts: string[] = [];
  const groups = configGroups(plan, latest);
  if (groups.length > 0)
    parts.push(
      '<h2 id="runs">Runs</h2>',
      `<p class="meta">One run per configuration: its first completed repeat (or its first failed one)${groups.length > RUN_SECTIONS_CHARTED ? `; charts for the first ${RUN_SECTIONS_CHARTED} of ${groups.length} configurations, the rest one line each (every run's rounds are in results.jsonl)` : ''}.</p>`,
    );
  const runsOf = new Map<string, string[]>();
  for (const r of plan.runs) runsOf.set(r.configId, [...(runsOf.get(r.configId) ?? []), r.runId]);
  for (const [i, g] of groups.entries()) {
    const records = (runsOf.get(g.configId) ?? [])
      .map((id) => latest.get(id))
      .filter((r): r is SuiteRecord => r?.result !== undefined);
    const shown = records.find((r) => r.status === 'completed') ?? records[0];
    const label = esc(seriesLabel(plan, g.varied));
    if (shown === undefined) {
      parts.push(`<details><summary>${label} · no result</summary></details>`);
      continue;
    }
    const r = shown.result!;
    const status =
      r.status === 'completed'
        ? `total ${esc(formatMs(r.totals.totalTimeMs))} · downtime ${esc(formatMs(r.totals.downtimeMs))} · ${r.totals.iterations} rounds`
        : `failed: ${esc(r.reason ?? '')}`;
    const summary = `${label} · <code>${esc(shown.runId)}</code> · ${status}`;
    // A suite of thousands of runs would make a page past what a browser (or a string) holds.
    if (i >= RUN_SECTIONS_CHARTED) {
      parts.push(`<p class="run">${summary}</p>`);
      continue;
    }
    const charts = await Promise.all(runChartSpecs(r).map(figure));
    const open = groups.length <= RUN_SECTIONS_OPEN ? ' open' : '';
    parts.push(`<details${open}><summary>${summary}</summary><div class="charts">${charts.join('')}</div></details>`);
  }
  return parts;
}

/**
 * The trade-off's points as a table beside its chart: each point's option value, series, downtime
 * and total time, and the configurations that failed (which the chart cannot place).
 */
function tradeoffTable(option: string, v: ComparisonView): string {
  const rows = [...v.tradeoff]
    .sort((a, b) => (a.series === b.series ? a.order - b.order : a.series < b.series ? -1 : 1))
    .map((p) => [p.label, p.series, formatMs(p.downtimeMs), formatMs(p.totalTimeMs)]);
  for (const f of v.failures) rows.push([f.xLabel, f.series, `${f.failed} of ${f.runs} failed`, f.reason]);
  const series = new Set(v.tradeoff.map((p) => p.series)).size > 1;
  const head = [option, ...(series ? [v.seriesTitle] : []), 'downtime', 'total time'];
  return `<div class="tradeoff-table">${htmlTable(
    head,
    rows.map((r) => (series ? r : [r[0], r[2], r[3]])),
    series ? 2 : 1,
  )}</div>`;
}

/** Configurations whose runs a suite's report charts open, not folded: a page a reader scrolls, not clicks. */
export const RUN_SECTIONS_OPEN = 12;

/** Configurations whose runs a suite's report charts; the rest get a line each. */
export const RUN_SECTIONS_CHARTED = 100;

export async function figure(spec: ChartSpec): Promise<string> {
  return `<figure class="chart">${await renderSvg(spec)}</figure>`;
}

export function htmlTable(head: string[], rows: string[][], leftColumns: number): string {
  const cls = (i: number): string => (i < leftColumns ? '' : ' class="num"');
  return (
    `<table><thead><tr>${head.map((h, i) => `<th${cls(i)}>${esc(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${esc(c)}</td>`).join('')}</tr>`).join('') +
    '</tbody></table>'
  );
}

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 1400px; padding: 0 1.5rem; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: .3rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; } h3 { margin-bottom: .4rem; }
.meta, .note, footer { color: #666; font-size: .9rem; } .tag { font-size: .8rem; background: #eee; padding: .1rem .4rem; border-radius: .3rem; vertical-align: middle; }
table { border-collapse: collapse; font-size: .85rem; } th, td { border: 1px solid #ddd; padding: .25rem .5rem; } th { background: #f5f5f5; } td.num, th.num { text-align: right; } td.num { white-space: nowrap; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; } figure.chart { margin: 0; } .tradeoff-table { max-height: 360px; overflow-y: auto; }
details { margin: .4rem 0; } summary { cursor: pointer; }
pre { font-size: .8rem; overflow-x: auto; } .status.failed { color: #b03030; font-weight: 600; }
`;

export function page(title: string, body: string, meta: ReportMeta): string {
  const generatedAt = meta.generatedAt ?? new Date().toISOString();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
<footer><p>Written by migbench ${esc(meta.toolVersion)} at ${esc(generatedAt)}. Charts: Vega-Lite, rendered to SVG.</p></footer>
</body>
</html>
`;
}

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
