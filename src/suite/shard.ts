/**
 * Sharding a suite over machines: `migbench suite FILE --out DIR --shard I/N` runs a deterministic
 * share of the suite's runs, the same split on every machine, into its own folder DIR/shard-I-of-N
 * (one writer per file); `migbench report DIR` merges the shard folders it finds into one report.
 *
 * The split balances expected cost: each run's cost is estimated from its configuration (the
 * analytic model's bytes to send, or on the real clock its time), and runs go, most costly first,
 * to the shard with the least cost so far (ties: run id, then the lower shard). A scheduler gives
 * the shard: `--shard auto` reads Slurm's job array (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of
 * SLURM_ARRAY_TASK_COUNT) or a Kubernetes Indexed Job's JOB_COMPLETION_INDEX with the count from
 * `--shard auto/N` or MIGBENCH_SHARD_COUNT.
 */
import { OptionError } from '../util/errors.js';
import type { RunConfig } from '../config/types.js';
import type { PlannedRun, SuitePlan } from './schema.js';

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

export const MAX_SHARDS = 10_000;

const FORM =
  'I/N (1-based, such as 2/3), auto (Slurm job arrays; Kubernetes Indexed Jobs with MIGBENCH_SHARD_COUNT) or auto/N';

/** `--shard` text to a shard, reading the scheduler's environment for `auto`. */
export function parseShard(text: string, env: NodeJS.ProcessEnv = process.env): Shard {
  const t = text.trim();
  const auto = /^auto(?:\/(\d+))?$/.exec(t);
  if (auto) {
    const int = (name: string): number | null => {
      const v = env[name];
      return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
    };
    const slurmId = int('SLURM_ARRAY_TASK_ID');
    if (slurmId !== null) {
      const min = int('SLURM_ARRAY_TASK_MIN') ?? 0;
      const count = auto[1] !== undefined ? Number(auto[1]) : int('SLURM_ARRAY_TASK_COUNT');
      if (count === null)
        throw new OptionError(
          '--shard',
          '--shard auto: SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT; give --shard auto/N',
        );
      return check({ index: slurmId - min, count }, t);
    }
    const k8s = int('JOB_COMPLETION_INDEX');
    if (k8s !== null) {
      const count = auto[1] !== undefined ? Number(auto[1]) : int('MIGBENCH_SHARD_COUNT');
      if (count === null)
        throw new OptionError(
          '--shard',
          '--shard auto: JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job); give the completion count as --shard auto/N or MIGBENCH_SHARD_COUNT',
        );
      return check({ index: k8s, count }, t);
    }
    throw new OptionError(
      '--shard',
      '--shard auto finds no scheduler: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; give --shard I/N',
    );
  }
  const m = /^(\d+)\/(\d+)$/.exec(t);
  if (!m) throw new OptionError('--shard', `--shard must be ${FORM} (got ${JSON.stringify(text)})`);
  return check({ index: Number(m[1]) - 1, count: Number(m[2]) }, t);
}

function check(s: Shard, text: string): Shard {
  if (
    !(Number.isInteger(s.count) && s.count >= 1 && s.count <= MAX_SHARDS) ||
    !(Number.isInteger(s.index) && s.index >= 0 && s.index < s.count)
  ) {
    throw new OptionError(
      '--shard',
      `--shard ${text}: shard ${s.index + 1} of ${s.count} does not exist (shards are 1 to N, N at most ${MAX_SHARDS})`,
    );
  }
  return s;
}

/** The folder of a shard's results inside --out. */
export function shardFolder(s: Shard): string {
  return `shard-${s.index + 1}-of-${s.count}`;
}

/** A run's expected cost, for balancing: bytes to move (virtual clock), or milliseconds (real). */
export function expectedCost(
  config: RunConfig,
  predict: (c: RunConfig) => { bytesSent: number; totalTimeMs: number } | null,
): number {
  const p = predict(config);
  if (config.clock === 'real')
    return (p?.totalTimeMs ?? (config.ramBytes * 8 * 3 * 1000) / (config.linkBitsPerSec ?? 1e10)) + 1000;
  // Setting the memories up, then copying what is sent.
  return 2 * config.ramBytes + (p?.bytesSent ?? 3 * config.ramBytes);
}

/** The runs of each shard: most costly first to the least loaded shard. Deterministic for a plan. */
export function splitRuns<R extends { runId: string }>(
  runs: readonly R[],
  count: number,
  cost: (r: R) => number,
): R[][] {
  const order = runs
    .map((r) => ({ r, c: cost(r) }))
    .sort((a, b) => b.c - a.c || (a.r.runId < b.r.runId ? -1 : a.r.runId > b.r.runId ? 1 : 0));
  const load = new Array<number>(count).fill(0);
  const shards: R[][] = Array.from({ length: count }, () => []);
  for (const { r, c } of order) {
    let best = 0;
    for (let i = 1; i < count; i++) if (load[i] < load[best]) best = i;
    shards[best].push(r);
    load[best] += c;
  }
  // Each shard runs its share in the plan's order.
  const position = new Map(runs.map((r, i) => [r.runId, i]));
  for (const s of shards) s.sort((a, b) => (position.get(a.runId) ?? 0) - (position.get(b.runId) ?? 0));
  return shards;
}

/** The plan with this shard's share marked (the whole plan stays, so a merge knows what is missing). */
export function shardPlan(plan: SuitePlan, shard: Shard, cost: (r: PlannedRun) => number): SuitePlan {
  const mine = splitRuns(plan.runs, shard.count, cost)[shard.index];
  return { ...plan, shard: { index: shard.index, count: shard.count, runIds: mine.map((r) => r.runId) } };
}
