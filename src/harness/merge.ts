/**
 * Merging the folders of a sharded suite (`migbench report DIR`, DIR holding shard-I-of-N folders,
 * or `migbench report DIR1 DIR2 ... --out MERGED`): one plan (every shard's folder holds the whole
 * plan), the records of every folder, and what is missing: shards with no folder, runs with no record.
 */
import { readdir, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../util/errors.js';
import { readPlan, writeAtomically, writePlan } from '../suite/outputs.js';
import { writeSuiteOutputs } from './outputs.js';
import { RESULTS_FILE, latestByRunId, readRecords } from '../suite/records.js';
import { hideSecrets, type SuitePlan, type SuiteRecord } from '../suite/schema.js';

export class MergeError extends InputError {
  override readonly name = 'MergeError';
}

export interface MergeOutcome {
  plan: SuitePlan;
  folders: string[];
  records: number;
  /** Shards (1-based) of which no folder was given. */
  missingShards: number[];
  /** Planned runs with no record, by id. */
  missingRuns: string[];
  files: string[];
  /** What the merge kept or chose without being asked: bad lines, runs not in the plan, duplicates. */
  warnings: string[];
}

/** The shard folders directly inside `dir` (shard-I-of-N), in shard order. */
export async function shardFolders(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^shard-\d+-of-\d+$/.test(n))
    .sort((a, b) => Number(/^shard-(\d+)/.exec(a)?.[1]) - Number(/^shard-(\d+)/.exec(b)?.[1]))
    .map((n) => path.join(dir, n));
}

export async function mergeShards(folders: readonly string[], out: string, toolVersion: string): Promise<MergeOutcome> {
  if (folders.length === 0) throw new MergeError('no shard folders to merge');
  let plan: SuitePlan | undefined;
  const records: Array<{ r: SuiteRecord; folder: string }> = [];
  const warnings: string[] = [];
  const seen = new Set<number>();
  for (const folder of folders) {
    const p = await readPlan(folder).catch((e: unknown) => {
      throw new MergeError(`${folder}: ${e instanceof Error ? e.message : String(e)}`);
    });
    if (p === undefined) throw new MergeError(`${folder} holds no suite.json: not a suite's folder`);
    const ids = (x: SuitePlan): string => x.runs.map((r) => r.runId).join(',');
    if (plan === undefined) plan = p;
    else if (p.name !== plan.name || ids(p) !== ids(plan) || p.reduced !== plan.reduced) {
      throw new MergeError(
        `${folder} holds another suite or another version of it ("${p.name}", ${p.runs.length} runs${p.reduced ? ', reduced' : ''}) than ${folders[0]} ("${plan.name}", ${plan.runs.length} runs${plan.reduced ? ', reduced' : ''})`,
      );
    }
    if (p.shard) {
      if (plan.shard && p.shard.count !== plan.shard.count)
        throw new MergeError(
          `${folder} is a shard of ${p.shard.count}, ${folders[0]} of ${plan.shard.count}: they split the suite differently`,
        );
      seen.add(p.shard.index);
    }
    const loaded = await readRecords(folder);
    if (loaded.badLines.length > 0)
      warnings.push(
        `${path.join(folder, RESULTS_FILE)}: ${loaded.badLines.length} line${loaded.badLines.length === 1 ? '' : 's'} not a record (line ${loaded.badLines.slice(0, 5).join(', ')}${loaded.badLines.length > 5 ? ', ...' : ''}): left out`,
      );
    records.push(...loaded.records.map((r) => ({ r, folder })));
  }
  const whole = plan as SuitePlan;
  // Records already in `out` (a merge before, or an unsharded run of the same suite) are kept:
  // a merge never drops what was recorded. The shards' records come after them, so theirs win.
  const here = path.resolve(out);
  if (!folders.some((f) => path.resolve(f) === here)) {
    const own = await readPlan(out).catch(() => undefined);
    if (own !== undefined && own.name === whole.name && own.reduced === whole.reduced) {
      const loaded = await readRecords(out);
      if (loaded.records.length > 0) records.unshift(...loaded.records.map((r) => ({ r, folder: out })));
    }
  }
  const planned = new Set(whole.runs.map((r) => r.runId));
  const foreign = records.filter(({ r }) => !planned.has(r.runId));
  if (foreign.length > 0)
    warnings.push(
      `${foreign.length} record${foreign.length === 1 ? '' : 's'} of runs not in the plan (${[...new Set(foreign.map(({ folder }) => folder))].join(', ')}): kept in results.jsonl, left out of the summaries`,
    );
  // A run recorded differently in two folders (not a copy, as a merge before leaves in DIR).
  const by = new Map<string, Array<{ folder: string; text: string }>>();
  for (const { r, folder } of records)
    by.set(r.runId, [...(by.get(r.runId) ?? []), { folder, text: JSON.stringify(r) }]);
  const twice = [...by.entries()].filter(([, xs]) => new Set(xs.map((x) => x.text)).size > 1);
  for (const [id, xs] of twice.slice(0, 5))
    warnings.push(
      `run ${id} is recorded differently in ${[...new Set(xs.map((x) => x.folder))].join(' and ')}: the record from ${xs[xs.length - 1].folder} is kept (the last read)`,
    );
  if (twice.length > 5) warnings.push(`... and ${twice.length - 5} more runs recorded in more than one folder`);
  const count = whole.shard?.count ?? 0;
  const missingShards = Array.from({ length: count }, (_, i) => i)
    .filter((i) => !seen.has(i))
    .map((i) => i + 1);
  const latest = latestByRunId(records.map(({ r }) => r));
  const missingRuns = whole.runs.filter((r) => !latest.has(r.runId)).map((r) => r.runId);
  const merged: SuitePlan = { ...whole };
  delete merged.shard;
  await mkdir(out, { recursive: true });
  await writePlan(out, merged);
  await writeAtomically(
    path.join(out, RESULTS_FILE),
    [...latest.values()].map((r) => `${JSON.stringify(r, hideSecrets)}\n`),
  );
  const inPlan = new Map([...latest].filter(([id]) => planned.has(id)));
  const files = await writeSuiteOutputs(out, merged, inPlan, toolVersion);
  return { plan: merged, folders: [...folders], records: inPlan.size, missingShards, missingRuns, files, warnings };
}
