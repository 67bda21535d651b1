/**
 * Merging the folders of a sharded suite (`migbench report DIR`, DIR holding shard-I-of-N folders,
 * or `migbench report DIR1 DIR2 ... --out MERGED`): one plan (every shard's folder holds the whole
 * plan), the records of every folder, and what is missing: shards with no folder, runs with no record.
 */
import { readdir, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../util/errors.js';
import { readPlan, writePlan } from '../suite/outputs.js';
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
  const records: SuiteRecord[] = [];
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
    records.push(...(await readRecords(folder)).records);
  }
  const whole = plan as SuitePlan;
  const count = whole.shard?.count ?? 0;
  const missingShards = Array.from({ length: count }, (_, i) => i)
    .filter((i) => !seen.has(i))
    .map((i) => i + 1);
  const latest = latestByRunId(records);
  const missingRuns = whole.runs.filter((r) => !latest.has(r.runId)).map((r) => r.runId);
  const merged: SuitePlan = { ...whole };
  delete merged.shard;
  await mkdir(out, { recursive: true });
  await writePlan(out, merged);
  await writeFile(
    path.join(out, RESULTS_FILE),
    [...latest.values()].map((r) => `${JSON.stringify(r, hideSecrets)}\n`).join(''),
  );
  const files = await writeSuiteOutputs(out, merged, latest, toolVersion);
  return { plan: merged, folders: [...folders], records: latest.size, missingShards, missingRuns, files };
}
