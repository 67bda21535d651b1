/**
 * Calibration suites (`kind: calibration`): a matrix of scenarios, each run on the real QEMU and in
 * migbench alike, resumably (results.jsonl, one record per run; a run already recorded is not run
 * again), with each QEMU run kept as a reference in references/ and a summary (QEMU against
 * migbench per scenario, the median errors per kind) in summary.md and report.html.
 *
 *   name: my-host
 *   kind: calibration
 *   accel: tcg                # the machine: accel, qemu, kernel, initrd (else calibrate's defaults)
 *   base: { ram: 128MiB, wss: 64MiB, max-bandwidth: 32MiB/s }
 *   matrix: { dirty-rate: [1000pages/s, 4000pages/s], downtime-limit: [300ms, 50ms] }
 *   repeat: 1
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import { readYamlFile } from '../evacuate/host-file.js';
import { SuiteError } from '../suite/parse.js';
import { quantile } from '../suite/summary.js';
import { CALIBRATE_DEFAULTS, CALIBRATE_KEYS, scenarioOf, type CalibrateOptions } from './options.js';
import type { Scenario } from './scenario.js';
import type { Calibration } from './compare.js';
import type { CalibrationReference } from './scenario.js';
import { formatMs } from '../util/format.js';

const TOP_KEYS = ['name', 'kind', 'description', 'accel', 'qemu', 'kernel', 'initrd', 'base', 'matrix', 'repeat'];
const MAX_BYTES = 64 * 1024;
const MAX_RUNS = 1000;

export function isCalibrationSuite(text: string): boolean {
  return /^kind:\s*calibration\s*$/m.test(text);
}

export interface CalibrationRun {
  runId: string;
  repeat: number;
  /** The varied options as written, kebab-case. */
  varied: Record<string, string>;
  scenario: Scenario;
}

export interface CalibrationPlan {
  name: string;
  description: string;
  file: string;
  machine: { accel?: string; qemu?: string; kernel?: string; initrd?: string };
  runs: CalibrationRun[];
}

const camel = (k: string): string => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function planCalibrationSuite(text: string, file: string): CalibrationPlan {
  const { root, lineOf, fail } = readYamlFile(text, file, MAX_BYTES, 'a calibration suite');
  if (!isMap(root)) return fail(root, undefined, 'a calibration suite is a mapping');
  const get = (key: string): Node | undefined =>
    ((root as YAMLMap).items.find((p) => isScalar(p.key) && p.key.value === key)?.value ?? undefined) as
      Node | undefined;
  for (const p of (root as YAMLMap).items) {
    const k = isScalar(p.key) ? String(p.key.value) : '';
    if (!TOP_KEYS.includes(k)) fail(p.key as Node, k, `unknown key; a calibration suite has ${TOP_KEYS.join(', ')}`);
  }
  const text1 = (key: string): string | undefined => {
    const n = get(key);
    if (n === undefined) return undefined;
    if (!isScalar(n)) return fail(n, key, 'a text');
    return String(n.value);
  };
  const name = text1('name') ?? fail(root, 'name', 'missing: a suite needs a name');
  const options = (node: Node | undefined, at: string, list: boolean): [string, { text: string; line: number }[]][] => {
    if (node === undefined) return [];
    if (!isMap(node)) return fail(node, at, 'a mapping of calibrate options, such as { ram: 128MiB }');
    return node.items.map((p) => {
      const k = isScalar(p.key) ? String(p.key.value) : '';
      if (!(CALIBRATE_KEYS as readonly string[]).includes(camel(k)))
        fail(
          p.key as Node,
          `${at}.${k}`,
          `not a calibrate scenario option (${CALIBRATE_KEYS.join(', ')}, in kebab-case)`,
        );
      const v = p.value as Node;
      const items = list && isSeq(v) ? (v.items as Node[]) : [v];
      if (items.length === 0) fail(v, `${at}.${k}`, 'a list of values, or one value');
      return [
        k,
        items.map((n, i) => {
          if (!isScalar(n)) return fail(n, `${at}.${k}${list ? `[${i}]` : ''}`, 'a value');
          return { text: String(n.value), line: lineOf(n) ?? 0 };
        }),
      ] as [string, { text: string; line: number }[]];
    });
  };
  const base = options(get('base'), 'base', false);
  const axes = options(get('matrix'), 'matrix', true);
  const repeatNode = get('repeat');
  const repeat = repeatNode === undefined ? 1 : Number(isScalar(repeatNode) ? repeatNode.value : NaN);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 20) fail(repeatNode, 'repeat', 'a whole number from 1 to 20');
  // The cross product of the axes, each with the base under it.
  let combos: Record<string, { text: string; line: number }>[] = [{}];
  for (const [k, values] of axes) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [k]: v })));
  if (combos.length * repeat > MAX_RUNS)
    fail(get('matrix'), 'matrix', `${combos.length * repeat} runs; at most ${MAX_RUNS}`);
  const runs: CalibrationRun[] = [];
  combos.forEach((combo, i) => {
    const all = { ...Object.fromEntries(base.map(([k, v]) => [k, v[0]])), ...combo };
    const o: Record<string, string | boolean> = { ...CALIBRATE_DEFAULTS };
    for (const [k, v] of Object.entries(all)) o[camel(k)] = camel(k) === 'autoConverge' ? v.text === 'true' : v.text;
    let scenario: Scenario;
    try {
      scenario = scenarioOf(o as unknown as CalibrateOptions);
    } catch (e) {
      const flag = (e as { option?: string }).option?.slice(2);
      const at = flag === undefined ? undefined : all[flag];
      throw new SuiteError(file, at?.line, flag, (e as Error).message);
    }
    for (let r = 0; r < repeat; r++)
      runs.push({
        runId: `c${String(i + 1).padStart(4, '0')}${repeat > 1 ? `-r${r + 1}` : ''}`,
        repeat: r,
        varied: Object.fromEntries(Object.entries(combo).map(([k, v]) => [k, v.text])),
        scenario: { ...scenario, name: `${scenario.name}${repeat > 1 ? `_r${r + 1}` : ''}` },
      });
  });
  return {
    name,
    description: text1('description') ?? '',
    file,
    machine: { accel: text1('accel'), qemu: text1('qemu'), kernel: text1('kernel'), initrd: text1('initrd') },
    runs,
  };
}

/** A run's record in results.jsonl. */
export interface CalibrationRecord {
  runId: string;
  varied: Record<string, string>;
  status: 'completed' | 'failed';
  reason?: string;
  calibration?: Calibration;
  destinationSound?: boolean;
}

export function readCalibrationRecords(dir: string): Map<string, CalibrationRecord> {
  const file = path.join(dir, 'results.jsonl');
  const out = new Map<string, CalibrationRecord>();
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    try {
      const r = JSON.parse(line) as CalibrationRecord;
      if (typeof r.runId === 'string') out.set(r.runId, r);
    } catch {
      // a torn last line: that run is run again
    }
  }
  return out;
}

/** Appends a run's record, and keeps its QEMU run as a reference for npm run fidelity -- --references DIR/references. */
export function recordCalibration(dir: string, record: CalibrationRecord, reference?: CalibrationReference): void {
  mkdirSync(path.join(dir, 'references'), { recursive: true });
  if (reference)
    writeFileSync(path.join(dir, 'references', `${reference.name}.json`), `${JSON.stringify(reference, null, 1)}\n`);
  appendFileSync(path.join(dir, 'results.jsonl'), `${JSON.stringify(record)}\n`);
}

/** An absolute error as a percentage, without a sign. */
const share = (e: number | null): string => (e === null ? '–' : `${(e * 100).toFixed(1)} %`);
const pct = (e: number | null): string => (e === null ? '–' : `${e >= 0 ? '+' : ''}${(e * 100).toFixed(1)} %`);

function median(xs: number[]): number | null {
  return xs.length === 0
    ? null
    : quantile(
        [...xs].sort((x, y) => x - y),
        0.5,
      );
}

export interface CalibrationTables {
  head: string[];
  rows: string[][];
  kindHead: string[];
  kindRows: string[][];
}

/** QEMU against migbench per scenario, then per kind the median errors where both converged. */
export function calibrationTables(plan: CalibrationPlan, records: Map<string, CalibrationRecord>): CalibrationTables {
  const head = [
    'run',
    'scenario',
    'converged QEMU / mb',
    'total time QEMU / mb',
    'error',
    'bytes error',
    'syncs QEMU / mb',
    'downtime QEMU / mb',
  ];
  const rows: string[][] = [];
  const kinds = new Map<string, { time: number[]; bytes: number[]; syncs: number[]; matching: number; runs: number }>();
  for (const run of plan.runs) {
    const r = records.get(run.runId);
    const c = r?.calibration;
    if (r === undefined || c === undefined) {
      rows.push([run.runId, run.scenario.name, r ? `failed: ${r.reason ?? ''}` : 'not run', '', '', '', '', '']);
      continue;
    }
    const kind =
      run.scenario.multifd !== null ? 'multifd' : run.scenario.postcopyAfter !== null ? 'postcopy' : 'precopy';
    const k = kinds.get(kind) ?? { time: [], bytes: [], syncs: [], matching: 0, runs: 0 };
    k.runs++;
    if (c.qemu.converged === c.migbench.converged) k.matching++;
    if (c.errors.totalTime !== null) k.time.push(Math.abs(c.errors.totalTime));
    if (c.errors.bytes !== null) k.bytes.push(Math.abs(c.errors.bytes));
    if (c.errors.syncs !== null) k.syncs.push(Math.abs(c.errors.syncs));
    kinds.set(kind, k);
    const yn = (b: boolean): string => (b ? 'yes' : 'no');
    const ms = (x: number | null): string => (x === null ? '–' : formatMs(x));
    rows.push([
      run.runId,
      c.name,
      `${yn(c.qemu.converged)} / ${yn(c.migbench.converged)}`,
      `${formatMs(c.qemu.totalTimeMs)} / ${formatMs(c.migbench.totalTimeMs)}`,
      pct(c.errors.totalTime),
      pct(c.errors.bytes),
      `${c.qemu.syncs} / ${c.migbench.syncs}`,
      `${ms(c.qemu.downtimeMs)} / ${ms(c.migbench.downtimeMs)}`,
    ]);
  }
  const kindHead = ['kind', 'runs', 'verdicts matching', 'median abs. error: total time', 'bytes', 'syncs'];
  const kindRows = [...kinds].map(([kind, k]) => [
    kind,
    String(k.runs),
    `${k.matching} of ${k.runs}`,
    share(median(k.time)),
    share(median(k.bytes)),
    share(median(k.syncs)),
  ]);
  return { head, rows, kindHead, kindRows };
}

/** summary.md. */
export function calibrationSummary(plan: CalibrationPlan, t: CalibrationTables): string {
  const md = (head: string[], rows: string[][]): string[] => [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`),
  ];
  return `${[`# Calibration suite ${plan.name}`, '', ...(plan.description ? [plan.description, ''] : []), ...md(t.head, t.rows), '', '## Medians per kind', '', ...md(t.kindHead, t.kindRows)].join('\n')}\n`;
}
