/**
 * Per configuration of a suite: how many of its runs finished, and mean, min and max of total time,
 * downtime, bytes sent and rounds (plus each metric a comparison plots), over its completed runs;
 * the varied options as columns. As CSV (raw units in the column names) and as Markdown.
 */
import { kebabOf } from './parse.js';
import { METRICS, SUMMARY_METRICS, type Metric } from './metrics.js';
import type { OptionTexts, SuitePlan, SuiteRecord } from './schema.js';
import { parseDirtyRate, parseDuration, parseLinkRate, parseSize } from '../util/units.js';
import type { RunOptionKey } from '../config/options.js';
import { downtimeOver } from '../result/limits.js';
import { formatMs } from '../util/format.js';

export interface Stats {
  mean: number;
  min: number;
  max: number;
  n: number;
  median: number;
  /** The 95th and 99th percentiles, interpolated between the closest ranks (as R's and numpy's defaults). */
  p95: number;
  p99: number;
  /** Sample standard deviation (n - 1); 0 for one value. */
  sd: number;
}

/** The q-quantile (0 to 1) of sorted values, linearly interpolated between the closest ranks. */
export function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

export interface SummaryRow {
  configId: string;
  varied: OptionTexts;
  planned: number;
  completed: number;
  failed: number;
  /** Refused before they started (they do not fit): neither completed nor failed. */
  notRun: number;
  /** By metric name; absent when no completed run carries the metric. */
  stats: Record<string, Stats | undefined>;
}

export interface SuiteSummary {
  metrics: Metric[];
  rows: SummaryRow[];
  failedRuns: SuiteRecord[];
  /** Completed runs whose downtime passed the limit their policy aims for. */
  overLimitRuns: Array<{ record: SuiteRecord; downtimeMs: number; limitMs: number }>;
}

export function statsOf(values: readonly number[]): Stats | undefined {
  if (values.length === 0) return undefined;
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sorted = [...values].sort((a, b) => a - b);
  return {
    mean,
    min: sorted[0],
    max: sorted[n - 1],
    n,
    median: n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    sd: n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0,
  };
}

/** `latest`: the last record of each run id (records of runs not in the plan are left out). */
export function summarize(plan: SuitePlan, latest: ReadonlyMap<string, SuiteRecord>): SuiteSummary {
  const names = [...SUMMARY_METRICS, ...plan.comparisons.map((c) => c.metric)];
  const metrics = METRICS.filter((m) => names.includes(m.name));
  const rows = new Map<string, SummaryRow & { records: SuiteRecord[] }>();
  const failedRuns: SuiteRecord[] = [];
  const overLimitRuns: SuiteSummary['overLimitRuns'] = [];
  for (const run of plan.runs) {
    let row = rows.get(run.configId);
    if (row === undefined) {
      row = {
        configId: run.configId,
        varied: run.varied,
        planned: 0,
        completed: 0,
        failed: 0,
        notRun: 0,
        stats: {},
        records: [],
      };
      rows.set(run.configId, row);
    }
    row.planned++;
    const record = latest.get(run.runId);
    if (record === undefined) continue;
    if (record.status === 'completed') {
      row.completed++;
      row.records.push(record);
      const over = record.result === undefined ? null : downtimeOver(record.result);
      if (over !== null) overLimitRuns.push({ record, ...over });
    } else {
      if (record.status === 'not-run') row.notRun++;
      else row.failed++;
      failedRuns.push(record);
    }
  }
  for (const row of rows.values()) {
    for (const m of metrics) {
      const values = row.records
        .map((r) => (r.result === undefined ? undefined : m.value(r.result)))
        .filter((v): v is number => v !== undefined);
      row.stats[m.name] = statsOf(values);
    }
  }
  return { metrics, rows: [...rows.values()].map(({ records: _, ...row }) => row), failedRuns, overLimitRuns };
}

/**
 * summary.csv: per configuration, the varied options as written and, where they are quantities,
 * as numbers with their unit in the header (`downtime_limit_ms`); then each metric's mean, sd,
 * min, median, p95, p99 and max over the completed runs (units in the metric's column name).
 */
export function summaryCsv(plan: SuitePlan, summary: SuiteSummary): string {
  const numeric = plan.variedKeys.map((k) =>
    numericColumn(
      k,
      summary.rows.map((r) => r.varied[k]),
    ),
  );
  const header = [
    'config_id',
    ...plan.variedKeys.flatMap((k, i) => [kebabOf(k), ...(numeric[i] ? [numeric[i].header] : [])]),
    'runs_planned',
    'runs_completed',
    'runs_failed',
    ...summary.metrics.flatMap((m) =>
      ['mean', 'sd', 'min', 'median', 'p95', 'p99', 'max'].map((s) => `${m.column}_${s}`),
    ),
  ];
  const lines = [header.map(csvField).join(',')];
  for (const row of summary.rows) {
    const cells = [
      row.configId,
      ...plan.variedKeys.flatMap((k, i) => [
        row.varied[k] ?? '',
        ...(numeric[i] ? [row.varied[k] === undefined ? '' : csvNumber(numeric[i].value(row.varied[k]))] : []),
      ]),
      String(row.planned),
      String(row.completed),
      String(row.failed),
      ...summary.metrics.flatMap((m) => {
        const s = row.stats[m.name];
        return s === undefined
          ? ['', '', '', '', '', '', '']
          : [s.mean, s.sd, s.min, s.median, s.p95, s.p99, s.max].map(csvNumber);
      }),
    ];
    lines.push(cells.map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** The unit each quantity option is written in, and its parser to that unit (the option's own). */
const QUANTITIES: Partial<Record<RunOptionKey, { unit: string; parse: (t: string) => number }>> = {
  ram: { unit: 'bytes', parse: (t) => parseSize('--ram', t) },
  pageSize: { unit: 'bytes', parse: (t) => parseSize('--page-size', t) },
  writeSize: { unit: 'bytes', parse: (t) => parseSize('--write-size', t) },
  link: { unit: 'bit_per_s', parse: (t) => parseLinkRate('--link', t) ?? NaN },
  maxBandwidth: { unit: 'bit_per_s', parse: (t) => parseLinkRate('--max-bandwidth', t) ?? NaN },
  adaptiveMax: { unit: 'bit_per_s', parse: (t) => parseLinkRate('--adaptive-max', t) ?? NaN },
  dirtyRate: { unit: 'bytes_per_s', parse: (t) => parseDirtyRate('--dirty-rate', t, 1) },
  latency: { unit: 'ms', parse: (t) => parseDuration('--latency', t) },
  downtimeLimit: { unit: 'ms', parse: (t) => parseDuration('--downtime-limit', t) },
  timeout: { unit: 'ms', parse: (t) => parseDuration('--timeout', t) },
  catchUp: { unit: 'ms', parse: (t) => parseDuration('--catch-up', t) },
  throttleIncrement: { unit: 'percent', parse: (t) => Number(t.replace('%', '')) },
  throttleInitial: { unit: 'percent', parse: (t) => Number(t.replace('%', '')) },
  throttleThreshold: { unit: 'percent', parse: (t) => Number(t.replace('%', '')) },
  throttleMax: { unit: 'percent', parse: (t) => Number(t.replace('%', '')) },
};

/** A varied quantity's values as numbers in its unit, when every value parses (`60MB/s` -> 60000000 bytes/s; `500pages/s` does not). */
function numericColumn(
  key: RunOptionKey,
  texts: (string | undefined)[],
): { header: string; value: (text: string) => number } | null {
  const q = QUANTITIES[key];
  const given = texts.filter((t): t is string => t !== undefined);
  if (q === undefined || given.length === 0) return null;
  if (key === 'dirtyRate' && given.some((t) => /pages?\/s/i.test(t))) return null;
  const ok = given.every((t) => {
    try {
      return Number.isFinite(q.parse(t));
    } catch {
      return false;
    }
  });
  return ok ? { header: `${kebabOf(key).replace(/-/g, '_')}_${q.unit}`, value: q.parse } : null;
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
    `${row.completed}/${row.planned}`,
    String(row.failed),
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
  out.push(
    `${summary.rows.length} configurations × ${plan.repeat} repeat${plan.repeat === 1 ? '' : 's'} = ${planned} runs: ` +
      `${completed} completed, ${failed} failed, ${planned - completed - failed} not run. ` +
      'Each cell: mean (min – max) over the completed runs.',
    '',
  );

  const { head, rows } = summaryCells(plan, summary);
  out.push(`| ${head.map(mdCell).join(' | ')} |`);
  out.push(`| ${head.map((_, i) => (i < plan.variedKeys.length ? '---' : '---:')).join(' | ')} |`);
  for (const cells of rows) out.push(`| ${cells.map(mdCell).join(' | ')} |`);
  out.push(...percentilesMarkdown(plan, summary));
  if (summary.failedRuns.length > 0) {
    const notRun = summary.failedRuns.some((r) => r.status === 'not-run');
    out.push('', notRun ? '## Failed and not-run runs' : '## Failed runs', '');
    for (const r of summary.failedRuns) {
      const varied = Object.entries(r.varied)
        .map(([k, v]) => `${kebabOf(k)}=${v}`)
        .join(', ');
      out.push(`- \`${r.runId}\`${varied === '' ? '' : ` (${mdCell(varied)})`}: ${mdCell(r.reason ?? 'failed')}`);
    }
  }
  if (summary.overLimitRuns.length > 0) {
    out.push('', '## Runs over their downtime limit', '');
    for (const { record: r, downtimeMs, limitMs } of summary.overLimitRuns) {
      const varied = Object.entries(r.varied)
        .map(([k, v]) => `${kebabOf(k)}=${v}`)
        .join(', ');
      out.push(
        `- \`${r.runId}\`${varied === '' ? '' : ` (${mdCell(varied)})`}: downtime ${formatMs(downtimeMs)} > ${formatMs(limitMs)}`,
      );
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

/** With repeats: downtime and total time over them as median, p95 and p99 (the tail a fleet meets). */
function percentilesMarkdown(plan: SuitePlan, summary: SuiteSummary): string[] {
  if (plan.repeat < 2) return [];
  const metrics = summary.metrics.filter((m) => m.name === 'downtime' || m.name === 'total-time');
  const head = [
    ...plan.variedKeys.map(kebabOf),
    'runs',
    ...metrics.flatMap((m) => ['median', 'p95', 'p99'].map((q) => `${m.label}, ${q}`)),
  ];
  const lines = [
    '',
    '## Percentiles over the repeats',
    '',
    "Each configuration's completed runs: median, 95th and 99th percentile (interpolated between the closest ranks; with few repeats p99 is near the largest).",
    '',
    `| ${head.map(mdCell).join(' | ')} |`,
    `| ${head.map((_, i) => (i < plan.variedKeys.length ? '---' : '---:')).join(' | ')} |`,
  ];
  for (const row of summary.rows) {
    const cells = [...plan.variedKeys.map((k) => row.varied[k] ?? '–'), String(row.completed)];
    for (const m of metrics) {
      const s = row.stats[m.name];
      const f = (v: number): string => formatNumber(v * m.displayScale);
      cells.push(...(s === undefined ? ['–', '–', '–'] : [f(s.median), f(s.p95), f(s.p99)]));
    }
    lines.push(`| ${cells.map(mdCell).join(' | ')} |`);
  }
  return lines;
}
