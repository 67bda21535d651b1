/**
 * Per configuration of a suite: how many of its runs finished, and mean, min and max of total time,
 * downtime, bytes sent and rounds (plus each metric a comparison plots), over its completed runs;
 * the varied options as columns. As CSV (raw units in the column names) and as Markdown.
 */
import { kebabOf } from './parse.js';
import { METRICS, SUMMARY_METRICS, type Metric } from './metrics.js';
import type { OptionTexts, SuitePlan, SuiteRecord } from './schema.js';

export interface Stats {
  mean: number;
  min: number;
  max: number;
  n: number;
}

export interface SummaryRow {
  configId: string;
  varied: OptionTexts;
  planned: number;
  completed: number;
  failed: number;
  /** By metric name; absent when no completed run carries the metric. */
  stats: Record<string, Stats | undefined>;
}

export interface SuiteSummary {
  metrics: Metric[];
  rows: SummaryRow[];
  failedRuns: SuiteRecord[];
}

export function statsOf(values: readonly number[]): Stats | undefined {
  if (values.length === 0) return undefined;
  return {
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
    n: values.length,
  };
}

/** `latest`: the last record of each run id (records of runs not in the plan are left out). */
export function summarize(plan: SuitePlan, latest: ReadonlyMap<string, SuiteRecord>): SuiteSummary {
  const names = [...SUMMARY_METRICS, ...plan.comparisons.map((c) => c.metric)];
  const metrics = METRICS.filter((m) => names.includes(m.name));
  const rows = new Map<string, SummaryRow & { records: SuiteRecord[] }>();
  const failedRuns: SuiteRecord[] = [];
  for (const run of plan.runs) {
    let row = rows.get(run.configId);
    if (row === undefined) {
      row = { configId: run.configId, varied: run.varied, planned: 0, completed: 0, failed: 0, stats: {}, records: [] };
      rows.set(run.configId, row);
    }
    row.planned++;
    const record = latest.get(run.runId);
    if (record === undefined) continue;
    if (record.status === 'completed') {
      row.completed++;
      row.records.push(record);
    } else {
      row.failed++;
      failedRuns.push(record);
    }
  }
  for (const row of rows.values()) {
    for (const m of metrics) {
      const values = row.records.map((r) => (r.result === undefined ? undefined : m.value(r.result))).filter((v): v is number => v !== undefined);
      row.stats[m.name] = statsOf(values);
    }
  }
  return { metrics, rows: [...rows.values()].map(({ records: _, ...row }) => row), failedRuns };
}

export function summaryCsv(plan: SuitePlan, summary: SuiteSummary): string {
  const header = [
    'config_id', ...plan.variedKeys.map(kebabOf), 'runs_planned', 'runs_completed', 'runs_failed',
    ...summary.metrics.flatMap((m) => [`${m.column}_mean`, `${m.column}_min`, `${m.column}_max`]),
  ];
  const lines = [header.map(csvField).join(',')];
  for (const row of summary.rows) {
    const cells = [
      row.configId, ...plan.variedKeys.map((k) => row.varied[k] ?? ''), String(row.planned), String(row.completed), String(row.failed),
      ...summary.metrics.flatMap((m) => {
        const s = row.stats[m.name];
        return s === undefined ? ['', '', ''] : [s.mean, s.min, s.max].map(csvNumber);
      }),
    ];
    lines.push(cells.map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}

function csvNumber(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The summary as cells, for the Markdown and HTML tables alike: the varied options, runs ok of
 * planned, failures, then each metric as mean (min – max) over the completed runs.
 */
export function summaryCells(plan: SuitePlan, summary: SuiteSummary): { head: string[]; rows: string[][] } {
  const head = [...plan.variedKeys.map(kebabOf), 'runs (ok/planned)', 'failed', ...summary.metrics.map((m) => m.label)];
  const rows = summary.rows.map((row) => [
    ...plan.variedKeys.map((k) => row.varied[k] ?? '–'),
    `${row.completed}/${row.planned}`, String(row.failed),
    ...summary.metrics.map((m) => {
      const s = row.stats[m.name];
      if (s === undefined) return '–';
      const f = (v: number): string => formatNumber(v * m.displayScale);
      return s.n === 1 || s.min === s.max ? f(s.mean) : `${f(s.mean)} (${f(s.min)} – ${f(s.max)})`;
    }),
  ]);
  return { head, rows };
}

export function summaryMarkdown(plan: SuitePlan, summary: SuiteSummary): string {
  const planned = plan.runs.length;
  const completed = summary.rows.reduce((n, r) => n + r.completed, 0);
  const failed = summary.rows.reduce((n, r) => n + r.failed, 0);
  const out: string[] = [`# Suite ${plan.name}${plan.reduced ? ' (reduced)' : ''}`, ''];
  if (plan.description !== '') out.push(plan.description, '');
  out.push(`${summary.rows.length} configurations × ${plan.repeat} repeat${plan.repeat === 1 ? '' : 's'} = ${planned} runs: `
    + `${completed} completed, ${failed} failed, ${planned - completed - failed} not run. `
    + 'Each cell: mean (min – max) over the completed runs.', '');

  const { head, rows } = summaryCells(plan, summary);
  out.push(`| ${head.map(mdCell).join(' | ')} |`);
  out.push(`| ${head.map((_, i) => (i < plan.variedKeys.length ? '---' : '---:')).join(' | ')} |`);
  for (const cells of rows) out.push(`| ${cells.map(mdCell).join(' | ')} |`);
  if (summary.failedRuns.length > 0) {
    out.push('', '## Failed runs', '');
    for (const r of summary.failedRuns) {
      const varied = Object.entries(r.varied).map(([k, v]) => `${kebabOf(k)}=${v}`).join(', ');
      out.push(`- \`${r.runId}\`${varied === '' ? '' : ` (${mdCell(varied)})`}: ${mdCell(r.reason ?? 'failed')}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** 1,234.5 · 12.35 · 0.123: about four significant digits, thousands separated. */
export function formatNumber(v: number): string {
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 1 : abs >= 10 ? 2 : 3;
  return v.toLocaleString('en-US', { maximumFractionDigits: Number.isInteger(v) ? 0 : digits });
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
