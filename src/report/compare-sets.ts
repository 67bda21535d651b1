/**
 * Comparing sets of results (`migbench compare A B` where A or B is a suite's results.jsonl, a suite
 * folder, or `run --runs N --export-json`): per configuration found on both sides (a suite's
 * configuration id, or the one configuration of a set of repeats), each summary metric's mean ±
 * standard deviation and n on each side, B − A and B / A of the means. As text, JSON, CSV or Markdown.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { InputFileProblem, readInputFile } from '../util/input-file.js';
import path from 'node:path';
import { RESULT_SCHEMA_VERSION, type MigrationResult } from '../result/schema.js';
import { METRICS, SUMMARY_METRICS } from '../suite/metrics.js';
import { statsOf, formatNumber, type Stats } from '../suite/summary.js';
import { outliers, verdictOf } from './verdict.js';
import { ResultFileError } from './compare.js';
import { newTable } from './human.js';

export interface ResultSet {
  source: string;
  /** By configuration: its label (the varied options) and its completed results. */
  groups: Map<string, { label: string; results: MigrationResult[]; failed: number }>;
}

export interface SetMeasure {
  config: string;
  measure: string;
  a: Stats | undefined;
  b: Stats | undefined;
  difference: number | undefined;
  ratio: number | undefined;
  /** The ratio's standard deviation, propagated from each side's (hyperfine's way). */
  ratioSd: number | undefined;
  /** In words: which is faster (or lower) and by how much, or that the difference is within the noise. */
  verdict: string;
  /** Runs whose value is far from the rest (modified z-score over 3.5), per side. */
  outliers: { a: number[]; b: number[] };
}

export interface SetComparison {
  a: string;
  b: string;
  measures: SetMeasure[];
  /** Configurations on one side only. */
  onlyA: string[];
  onlyB: string[];
}

/** Whether a path names a set rather than one result: a folder, a .jsonl file, or a `--runs` export. */
export async function isResultSet(file: string): Promise<boolean> {
  const s = await stat(file).catch(() => null);
  if (s?.isDirectory()) return true;
  if (file.endsWith('.jsonl')) return true;
  // Its first bytes say: a run set starts {"kind": "runs" (a device or a huge file is not read on).
  const head = await open(file, 'r')
    .then(async (h) => {
      try {
        const b = Buffer.alloc(256);
        const { bytesRead } = await h.read(b, 0, b.length, 0);
        return b.subarray(0, bytesRead).toString('utf8');
      } finally {
        await h.close();
      }
    })
    .catch(() => '');
  return /^\s*\{\s*"kind"\s*:\s*"runs"/.test(head);
}

const check = (r: Partial<MigrationResult>, where: string): MigrationResult => {
  if (r.tool !== 'migbench' || typeof r.totals !== 'object')
    throw new ResultFileError(`${where} is not a migbench result`);
  if (r.schemaVersion !== RESULT_SCHEMA_VERSION)
    throw new ResultFileError(
      `${where} is a result of schema version ${JSON.stringify(r.schemaVersion)}; this migbench reads version ${RESULT_SCHEMA_VERSION}`,
    );
  return r as MigrationResult;
};

export async function readResultSet(source: string): Promise<ResultSet> {
  const s = await stat(source).catch(() => null);
  if (s === null) throw new ResultFileError(`cannot read ${source}: no such file or folder`);
  const file = s.isDirectory() ? path.join(source, 'results.jsonl') : source;
  const jsonl = file.endsWith('.jsonl');
  // A suite's records line by line from a stream (any size); a run set whole, bounded.
  const lines = jsonl ? createInterface({ input: createReadStream(file), crlfDelay: Infinity }) : null;
  const text = jsonl
    ? ''
    : await readInputFile(file).catch((e: unknown) => {
        throw new ResultFileError(`cannot read ${file}: ${e instanceof InputFileProblem ? e.message : String(e)}`);
      });
  const groups: ResultSet['groups'] = new Map();
  const add = (key: string, label: string, r: MigrationResult | undefined, failed: boolean): void => {
    const g = groups.get(key) ?? { label, results: [], failed: 0 };
    if (r !== undefined && !failed) g.results.push(r);
    else g.failed++;
    groups.set(key, g);
  };
  if (lines !== null) {
    // The last record of each run id, grouped by configuration.
    const latest = new Map<
      string,
      { configId: string; varied: Record<string, string>; status: string; result?: Partial<MigrationResult> }
    >();
    const each = async function* (): AsyncGenerator<string> {
      try {
        for await (const line of lines) yield line;
      } catch (e) {
        throw new ResultFileError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
    };
    for await (const line of each()) {
      if (line.trim() === '') continue;
      try {
        const rec = JSON.parse(line) as {
          runId?: string;
          configId?: string;
          varied?: Record<string, string>;
          status: string;
          result?: Partial<MigrationResult>;
        };
        if (typeof rec.runId === 'string' && typeof rec.configId === 'string')
          latest.set(rec.runId, {
            configId: rec.configId,
            varied: rec.varied ?? {},
            status: rec.status,
            result: rec.result,
          });
      } catch {
        // a torn line
      }
    }
    if (latest.size === 0) throw new ResultFileError(`${file} holds no suite records`);
    for (const rec of latest.values()) {
      const label =
        Object.entries(rec.varied)
          .map(([k, v]) => `${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}=${v}`)
          .join(', ') || 'all';
      add(
        rec.configId,
        label,
        rec.result === undefined ? undefined : check(rec.result, file),
        rec.status !== 'completed',
      );
    }
  } else {
    let value: { kind?: string; runs?: Partial<MigrationResult>[] };
    try {
      value = JSON.parse(text) as typeof value;
    } catch {
      throw new ResultFileError(`${file} is not JSON`);
    }
    if (value.kind !== 'runs' || !Array.isArray(value.runs))
      throw new ResultFileError(
        `${file} is not a set of results (a suite's results.jsonl or folder, or run --runs --export-json)`,
      );
    for (const r of value.runs) add('runs', 'all', check(r, file), r.status !== 'completed');
  }
  return { source, groups };
}

const MEASURES = METRICS.filter((m) => SUMMARY_METRICS.includes(m.name));

export function compareSets(a: ResultSet, b: ResultSet): SetComparison {
  let pairs: [string, string, string][] = [...a.groups.keys()]
    .filter((k) => b.groups.has(k))
    .map((k) => [k, k, a.groups.get(k)!.label]);
  // One configuration on each side (two sets of repeats): they are what is compared.
  if (pairs.length === 0 && a.groups.size === 1 && b.groups.size === 1) {
    const [ka] = a.groups.keys();
    const [kb] = b.groups.keys();
    pairs = [
      [ka, kb, a.groups.get(ka)!.label === 'all' ? 'all' : `${a.groups.get(ka)!.label} vs ${b.groups.get(kb)!.label}`],
    ];
  }
  const measures: SetMeasure[] = [];
  for (const [ka, kb, label] of pairs) {
    for (const m of MEASURES) {
      const values = (rs: MigrationResult[]): number[] =>
        rs
          .map((r) => m.value(r))
          .filter((v): v is number => v !== undefined)
          .map((v) => v * m.displayScale);
      const va = values(a.groups.get(ka)!.results);
      const vb = values(b.groups.get(kb)!.results);
      const sa = statsOf(va);
      const sb = statsOf(vb);
      const ratio = sa && sb && sa.mean !== 0 ? sb.mean / sa.mean : undefined;
      const ratioSd =
        ratio !== undefined && sa && sb && sb.mean !== 0
          ? Math.abs(ratio) * Math.hypot(sa.sd / sa.mean, sb.sd / sb.mean)
          : undefined;
      measures.push({
        config: label,
        measure: m.label,
        a: sa,
        b: sb,
        difference: sa && sb ? sb.mean - sa.mean : undefined,
        ratio,
        ratioSd,
        verdict: verdictOf(m.name, sa, sb),
        outliers: { a: outliers(va), b: outliers(vb) },
      });
    }
  }
  const pairedA = new Set(pairs.map((p) => p[0]));
  const pairedB = new Set(pairs.map((p) => p[1]));
  return {
    a: a.source,
    b: b.source,
    measures,
    onlyA: [...a.groups].filter(([k]) => !pairedA.has(k)).map(([, g]) => g.label),
    onlyB: [...b.groups].filter(([k]) => !pairedB.has(k)).map(([, g]) => g.label),
  };
}

const cell = (s: Stats | undefined): string =>
  s === undefined ? '-' : `${formatNumber(s.mean)} ± ${formatNumber(s.sd)} (n=${s.n})`;
const HEAD = ['Configuration', 'Measure', 'A: mean ± sd (n)', 'B: mean ± sd (n)', 'B − A', 'B / A ± sd'];

function rows(c: SetComparison): string[][] {
  return c.measures.map((m) => [
    m.config,
    m.measure,
    cell(m.a),
    cell(m.b),
    m.difference === undefined ? '-' : formatNumber(m.difference),
    m.ratio === undefined ? '-' : `${m.ratio.toFixed(3)} ± ${(m.ratioSd ?? 0).toFixed(3)}`,
  ]);
}

/** The verdict of each measure, and a warning for each side with outliers. */
function verdictLines(c: SetComparison): string[] {
  const lines: string[] = [];
  for (const m of c.measures) {
    lines.push(`${m.measure}${m.config === 'all' ? '' : `, ${m.config}`}: ${m.verdict}`);
    for (const [side, values] of [
      ['A', m.outliers.a],
      ['B', m.outliers.b],
    ] as const) {
      if (values.length > 0)
        lines.push(
          `  warning: ${side} has ${values.length} outlier${values.length === 1 ? '' : 's'} (${values.map(formatNumber).join(', ')}): runs disturbed by other work? Rerun on a quiet machine, or compare the medians`,
        );
    }
  }
  return lines;
}

function onlyLines(c: SetComparison): string[] {
  return [
    ...(c.onlyA.length > 0 ? [`only in A (${c.a}): ${c.onlyA.join('; ')}`] : []),
    ...(c.onlyB.length > 0 ? [`only in B (${c.b}): ${c.onlyB.join('; ')}`] : []),
  ];
}

export function formatSetComparison(c: SetComparison): string {
  const t = newTable(HEAD, ['left', 'left', 'right', 'right', 'right', 'right']);
  for (const r of rows(c)) t.push(r);
  return [`A: ${c.a}`, `B: ${c.b}`, t.toString(), '', ...verdictLines(c), ...onlyLines(c)].join('\n');
}

export function setComparisonMarkdown(c: SetComparison): string {
  const esc = (x: string): string => x.replace(/\|/g, '\\|');
  return `${[`A: ${c.a}  `, `B: ${c.b}`, '', `| ${HEAD.join(' | ')} |`, '| --- | --- | ---: | ---: | ---: | ---: |', ...rows(c).map((r) => `| ${r.map(esc).join(' | ')} |`), '', ...verdictLines(c).map((l) => `- ${l.trim()}`), ...onlyLines(c).map((l) => `\n${l}`)].join('\n')}\n`;
}

export function setComparisonCsv(c: SetComparison): string {
  const q = (x: string): string => (/[",\n]/.test(x) ? `"${x.replace(/"/g, '""')}"` : x);
  const head = [
    'configuration',
    'measure',
    'a_n',
    'a_mean',
    'a_sd',
    'a_min',
    'a_median',
    'a_max',
    'b_n',
    'b_mean',
    'b_sd',
    'b_min',
    'b_median',
    'b_max',
    'difference',
    'ratio',
    'ratio_sd',
    'verdict',
  ];
  const num = (x: number | undefined): string => (x === undefined ? '' : String(x));
  const side = (s: Stats | undefined): string[] =>
    s === undefined ? ['0', '', '', '', '', ''] : [String(s.n), ...[s.mean, s.sd, s.min, s.median, s.max].map(num)];
  return `${[head.join(','), ...c.measures.map((m) => [q(m.config), q(m.measure), ...side(m.a), ...side(m.b), num(m.difference), num(m.ratio), num(m.ratioSd), q(m.verdict)].join(','))].join('\n')}\n`;
}
