/**
 * Repeated runs (`run --runs N`): each figure's mean, standard deviation, min, median, 95th and
 * 99th percentile and max over the completed runs, as hyperfine and fio report them; as a table,
 * Markdown or CSV.
 */
import type { MigrationResult } from '../result/schema.js';
import { newTable } from './human.js';
import { statsOf } from '../suite/summary.js';

export interface FigureStats {
  figure: string;
  unit: string;
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1); 0 for one run. */
  sd: number;
  min: number;
  median: number;
  p95: number;
  p99: number;
  max: number;
}

export interface RunsSummary {
  runs: number;
  completed: number;
  failed: number;
  /** Why each failed run failed. */
  failures: string[];
  figures: FigureStats[];
}

const FIGURES: { figure: string; unit: string; digits: number; of: (r: MigrationResult) => number }[] = [
  { figure: 'total time', unit: 'ms', digits: 1, of: (r) => r.totals.totalTimeMs },
  { figure: 'downtime', unit: 'ms', digits: 2, of: (r) => r.totals.downtimeMs },
  { figure: 'bytes sent', unit: 'MiB', digits: 2, of: (r) => r.totals.bytesSent / 2 ** 20 },
  { figure: 'rounds', unit: 'rounds', digits: 2, of: (r) => r.totals.iterations },
  { figure: 'achieved link rate', unit: 'Gbit/s', digits: 3, of: (r) => r.totals.achievedLinkBitsPerSec / 1e9 },
  { figure: 'guest page writes', unit: 'writes/s', digits: 0, of: (r) => r.totals.achievedDirtyPagesPerSec },
];

/** statsOf's figures, or NaN for none (no completed run). */
function stats(xs: number[]): Omit<FigureStats, 'figure' | 'unit'> {
  const s = statsOf(xs);
  return s === undefined
    ? { n: 0, mean: NaN, sd: NaN, min: NaN, median: NaN, p95: NaN, p99: NaN, max: NaN }
    : { n: s.n, mean: s.mean, sd: s.sd, min: s.min, median: s.median, p95: s.p95, p99: s.p99, max: s.max };
}

export function summarizeRuns(results: readonly MigrationResult[]): RunsSummary {
  const done = results.filter((r) => r.status === 'completed');
  return {
    runs: results.length,
    completed: done.length,
    failed: results.length - done.length,
    failures: results.filter((r) => r.status !== 'completed').map((r) => r.reason ?? 'failed'),
    figures: FIGURES.map((f) => ({ figure: f.figure, unit: f.unit, ...stats(done.map(f.of)) })),
  };
}

function digitsOf(figure: string): number {
  return FIGURES.find((f) => f.figure === figure)?.digits ?? 2;
}

function num(x: number, digits: number): string {
  return Number.isFinite(x)
    ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '-';
}

const HEAD = ['Figure (unit)', 'Mean ± sd', 'Min', 'Median', 'p95', 'p99', 'Max'];

function rows(s: RunsSummary): string[][] {
  return s.figures.map((f) => {
    const d = digitsOf(f.figure);
    return [
      `${f.figure} (${f.unit})`,
      `${num(f.mean, d)} ± ${num(f.sd, d)}`,
      num(f.min, d),
      num(f.median, d),
      num(f.p95, d),
      num(f.p99, d),
      num(f.max, d),
    ];
  });
}

function headline(s: RunsSummary): string {
  return `${s.runs} run${s.runs === 1 ? '' : 's'}: ${s.completed} completed, ${s.failed} failed; figures over the completed runs (sd: sample standard deviation)`;
}

export function formatRunsSummary(s: RunsSummary): string {
  const t = newTable(HEAD, ['left', 'right', 'right', 'right', 'right', 'right', 'right']);
  for (const r of rows(s)) t.push(r);
  const failures = s.failures
    .map((f, i) => `\nfailed: ${f}${i === 9 && s.failures.length > 10 ? ' ...' : ''}`)
    .slice(0, 10)
    .join('');
  return `${headline(s)}\n${t.toString()}${failures}`;
}

export function runsSummaryMarkdown(s: RunsSummary): string {
  const out = [
    headline(s),
    '',
    `| ${HEAD.join(' | ')} |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows(s).map((r) => `| ${r.join(' | ')} |`),
  ];
  for (const f of s.failures) out.push('', `failed: ${f}`);
  return `${out.join('\n')}\n`;
}

export function runsSummaryCsv(s: RunsSummary): string {
  const head = ['figure', 'unit', 'n', 'mean', 'sd', 'min', 'median', 'p95', 'p99', 'max'];
  const lines = s.figures.map((f) =>
    [f.figure, f.unit, f.n, f.mean, f.sd, f.min, f.median, f.p95, f.p99, f.max].map(String).join(','),
  );
  return `${[head.join(','), ...lines].join('\n')}\n`;
}
