/**
 * Benchmark results as data, and their two formats: a human table and a JSON document. Results are
 * plain objects so the kernel and end-to-end benchmarks share them.
 */
import Table from 'cli-table3';
import type { BenchEnvironment } from './environment.js';

export const BENCH_SCHEMA_VERSION = 1;

/** What a row measured: a wasm kernel, its TypeScript reference, the machine's memcpy, a library. */
export type Implementation = 'wasm' | 'ts-reference' | 'memcpy' | 'lz4-wasm-nodejs';

/** One measured task of the kernel benchmark. */
export interface KernelCaseResult {
  /** The kernel: "scan-and-clear", "zero test", ... */
  group: string;
  /** The workload: "64 GiB guest (bitmap 2 MiB), 1 % dirty". Rows of one group and variant share bytes. */
  variant: string;
  implementation: Implementation;
  /** Bytes one operation processes; what GB/s counts (the group says which bytes). */
  bytesPerOp: number;
  /** Median latency of one operation, ms: GB/s is computed from it (robust to a busy neighbour). */
  medianMs: number;
  meanMs: number;
  samples: number;
  /** 95 % margin of error of the mean (1.96 standard errors), percent of the mean. */
  rmePercent: number;
  gbPerSec: number;
  /** Median latency of the TS reference / this row's (same bytes): how many times faster. */
  timesTsReference?: number;
  /** Median latency of memcpy over the same bytes / this row's: the fraction of memcpy reached. */
  timesMemcpy?: number;
}

export interface TargetResult {
  name: string;
  /** The threshold: measured must be >= it (or <= it when `atMost`). */
  target: number;
  unit: string;
  atMost?: boolean;
  /** null when the measurement is not available (then `met` is null too and `note` says why). */
  measured: number | null;
  met: boolean | null;
  note?: string;
}

export function checkTarget(
  name: string,
  target: number,
  unit: string,
  measured: number | null,
  opts: { atMost?: boolean; note?: string } = {},
): TargetResult {
  const met =
    measured === null || Number.isNaN(measured) ? null : opts.atMost ? measured <= target : measured >= target;
  return {
    name,
    target,
    unit,
    ...(opts.atMost ? { atMost: true } : {}),
    measured,
    met,
    ...(opts.note ? { note: opts.note } : {}),
  };
}

/** The ratios of each row to its TS reference and to memcpy of the same group and variant. */
export function addRatios(cases: KernelCaseResult[]): void {
  const key = (c: KernelCaseResult): string => `${c.group}\u0000${c.variant}`;
  const find = (c: KernelCaseResult, impl: Implementation): KernelCaseResult | undefined =>
    cases.find((o) => key(o) === key(c) && o.implementation === impl);
  for (const c of cases) {
    const ts = find(c, 'ts-reference');
    const mc = find(c, 'memcpy');
    if (ts && c.implementation !== 'ts-reference' && c.implementation !== 'memcpy')
      c.timesTsReference = ts.medianMs / c.medianMs;
    if (mc && c.implementation !== 'memcpy') c.timesMemcpy = mc.medianMs / c.medianMs;
  }
}

/** The row of a group, variant and implementation; a variant may carry set-up facts in brackets after the name given. */
export function findCase(
  cases: readonly KernelCaseResult[],
  group: string,
  variant: string,
  impl: Implementation,
): KernelCaseResult | undefined {
  return cases.find(
    (c) =>
      c.group === group && (c.variant === variant || c.variant.startsWith(`${variant} (`)) && c.implementation === impl,
  );
}

// ------------------------------------------------------------------------------------ formats

export function newTable(head: string[], colAligns: Table.HorizontalAlignment[]): Table.Table {
  // Like src/report/human.ts: no colours (the same text goes to terminals and files), compact.
  return new Table({ head, colAligns, style: { head: [], border: [], compact: true } });
}

export function fixed(v: number | undefined | null, digits: number): string {
  return v === undefined || v === null || Number.isNaN(v) ? '' : v.toFixed(digits);
}

/** Two or three significant digits, enough for noisy timings: 0.0123, 1.23, 12.3, 123. */
export function sig(v: number | undefined | null): string {
  if (v === undefined || v === null || Number.isNaN(v)) return '';
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

function describeTarget(t: TargetResult): string {
  return `${t.atMost ? '<=' : '>='} ${sig(t.target)} ${t.unit}`;
}

export function metText(met: boolean | null): string {
  return met === null ? 'n/a' : met ? 'yes' : 'NO';
}

/** Kernel rows; the row a target is measured on carries the target and whether it was met. */
export function formatKernelTable(
  cases: readonly KernelCaseResult[],
  targetsByRow: Map<KernelCaseResult, TargetResult>,
): string {
  const t = newTable(
    [
      'Kernel',
      'Case',
      'Implementation',
      'Time/op\n(µs)',
      'Rate\n(GB/s)',
      '± mean\n(%)',
      'vs TS ref\n(x)',
      'vs memcpy\n(x)',
      'Target',
      'Met',
    ],
    ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'left', 'left'],
  );
  let last = '';
  for (const c of cases) {
    const target = targetsByRow.get(c);
    const label = `${c.group}\u0000${c.variant}`;
    t.push([
      label === last ? '' : c.group,
      label === last ? '' : c.variant,
      c.implementation,
      sig(c.medianMs * 1000),
      sig(c.gbPerSec),
      fixed(c.rmePercent, 1),
      sig(c.timesTsReference),
      sig(c.timesMemcpy),
      target ? describeTarget(target) : '',
      target ? metText(target.met) : '',
    ]);
    last = label;
  }
  return t.toString();
}

export function formatTargetsTable(targets: readonly TargetResult[]): string {
  const t = newTable(['Target', 'Required', 'Measured', 'Met'], ['left', 'left', 'right', 'left']);
  for (const x of targets) {
    const measured = x.measured === null ? (x.note ?? 'not measured') : `${sig(x.measured)} ${x.unit}`;
    t.push([x.name, describeTarget(x), measured, metText(x.met)]);
  }
  return t.toString();
}

export interface BenchDocument<C> {
  schemaVersion: typeof BENCH_SCHEMA_VERSION;
  tool: 'migbench';
  suite: 'kernels' | 'e2e';
  startedAt: string;
  environment: BenchEnvironment;
  /** How the numbers were taken, in words (what GB/s counts, which statistic, cache state). */
  method: string[];
  cases: C[];
  targets: TargetResult[];
  /** Benchmarks the issue asks for that cannot run yet, and why. */
  missing: { name: string; reason: string }[];
}

export function toJson<C>(doc: BenchDocument<C>): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
