/**
 * An evacuation suite's report.html: the summary table, the answer to "is one at a time fastest?",
 * evacuation time and worst downtime against the varied limit (one line per setting of the other
 * varied options), and the timelines of the fastest and the slowest configuration.
 */
import { findings, summaryCells, type EvacuationSummaryRow, type SummaryPlan } from '../evacuate/summary.js';
import { comparisonSpec, type ComparisonAxis, type ComparisonPoint } from './charts/comparison.js';
import { esc, figure, htmlTable, page, type ReportMeta } from './html.js';
import type { ChartSpec } from './charts/render.js';
import { nicSpec, timelineSpec } from './evacuation.js';

/** Evacuation time and worst downtime (and their sum) against the varied limit: also written as SVG files beside the report. */
export function suiteChartSpecs(
  plan: SummaryPlan & { name: string; description: string; repeat: number; reduced: boolean; file: string },
  rows: EvacuationSummaryRow[],
): ChartSpec[] {
  const x = plan.variedKeys.includes('max-concurrent') ? 'max-concurrent' : plan.variedKeys[0];
  if (x === undefined) return [];
  const others = plan.variedKeys.filter((k) => k !== x);
  const values = [...new Set(rows.map((r) => r.varied[x]))];
  const numeric = values.every((v) => Number.isFinite(Number(v)));
  const axis: ComparisonAxis = { kind: numeric ? 'quantitative' : 'ordinal', title: x, log: false, order: values };
  const points = (
    pick: (r: EvacuationSummaryRow) => { mean: number; min: number; max: number } | null,
  ): ComparisonPoint[] =>
    rows.flatMap((r) => {
      const s = pick(r);
      return s === null
        ? []
        : [
            {
              x: numeric ? Number(r.varied[x]) : r.varied[x],
              xLabel: r.varied[x],
              series:
                others
                  .filter((k) => r.varied[k] !== undefined)
                  .map((k) => `${k} ${r.varied[k]}`)
                  .join(', ') || 'all',
              ...s,
              n: r.completed,
            },
          ];
    });
  const series = others.join(', ') || 'configuration';
  return [
    comparisonSpec(
      'evacuation time: the first start to the last announce',
      'evacuation time (s)',
      series,
      axis,
      points((r) => r.evacuationS),
    ),
    comparisonSpec(
      'worst downtime: the longest downtime of any VM',
      'worst downtime (ms)',
      series,
      axis,
      points((r) => r.worstDowntimeMs),
    ),
    comparisonSpec(
      'downtime, summed over the VMs',
      'downtime sum (ms)',
      series,
      axis,
      points((r) => r.sumDowntimeMs),
    ),
  ];
}

export async function renderEvacuationSuiteHtml(
  plan: SummaryPlan & { name: string; description: string; repeat: number; reduced: boolean; file: string },
  rows: EvacuationSummaryRow[],
  meta: ReportMeta,
): Promise<string> {
  const parts: string[] = [];
  parts.push(`<h1>Evacuation suite ${esc(plan.name)}${plan.reduced ? ' <span class="tag">reduced</span>' : ''}</h1>`);
  if (plan.description !== '') parts.push(`<p>${esc(plan.description)}</p>`);
  const done = rows.reduce((n, r) => n + r.completed, 0);
  parts.push(
    `<p class="meta">${rows.length} configurations × ${plan.repeat} repeat${plan.repeat === 1 ? '' : 's'} = ${plan.runs.length} evacuations, ${done} done · from ${esc(plan.file)}</p>`,
  );
  const { head, rows: cells } = summaryCells(plan, rows);
  parts.push(
    '<h2>Summary</h2>',
    '<p class="meta">Each cell: mean (min – max) over the evacuations of the configuration.</p>',
    htmlTable(head, cells, plan.variedKeys.length),
  );
  const f = findings(plan, rows);
  if (f.length > 0)
    parts.push(
      '<h2>Is one at a time fastest?</h2>',
      `<p>${esc(f[0])}</p>`,
      `<ul>${f
        .slice(1)
        .map((l) => `<li>${esc(l.replace(/^- /, ''))}</li>`)
        .join('')}</ul>`,
    );

  const x = plan.variedKeys.includes('max-concurrent') ? 'max-concurrent' : plan.variedKeys[0];
  if (x !== undefined) {
    parts.push(
      '<h2>Against ' + esc(x) + '</h2>',
      `<div class="charts">${(await Promise.all(suiteChartSpecs(plan, rows).map(figure))).join('')}</div>`,
    );
  }
  const timed = rows
    .filter((r) => r.sample !== undefined && r.evacuationS !== null)
    .sort((a, b) => (a.evacuationS?.mean ?? 0) - (b.evacuationS?.mean ?? 0));
  const shown = timed.length > 1 ? [timed[0], timed[timed.length - 1]] : timed;
  for (const [i, r] of shown.entries()) {
    const label =
      plan.variedKeys
        .filter((k) => r.varied[k] !== undefined)
        .map((k) => `${k} ${r.varied[k]}`)
        .join(', ') || 'the configuration';
    const sample = r.sample as NonNullable<EvacuationSummaryRow['sample']>;
    parts.push(
      `<h2>${i === 0 ? 'Fastest' : 'Slowest'}: ${esc(label)}</h2>`,
      `<div class="charts">${await figure(timelineSpec(sample))}${await figure(nicSpec(sample))}</div>`,
    );
  }
  return page(`migbench evacuation suite ${plan.name}`, parts.join('\n'), meta);
}
