/**
 * A suite's summary for a terminal (what `migbench suite` prints when it ends): the summary table
 * laid out for the terminal's width (cut into column groups that repeat the varied options), the
 * failed and not-run runs, and the runs over their downtime limit. summary.md has the same as
 * Markdown.
 */
import { kebabOf } from '../suite/parse.js';
import type { SuitePlan } from '../suite/schema.js';
import { summaryCells, type SuiteSummary } from '../suite/summary.js';
import { formatMs, wrapText } from '../util/format.js';
import { newTable } from './human.js';

export function formatSuiteSummary(plan: SuitePlan, summary: SuiteSummary, width: number): string {
  const planned = plan.runs.length;
  const completed = summary.rows.reduce((n, r) => n + r.completed, 0);
  const failed = summary.rows.reduce((n, r) => n + r.failed, 0);
  const out = [
    wrapText(
      `suite ${plan.name}${plan.reduced ? ' (reduced)' : ''}: ${planned} runs, ${completed} completed, ${failed} failed, ` +
        `${planned - completed - failed} not run. Each cell: mean (min – max) over the completed runs.`,
      width,
    ),
  ];
  const { head, rows } = summaryCells(plan, summary);
  // The varied options and the run counts name a row: each column group repeats the first of them.
  const t = newTable(
    head,
    head.map((_, i) => (i < plan.variedKeys.length ? 'left' : 'right')),
  );
  t.keyColumns = plan.variedKeys.length;
  t.push(...rows);
  out.push(t.toString(width));
  const varied = (v: Record<string, string>): string =>
    Object.entries(v)
      .map(([k, x]) => `${kebabOf(k)}=${x}`)
      .join(', ');
  for (const r of summary.failedRuns)
    out.push(
      wrapText(
        `${r.status === 'not-run' ? 'NOT RUN' : 'FAILED'} ${r.runId} (${varied(r.varied)}): ${r.reason ?? 'failed'}`,
        width,
        2,
      ),
    );
  for (const { record: r, downtimeMs, limitMs } of summary.overLimitRuns)
    out.push(
      wrapText(
        `DOWNTIME OVER ITS LIMIT ${r.runId} (${varied(r.varied)}): ${formatMs(downtimeMs)} > ${formatMs(limitMs)}`,
        width,
        2,
      ),
    );
  return `${out.join('\n')}\n`;
}
