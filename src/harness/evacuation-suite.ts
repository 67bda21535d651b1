/**
 * Running an evacuation suite (its plan: src/evacuate/suite.ts): each planned evacuation in turn
 * into DIR/results.jsonl, resumable; the summaries, the report and the charts; merging a sharded
 * suite's folders.
 */
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { writeAtomically } from '../suite/outputs.js';
import { SuiteError } from '../suite/parse.js';
import { hideSecrets } from '../suite/schema.js';
import { runEvacuation } from '../evacuate/evacuate.js';
import { findings, summarizeEvacuations, summaryCells, type EvacuationSummaryRow } from '../evacuate/summary.js';
import type { EvacuationRecord, EvacuationRun, EvacuationSuitePlan } from '../evacuate/suite.js';

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

export interface RunEvacuationSuiteOptions {
  outDir: string;
  toolVersion: string;
  signal?: AbortSignal;
  retryFailed?: boolean;
  onProgress?: (e: EvacuationSuiteEvent) => void;
}

export async function runEvacuationSuite(
  plan: EvacuationSuitePlan,
  opts: RunEvacuationSuiteOptions,
): Promise<EvacuationSuiteOutcome> {
  const { outDir } = opts;
  await mkdir(outDir, { recursive: true });
  await checkOutDir(outDir, plan);
  await writeAtomically(path.join(outDir, 'suite.json'), `${JSON.stringify(plan, hideSecrets, 2)}\n`);
  const latest = await readEvacuationRecords(outDir);
  const mine = plan.shard ? new Set(plan.shard.runIds) : null;
  const toRun = plan.runs.filter((r) => {
    if (mine !== null && !mine.has(r.runId)) return false;
    const rec = latest.get(r.runId);
    return rec === undefined || (opts.retryFailed === true && rec.status !== 'completed');
  });
  const t0 = performance.now();
  let executed = 0;
  let interrupted = false;
  for (const [i, run] of toRun.entries()) {
    if (opts.signal?.aborted) {
      interrupted = true;
      break;
    }
    opts.onProgress?.({ kind: 'run-start', run, index: i + 1, toRun: toRun.length });
    const record = await evacuate(plan, run, opts.signal);
    if (opts.signal?.aborted) {
      interrupted = true;
      break;
    }
    await appendFile(path.join(outDir, RESULTS), `${JSON.stringify(record, hideSecrets)}\n`);
    latest.set(run.runId, record);
    executed++;
    const elapsedMs = performance.now() - t0;
    opts.onProgress?.({ kind: 'run-end', run, record, index: i + 1, toRun: toRun.length, elapsedMs });
  }
  const files = await writeEvacuationOutputs(outDir, plan, latest, opts.toolVersion);
  const planned = mine === null ? plan.runs.length : mine.size;
  return { planned, skipped: planned - toRun.length, executed, interrupted, files };
}

/** A folder of another suite, another share of it, or the other of full and reduced, is refused. */
async function checkOutDir(outDir: string, plan: EvacuationSuitePlan): Promise<void> {
  const previous = await readJson<{ name?: string; reduced?: boolean; shard?: unknown }>(
    path.join(outDir, 'suite.json'),
  );
  if (previous === undefined) return;
  const refuse = (why: string): never => {
    throw new SuiteError(outDir, undefined, undefined, why);
  };
  if (previous.name !== plan.name)
    refuse(`holds the results of suite "${previous.name}"; give suite "${plan.name}" another --out directory`);
  if (JSON.stringify(previous.shard ?? null) !== JSON.stringify(plan.shard ?? null))
    refuse(`holds another share of suite "${plan.name}" (--shard); give it another --out directory`);
  if ((previous.reduced === true) !== plan.reduced)
    refuse(
      `holds the ${previous.reduced ? 'reduced (--reduce)' : 'full'} results of suite "${plan.name}"; give the ${plan.reduced ? 'reduced' : 'full'} run another --out directory`,
    );
}

/** One planned evacuation, as its record. */
async function evacuate(
  plan: EvacuationSuitePlan,
  run: EvacuationRun,
  signal?: AbortSignal,
): Promise<EvacuationRecord> {
  const w0 = performance.now();
  const base = {
    recordVersion: 1 as const,
    suite: plan.name,
    runId: run.runId,
    configId: run.configId,
    repeat: run.repeat,
    varied: run.varied,
  };
  try {
    const result = await runEvacuation(run.config, { signal });
    const record: EvacuationRecord = {
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
    return record;
  } catch (e) {
    return {
      ...base,
      status: 'failed',
      reason: `the evacuation stopped with an error: ${e instanceof Error ? e.message : String(e)}`,
      finishedAt: new Date().toISOString(),
      wallMs: performance.now() - w0,
    };
  }
}

export async function readEvacuationRecords(dir: string): Promise<Map<string, EvacuationRecord>> {
  const out = new Map<string, EvacuationRecord>();
  // Line by line from a stream: a results file of any size.
  const lines = createInterface({ input: createReadStream(path.join(dir, RESULTS)), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (line.trim() === '') continue;
      try {
        const r = JSON.parse(line) as EvacuationRecord;
        if (r.recordVersion === 1 && typeof r.runId === 'string') out.set(r.runId, r);
      } catch {
        // a torn last line: that run goes again
      }
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
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

/** Merges the folders of a sharded evacuation suite into `out` (as src/harness/merge.ts does for run suites). */
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
  // Records already in `out` (a merge before) are kept; the shards' own come after and win.
  if (!folders.some((f) => path.resolve(f) === path.resolve(out))) {
    const own = await readJson<EvacuationSuitePlan>(path.join(out, 'suite.json')).catch(() => undefined);
    if (own?.kind === 'evacuation' && own.name === whole.name) {
      const shards = new Map(latest);
      latest.clear();
      for (const [id, rec] of await readEvacuationRecords(out)) latest.set(id, rec);
      for (const [id, rec] of shards) latest.set(id, rec);
    }
  }
  const count = whole.shard?.count ?? 0;
  delete whole.shard;
  await mkdir(out, { recursive: true });
  await writeAtomically(path.join(out, 'suite.json'), `${JSON.stringify(whole, hideSecrets, 2)}\n`);
  await writeAtomically(
    path.join(out, RESULTS),
    [...latest.values()].map((r) => `${JSON.stringify(r, hideSecrets)}\n`),
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
