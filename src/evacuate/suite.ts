/**
 * Evacuation suites: a suite file with `kind: evacuation` runs `migbench evacuate` configurations,
 * the matrix varying the host's options (the limit, the order, the NIC, the time limits) or run
 * options for every VM, over one host description (`host`, as a host file). Into DIR go
 * suite.json (the plan), results.jsonl (one line per finished evacuation, resumable as run suites
 * are), summary.md and summary.csv (per configuration: evacuation time, worst and summed downtime,
 * VMs left behind, bytes; mean and min-max over repeats; and, when the matrix varies
 * max-concurrent, which limit was fastest for the evacuation and for the worst downtime), and
 * report.html (those against max-concurrent, one line per setting of the rest, and the first
 * configuration's timeline and NIC).
 *
 *   name: evacuation
 *   kind: evacuation
 *   host: { vms: [...], every-vm: {...}, link: 10Gbit/s, clock: virtual }
 *   matrix: { max-concurrent: [1, 2, 4, 8], order: [listed, smallest-first] }
 *   repeat: 1
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { writeAtomically } from '../suite/outputs.js';
import path from 'node:path';
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import { SuiteError, MAX_SUITE_BYTES } from '../suite/parse.js';
import { OptionError } from '../util/errors.js';
import { hideSecrets } from '../suite/schema.js';
import { deriveSeed } from '../util/prng.js';
import {
  EVACUATION_KEYS,
  VM_OPTION_KEYS,
  evacuationFlag,
  resolveEvacuation,
  type EvacuationConfig,
  type EvacuationKey,
  type EvacuationText,
} from './config.js';
import { readHost, readYamlFile, placeError, type HostFile } from './host-file.js';
import type { EvacuationResult } from './result.js';
import type { RunOptionKey } from '../config/options.js';
import { findings, summarizeEvacuations, summaryCells, type EvacuationSummaryRow } from './summary.js';

export interface EvacuationSuiteSpec {
  name: string;
  description: string;
  file: string;
  host: HostFile;
  /** One crossed block: each axis an evacuate option (kebab-case) or a run option for every VM. */
  axes: { key: string; values: { text: string; line: number }[] }[];
  repeat: number;
}

export interface EvacuationRun {
  runId: string;
  configId: string;
  repeat: number;
  /** The matrix values that made it, kebab-case keys. */
  varied: Record<string, string>;
  config: EvacuationConfig;
}

export interface EvacuationSuitePlan {
  kind: 'evacuation';
  planVersion: 1;
  name: string;
  description: string;
  file: string;
  reduced: boolean;
  repeat: number;
  variedKeys: string[];
  /** With --shard: which shard this folder holds (0-based) of how many, and its runs (the plan keeps every run). */
  shard?: { index: number; count: number; runIds: string[] };
  runs: EvacuationRun[];
}

export interface EvacuationRecord {
  recordVersion: 1;
  suite: string;
  runId: string;
  configId: string;
  repeat: number;
  varied: Record<string, string>;
  status: 'completed' | 'partial' | 'failed';
  reason?: string;
  finishedAt: string;
  wallMs: number;
  result?: EvacuationResult;
}

const TOP_KEYS = ['name', 'kind', 'description', 'host', 'matrix', 'repeat'] as const;
const MAX_RUNS = 1000;

/** Whether a suite file is an evacuation suite (`kind: evacuation`). */
export function isEvacuationSuite(text: string): boolean {
  return /^kind:\s*evacuation\s*$/m.test(text);
}

export function parseEvacuationSuite(text: string, file: string): EvacuationSuiteSpec {
  const { root, lineOf, fail } = readYamlFile(text, file, MAX_SUITE_BYTES, 'a suite file');
  if (!isMap(root)) return fail(root, undefined, 'a suite file is a mapping');
  const get = (key: string): Node | undefined =>
    ((root as YAMLMap).items.find((p) => isScalar(p.key) && p.key.value === key)?.value ?? undefined) as
      Node | undefined;
  for (const p of (root as YAMLMap).items) {
    const k = isScalar(p.key) ? String(p.key.value) : '';
    if (!(TOP_KEYS as readonly string[]).includes(k))
      fail(p.key as Node, k, `unknown key; an evacuation suite has ${TOP_KEYS.join(', ')}`);
  }
  const str = (key: string, required: boolean): string => {
    const n = get(key);
    if (n === undefined) return required ? fail(root, key, `missing: an evacuation suite needs its ${key}`) : '';
    if (!isScalar(n)) return fail(n, key, 'a text');
    return String(n.value);
  };
  const name = str('name', true);
  const description = str('description', false);
  const hostNode = get('host');
  if (hostNode === undefined) fail(root, 'host', 'missing: the source host (vms, every-vm and evacuate options)');
  const host = readHost(hostNode as Node, file, lineOf, fail, 'host.');
  const axes: EvacuationSuiteSpec['axes'] = [];
  const matrix = get('matrix');
  if (matrix !== undefined) {
    if (!isMap(matrix))
      fail(matrix, 'matrix', 'a mapping of options to lists of values, such as { max-concurrent: [1, 2, 4] }');
    for (const p of (matrix as YAMLMap).items) {
      const k = isScalar(p.key) ? String(p.key.value) : '';
      const camel = k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      if (!(EVACUATION_KEYS as readonly string[]).includes(camel) && !VM_OPTION_KEYS.includes(camel as RunOptionKey)) {
        fail(p.key as Node, `matrix.${k}`, 'not an evacuate option nor a run option for every VM');
      }
      if (camel === 'target') fail(p.key as Node, `matrix.${k}`, "the targets are the host's");
      const list = p.value as Node;
      if (!isSeq(list) || list.items.length === 0)
        fail(list ?? (p.key as Node), `matrix.${k}`, 'a list of values such as [1, 2, 4]');
      const values = (list as unknown as { items: Node[] }).items.map((n, i) => {
        if (!isScalar(n)) return fail(n, `matrix.${k}[${i}]`, 'a value');
        return { text: String(n.value), line: lineOf(n) ?? 0 };
      });
      axes.push({ key: k, values });
    }
  }
  const repeatText = get('repeat');
  const repeat = repeatText === undefined ? 1 : Number(isScalar(repeatText) ? repeatText.value : NaN);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 100)
    fail(repeatText, 'repeat', 'a whole number from 1 to 100');
  return { name, description, file, host, axes, repeat };
}

export interface EvacuationPlanOptions {
  reduce?: boolean;
  clock?: 'real' | 'virtual';
}

/** Guests of a reduced evacuation: the largest VM shrinks to this; the others keep their ratio to it. */
const REDUCED_LARGEST_BYTES = 32 * 2 ** 20;
/** As run suites (src/suite/reduce.ts): rates shrink 8 times less than RAM, so each run is about 8 times shorter. */
const REDUCED_TIME_FACTOR = 8;

export function planEvacuationSuite(spec: EvacuationSuiteSpec, opts: EvacuationPlanOptions = {}): EvacuationSuitePlan {
  const axes = opts.reduce
    ? spec.axes.map((a) => ({ ...a, values: [a.values[0], a.values[a.values.length - 1]] }))
    : spec.axes;
  let combos: { key: string; text: string; line: number }[][] = [[]];
  for (const a of axes)
    combos = combos.flatMap((c) => a.values.map((v) => [...c, { key: a.key, text: v.text, line: v.line }]));
  if (opts.reduce) combos = combos.filter((c, i) => i === 0 || i === combos.length - 1);
  const repeat = opts.reduce ? 1 : spec.repeat;
  if (combos.length * repeat > MAX_RUNS)
    throw new SuiteError(
      spec.file,
      undefined,
      'matrix',
      `${combos.length} configurations x ${repeat} repeats; at most ${MAX_RUNS} evacuations`,
    );
  const configs = combos.map((combo) => {
    const text = withValues(spec.host.text, combo);
    if (opts.clock) text.host.clock = opts.clock;
    let config = resolveAt(spec, text, combo);
    if (opts.reduce) config = resolveAt(spec, reduceText(text, config), combo);
    const varied = Object.fromEntries(combo.map((c) => [c.key, c.text]));
    return { varied, config, configId: configIdOf(config) };
  });
  const runs: EvacuationRun[] = [];
  for (let r = 0; r < repeat; r++) {
    for (const c of configs) {
      // A repeat's VMs get other seeds: their content and their writes differ.
      const config = r === 0 ? c.config : reseed(c.config, r);
      runs.push({ runId: `${c.configId}-r${r}`, configId: c.configId, repeat: r, varied: c.varied, config });
    }
  }
  return {
    kind: 'evacuation',
    planVersion: 1,
    name: spec.name,
    description: spec.description,
    file: spec.file,
    reduced: opts.reduce === true,
    repeat,
    variedKeys: axes.map((a) => a.key),
    runs,
  };
}

function reseed(config: EvacuationConfig, repeat: number): EvacuationConfig {
  return {
    ...config,
    vms: config.vms.map((vm) => ({
      ...vm,
      config: { ...vm.config, writeSeed: deriveSeed(vm.config.seed, 0x7e9e_0000 + repeat) },
    })),
  };
}

function withValues(base: EvacuationText, combo: { key: string; text: string }[]): EvacuationText {
  const text: EvacuationText = {
    host: { ...base.host },
    common: { ...base.common },
    vms: base.vms.map((v) => ({ ...v, options: { ...v.options } })),
    baseDir: base.baseDir,
  };
  for (const { key, text: value } of combo) {
    const camel = key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if ((EVACUATION_KEYS as readonly string[]).includes(camel)) (text.host as Record<string, string>)[camel] = value;
    else text.common[camel] = value;
  }
  return text;
}

function resolveAt(
  spec: EvacuationSuiteSpec,
  text: EvacuationText,
  combo: { key: string; line: number }[],
): EvacuationConfig {
  try {
    return resolveEvacuation(text);
  } catch (e) {
    if (!(e instanceof OptionError)) throw e;
    const axis = combo.find(
      (c) =>
        evacuationFlag(c.key.replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase()) as EvacuationKey) === e.option,
    );
    if (axis) throw new SuiteError(spec.file, axis.line, `matrix.${axis.key}`, e.message);
    const placed = placeError(e, spec.host);
    throw placed instanceof SuiteError ? placed : new SuiteError(spec.file, undefined, 'host', e.message);
  }
}

/** The evacuation shrunk: the largest VM to 32 MiB, every VM by the same factor; rates by 8 times that. */
function reduceText(text: EvacuationText, config: EvacuationConfig): EvacuationText {
  const largest = Math.max(...config.vms.map((v) => v.config.ramBytes));
  const ramFactor = Math.min(1, REDUCED_LARGEST_BYTES / largest);
  const rateFactor = Math.min(1, ramFactor * REDUCED_TIME_FACTOR);
  const out: EvacuationText = {
    host: { ...text.host },
    common: { ...text.common },
    vms: text.vms.map((v) => ({ ...v, options: { ...v.options } })),
    baseDir: text.baseDir,
  };
  const scaleBits = (bits: number | null): string | undefined =>
    bits === null ? undefined : `${Math.max(1, Math.round(bits * rateFactor))}bit/s`;
  out.host.link = scaleBits(config.nicBitsPerSec) ?? 'unlimited';
  if (config.backgroundBitsPerSec > 0) out.host.background = scaleBits(config.backgroundBitsPerSec);
  if (config.bandwidthPerMigrationBitsPerSec !== null)
    out.host.bandwidthPerMigration = scaleBits(config.bandwidthPerMigrationBitsPerSec);
  delete out.common.ram;
  delete out.common.dirtyRate;
  config.vms.forEach((vm, i) => {
    const page = vm.config.pageSizeBytes;
    out.vms[i].options.ram = String(Math.max(256 * page, Math.floor((vm.config.ramBytes * ramFactor) / page) * page));
    out.vms[i].options.dirtyRate =
      vm.config.pageWritesPerSec === 0
        ? '0'
        : `${Math.max(1, Math.round(vm.config.pageWritesPerSec * rateFactor))}pages/s`;
    if (vm.config.timeoutMs !== null)
      out.vms[i].options.timeout = `${Math.ceil(Math.min(15_000, vm.config.timeoutMs * (ramFactor / rateFactor)))}ms`;
  });
  return out;
}

function configIdOf(config: EvacuationConfig): string {
  return createHash('sha256').update(JSON.stringify(config, hideSecrets)).digest('hex').slice(0, 12);
}

// ------------------------------------------------------------------------------------- running

export type EvacuationSuiteEvent =
  | { kind: 'run-start'; run: EvacuationRun; index: number; toRun: number }
  | { kind: 'run-end'; run: EvacuationRun; record: EvacuationRecord; index: number; toRun: number; elapsedMs: number };

export interface EvacuationSuiteOutcome {
  planned: number;
  skipped: number;
  executed: number;
  interrupted: boolean;
  files: string[];
}

const RESULTS = 'results.jsonl';

export async function runEvacuationSuite(
  plan: EvacuationSuitePlan,
  opts: {
    outDir: string;
    toolVersion: string;
    signal?: AbortSignal;
    retryFailed?: boolean;
    onProgress?: (e: EvacuationSuiteEvent) => void;
  },
): Promise<EvacuationSuiteOutcome> {
  const { outDir } = opts;
  await mkdir(outDir, { recursive: true });
  const previous = await readJson<{ name?: string; reduced?: boolean }>(path.join(outDir, 'suite.json'));
  if (previous !== undefined && previous.name !== plan.name) {
    throw new SuiteError(
      outDir,
      undefined,
      undefined,
      `holds the results of suite "${previous.name}"; give suite "${plan.name}" another --out directory`,
    );
  }
  if (
    previous !== undefined &&
    JSON.stringify((previous as { shard?: unknown }).shard ?? null) !== JSON.stringify(plan.shard ?? null)
  ) {
    throw new SuiteError(
      outDir,
      undefined,
      undefined,
      `holds another share of suite "${plan.name}" (--shard); give it another --out directory`,
    );
  }
  if (previous !== undefined && (previous.reduced === true) !== plan.reduced) {
    throw new SuiteError(
      outDir,
      undefined,
      undefined,
      `holds the ${previous.reduced ? 'reduced (--reduce)' : 'full'} results of suite "${plan.name}"; give the ${plan.reduced ? 'reduced' : 'full'} run another --out directory`,
    );
  }
  await writeAtomically(path.join(outDir, 'suite.json'), `${JSON.stringify(plan, hideSecrets, 2)}\n`);
  const latest = await readEvacuationRecords(outDir);
  const mine = plan.shard ? new Set(plan.shard.runIds) : null;
  const toRun = plan.runs.filter((r) => {
    if (mine !== null && !mine.has(r.runId)) return false;
    const rec = latest.get(r.runId);
    return rec === undefined || (opts.retryFailed === true && rec.status !== 'completed');
  });
  const { runEvacuation } = await import('./evacuate.js');
  const t0 = performance.now();
  let executed = 0;
  let interrupted = false;
  for (const [i, run] of toRun.entries()) {
    if (opts.signal?.aborted) {
      interrupted = true;
      break;
    }
    opts.onProgress?.({ kind: 'run-start', run, index: i + 1, toRun: toRun.length });
    const w0 = performance.now();
    const base = {
      recordVersion: 1 as const,
      suite: plan.name,
      runId: run.runId,
      configId: run.configId,
      repeat: run.repeat,
      varied: run.varied,
    };
    let record: EvacuationRecord;
    try {
      const result = await runEvacuation(run.config, { signal: opts.signal });
      record = {
        ...base,
        status: result.status,
        finishedAt: new Date().toISOString(),
        wallMs: performance.now() - w0,
        result,
      };
      if (result.status !== 'completed')
        record.reason = `${result.host.leftBehind} VMs left behind: ${result.vms
          .filter((v) => v.status !== 'migrated')
          .map((v) => `${v.name}: ${v.reason}`)
          .join('; ')}`;
    } catch (e) {
      record = {
        ...base,
        status: 'failed',
        reason: `the evacuation stopped with an error: ${e instanceof Error ? e.message : String(e)}`,
        finishedAt: new Date().toISOString(),
        wallMs: performance.now() - w0,
      };
    }
    if (opts.signal?.aborted) {
      interrupted = true;
      break;
    }
    await appendFile(path.join(outDir, RESULTS), `${JSON.stringify(record, hideSecrets)}\n`);
    latest.set(run.runId, record);
    executed++;
    opts.onProgress?.({
      kind: 'run-end',
      run,
      record,
      index: i + 1,
      toRun: toRun.length,
      elapsedMs: performance.now() - t0,
    });
  }
  const files = await writeEvacuationOutputs(outDir, plan, latest, opts.toolVersion);
  const planned = mine === null ? plan.runs.length : mine.size;
  return { planned, skipped: planned - toRun.length, executed, interrupted, files };
}

export async function readEvacuationRecords(dir: string): Promise<Map<string, EvacuationRecord>> {
  const out = new Map<string, EvacuationRecord>();
  let text = '';
  try {
    text = await readFile(path.join(dir, RESULTS), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as EvacuationRecord;
      if (r.recordVersion === 1 && typeof r.runId === 'string') out.set(r.runId, r);
    } catch {
      // a torn last line: that run goes again
    }
  }
  return out;
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export function summaryMarkdownOf(plan: EvacuationSuitePlan, rows: EvacuationSummaryRow[]): string {
  const { head, rows: cells } = summaryCells(plan, rows);
  const md = [
    `# Evacuation suite ${plan.name}${plan.reduced ? ' (reduced)' : ''}`,
    '',
    plan.description,
    '',
    'Each cell: mean (min – max) over the completed evacuations of the configuration.',
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i < plan.variedKeys.length ? ' --- ' : ' ---: ')).join('|')}|`,
    ...cells.map((r) => `| ${r.join(' | ')} |`),
  ];
  const f = findings(plan, rows);
  if (f.length > 0) md.push('', '## Is one at a time fastest?', '', ...f);
  return `${md.join('\n')}\n`;
}

function summaryCsvOf(plan: EvacuationSuitePlan, rows: EvacuationSummaryRow[]): string {
  const head = [
    ...plan.variedKeys,
    'runs',
    'completed',
    ...['evacuation_s', 'worst_downtime_ms', 'downtime_sum_ms', 'left_behind', 'sent_gib'].flatMap((m) => [
      `${m}_mean`,
      `${m}_min`,
      `${m}_max`,
    ]),
  ];
  const q = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = rows.map((r) =>
    [
      ...plan.variedKeys.map((k) => q(r.varied[k] ?? '')),
      String(r.runs),
      String(r.completed),
      ...[r.evacuationS, r.worstDowntimeMs, r.sumDowntimeMs, r.leftBehind, r.sentGiB].flatMap((s) =>
        s === null ? ['', '', ''] : [s.mean, s.min, s.max].map(String),
      ),
    ].join(','),
  );
  return `${[head.join(','), ...lines].join('\n')}\n`;
}

export async function writeEvacuationOutputs(
  dir: string,
  plan: EvacuationSuitePlan,
  latest: ReadonlyMap<string, EvacuationRecord>,
  toolVersion: string,
): Promise<string[]> {
  const rows = summarizeEvacuations(plan, latest);
  const files = [path.join(dir, 'summary.csv'), path.join(dir, 'summary.md'), path.join(dir, 'report.html')];
  await writeAtomically(files[0], summaryCsvOf(plan, rows));
  await writeAtomically(files[1], summaryMarkdownOf(plan, rows));
  const { renderEvacuationSuiteHtml, suiteChartSpecs } = await import('../report/evacuation-suite.js');
  await writeAtomically(files[2], await renderEvacuationSuiteHtml(plan, rows, { toolVersion }));
  // The charts alone, for a README or a paper.
  const { renderSvg } = await import('../report/charts/render.js');
  const names = ['evacuation-time.svg', 'worst-downtime.svg', 'downtime-sum.svg'];
  for (const [i, spec] of suiteChartSpecs(plan, rows).entries()) {
    const file = path.join(dir, names[i]);
    await writeAtomically(
      file,
      `${(await renderSvg(spec)).replace('<svg', '<svg xmlns="http://www.w3.org/2000/svg"')}\n`,
    );
    files.push(file);
  }
  return files;
}

/** An evacuation's expected cost, for balancing shards: its guests' memories set up and sent about twice. */
export function evacuationCost(run: EvacuationRun): number {
  return run.config.vms.reduce((n, vm) => n + 3 * vm.config.ramBytes, 0);
}

/** The plan with this shard's share marked (src/suite/shard.ts splits it as for run suites). */
export function shardEvacuationPlan(
  plan: EvacuationSuitePlan,
  index: number,
  count: number,
  split: (runs: EvacuationRun[]) => EvacuationRun[][],
): EvacuationSuitePlan {
  return { ...plan, shard: { index, count, runIds: split(plan.runs)[index].map((r) => r.runId) } };
}

/** Merges the folders of a sharded evacuation suite into `out` (as src/suite/merge.ts does for run suites). */
export async function mergeEvacuationShards(
  folders: readonly string[],
  out: string,
  toolVersion: string,
): Promise<{ runs: number; records: number; missingShards: number[]; missingRuns: string[]; files: string[] }> {
  let plan: EvacuationSuitePlan | undefined;
  const seen = new Set<number>();
  const latest = new Map<string, EvacuationRecord>();
  for (const folder of folders) {
    const p = await readJson<EvacuationSuitePlan>(path.join(folder, 'suite.json'));
    if (p === undefined || p.kind !== 'evacuation')
      throw new SuiteError(folder, undefined, undefined, 'holds no evacuation suite plan (suite.json)');
    if (plan === undefined) plan = p;
    else if (p.name !== plan.name || p.runs.map((r) => r.runId).join(',') !== plan.runs.map((r) => r.runId).join(',')) {
      throw new SuiteError(
        folder,
        undefined,
        undefined,
        `holds another suite or another version of it than ${folders[0]}`,
      );
    }
    if (p.shard) seen.add(p.shard.index);
    for (const [id, rec] of await readEvacuationRecords(folder)) latest.set(id, rec);
  }
  const whole = { ...(plan as EvacuationSuitePlan) };
  const count = whole.shard?.count ?? 0;
  delete whole.shard;
  await mkdir(out, { recursive: true });
  await writeAtomically(path.join(out, 'suite.json'), `${JSON.stringify(whole, hideSecrets, 2)}\n`);
  await writeAtomically(
    path.join(out, RESULTS),
    [...latest.values()].map((r) => `${JSON.stringify(r, hideSecrets)}\n`).join(''),
  );
  const files = await writeEvacuationOutputs(out, whole, latest, toolVersion);
  return {
    runs: whole.runs.length,
    records: latest.size,
    missingShards: Array.from({ length: count }, (_, i) => i)
      .filter((i) => !seen.has(i))
      .map((i) => i + 1),
    missingRuns: whole.runs.filter((r) => !latest.has(r.runId)).map((r) => r.runId),
    files,
  };
}
