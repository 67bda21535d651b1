/**
 * Two results side by side (`migbench compare A.json B.json`): where their configurations and
 * machines differ, and every measure with B − A and B / A. A file may hold a MigrationResult (as
 * `run --json` or `--export-json` write it) or one suite record (a line of results.jsonl).
 */
import { InputFileProblem, readInputFile } from '../util/input-file.js';
import Table from 'cli-table3';
import { RESULT_SCHEMA_VERSION, type MigrationResult } from '../result/schema.js';
import { METRICS } from '../suite/metrics.js';
import { formatNumber, statsOf } from '../suite/summary.js';
import { verdictOf } from './verdict.js';

export interface FieldDifference {
  field: string;
  a: string;
  b: string;
}

export interface MeasureComparison {
  measure: string;
  a: number | undefined;
  b: number | undefined;
  /** b − a, in the measure's display unit. */
  difference: number | undefined;
  /** b / a; undefined when either is missing or a is 0. */
  ratio: number | undefined;
}

export interface ResultComparison {
  status: { a: string; b: string };
  config: FieldDifference[];
  environment: FieldDifference[];
  measures: MeasureComparison[];
}

/** A result file was not readable or not a result. */
export class ResultFileError extends Error {
  override readonly name = 'ResultFileError';
}

export async function readResultFile(file: string): Promise<MigrationResult> {
  let text: string;
  try {
    text = await readInputFile(file);
  } catch (e) {
    throw new ResultFileError(`cannot read ${file}: ${e instanceof InputFileProblem ? e.message : String(e)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ResultFileError(
      `${file} is not JSON; give a result written by 'migbench run --json' or --export-json, or one line of a suite's results.jsonl`,
    );
  }
  const candidate = (value as { result?: unknown } | null)?.result ?? value;
  const r = candidate as Partial<MigrationResult> | null;
  if (
    r === null ||
    typeof r !== 'object' ||
    r.tool !== 'migbench' ||
    typeof r.totals !== 'object' ||
    !Array.isArray(r.iterations)
  ) {
    throw new ResultFileError(`${file} is not a migbench result (or a suite record with one)`);
  }
  if (r.schemaVersion !== RESULT_SCHEMA_VERSION) {
    throw new ResultFileError(
      `${file} is a result of schema version ${JSON.stringify(r.schemaVersion)}; this migbench reads version ${RESULT_SCHEMA_VERSION}`,
    );
  }
  return r as MigrationResult;
}

export function compareResults(a: MigrationResult, b: MigrationResult): ResultComparison {
  const measures: MeasureComparison[] = [];
  for (const m of METRICS) {
    const raw = [m.value(a), m.value(b)];
    if (raw[0] === undefined && raw[1] === undefined) continue;
    const [va, vb] = raw.map((v) => (v === undefined ? undefined : v * m.displayScale));
    measures.push({
      measure: m.label,
      a: va,
      b: vb,
      difference: va === undefined || vb === undefined ? undefined : vb - va,
      ratio: va === undefined || vb === undefined || va === 0 ? undefined : vb / va,
    });
  }
  return {
    status: { a: statusOf(a), b: statusOf(b) },
    config: differences(a.config, b.config),
    environment: differences(a.environment, b.environment),
    measures,
  };
}

function statusOf(r: MigrationResult): string {
  return r.status === 'completed' ? `completed${r.verified ? ', verified' : ''}` : `failed: ${r.reason ?? ''}`;
}

function differences(a: unknown, b: unknown): FieldDifference[] {
  const fa = flatten(a);
  const fb = flatten(b);
  const fields = [...new Set([...Object.keys(fa), ...Object.keys(fb)])];
  return fields
    .filter((f) => JSON.stringify(fa[f]) !== JSON.stringify(fb[f]))
    .map((f) => ({ field: f, a: show(fa[f]), b: show(fb[f]) }));
}

function show(v: unknown): string {
  if (v === undefined) return '(absent)';
  if (typeof v === 'number') return formatNumber(v);
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix === '' ? k : `${prefix}.${k}`, out);
  } else if (prefix !== '') {
    out[prefix] = value;
  }
  return out;
}

/** 1.23×; ∞ and – where a ratio has no meaning. */
export function formatRatio(ratio: number | undefined): string {
  if (ratio === undefined) return '–';
  return `${ratio >= 100 ? ratio.toFixed(0) : ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}×`;
}

function signed(v: number | undefined): string {
  if (v === undefined) return '–';
  return `${v > 0 ? '+' : ''}${formatNumber(v)}`;
}

export function formatComparison(c: ResultComparison, names: { a: string; b: string }): string {
  const out: string[] = [`A  ${names.a} · ${c.status.a}`, `B  ${names.b} · ${c.status.b}`, ''];
  const table = (head: string[], rows: string[][], right: number): string => {
    const t = new Table({
      head,
      colAligns: head.map((_, i) => (i >= right ? 'right' : 'left')),
      style: { head: [], border: [], compact: true },
    });
    t.push(...rows);
    return t.toString();
  };
  if (c.config.length === 0) out.push('Configuration: identical');
  else
    out.push(
      'Configuration differences',
      table(
        ['Field', 'A', 'B'],
        c.config.map((d) => [d.field, d.a, d.b]),
        9,
      ),
    );
  if (c.environment.length > 0) {
    out.push(
      '',
      'Machine differences (real-clock figures depend on them)',
      table(
        ['Field', 'A', 'B'],
        c.environment.map((d) => [d.field, d.a, d.b]),
        9,
      ),
    );
  }
  out.push(
    '',
    'Measures',
    table(
      ['Measure (unit)', 'A', 'B', 'B − A', 'B / A'],
      c.measures.map((m) => [
        m.measure,
        m.a === undefined ? '–' : formatNumber(m.a),
        m.b === undefined ? '–' : formatNumber(m.b),
        signed(m.difference),
        formatRatio(m.ratio),
      ]),
      1,
    ),
  );
  // The headline, in words; one run a side has no spread, so the noise cannot be judged here.
  const lines = ['total-time', 'downtime'].flatMap((name) => {
    const metric = METRICS.find((m) => m.name === name)!;
    const m = c.measures.find((x) => x.measure === metric.label);
    if (m?.a === undefined || m.b === undefined) return [];
    return [`${metric.label}: ${verdictOf(name, statsOf([m.a]), statsOf([m.b]))}`];
  });
  if (lines.length > 0)
    out.push('', ...lines, 'For the noise, compare sets of repeats: run --runs N --export-json, or suite folders.');
  return out.join('\n');
}
