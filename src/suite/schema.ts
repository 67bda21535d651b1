/**
 * What a suite is, as data: the parsed suite file (SuiteSpec), the runs it expands to (SuitePlan,
 * written to DIR/suite.json) and the record each finished run leaves in DIR/results.jsonl.
 * Option keys are the run options in camelCase (RUN_OPTION_KEYS); values are the text the user
 * wrote, resolved by resolveRunConfig like command-line values.
 */
import type { RunOptionKey } from '../config/options.js';
import type { RunConfig } from '../config/types.js';
import type { MigrationResult } from '../result/schema.js';

/** One option value in the suite file, with where it was written (for error messages). */
export interface OptionValue {
  key: RunOptionKey;
  text: string;
  /** 1-based line of the value in the suite file. */
  line: number;
  /** Where in the file: `base.link`, `matrix.dirty-rate[2]`, `matrix[1].policy[0]`. */
  path: string;
}

/** One mapping of the matrix: every combination of its values is a configuration. */
export interface MatrixBlock {
  /** In file order; each axis lists its values in file order. */
  axes: { key: RunOptionKey; values: OptionValue[] }[];
  line: number;
}

export interface SuiteComparison {
  name: string;
  title: string;
  /** The option whose values make the x axis; configurations that do not vary it are left out. */
  vary: RunOptionKey;
  /** A metric name from src/suite/metrics.ts. */
  metric: string;
  /** Also chart downtime against total time over the sweep. */
  tradeoff: boolean;
}

export interface SuiteSpec {
  name: string;
  description: string;
  /** The file it came from, as given (for messages). */
  file: string;
  base: OptionValue[];
  /** The union of the blocks' crosses (one block when `matrix` is a mapping). */
  matrix: MatrixBlock[];
  repeat: number;
  comparisons: SuiteComparison[];
}

/** The option text of a run, by camelCase key. */
export type OptionTexts = Partial<Record<RunOptionKey, string>>;

export interface PlannedRun {
  /** `<configId>-r<repeat>`: stable across invocations, so a rerun can skip it. */
  runId: string;
  /** Hash of the resolved RunConfig: the same configuration has the same id in any suite. */
  configId: string;
  repeat: number;
  /** The matrix values that made this configuration (several blocks may have made the same one). */
  varied: OptionTexts;
  /** The options its block(s) sweep over several values (absent in plans written before it was kept). */
  swept?: RunOptionKey[];
  /** Every option given for the run (base and matrix; after --reduce, the reduced values). */
  options: OptionTexts;
  config: RunConfig;
}

export const PLAN_VERSION = 1;

export interface SuitePlan {
  planVersion: typeof PLAN_VERSION;
  name: string;
  description: string;
  file: string;
  /** Shrunk for a smoke test (--reduce). */
  reduced: boolean;
  repeat: number;
  /** The varied options, in the order they first appear in the matrix: the summary's columns. */
  variedKeys: RunOptionKey[];
  comparisons: SuiteComparison[];
  /** With --shard: which shard this folder holds (0-based) of how many, and its runs (the plan keeps every run). */
  shard?: { index: number; count: number; runIds: string[] };
  /** In execution order: every configuration once, then again for each further repeat. */
  runs: PlannedRun[];
}

export const RECORD_VERSION = 1;

/** One line of results.jsonl. */
export interface SuiteRecord {
  recordVersion: typeof RECORD_VERSION;
  suite: string;
  runId: string;
  configId: string;
  repeat: number;
  varied: OptionTexts;
  options: OptionTexts;
  /**
   * `failed`: the migration failed (result.reason says why) or the run threw (no result);
   * `not-run`: it was refused before it started (it cannot fit in this machine's memory: reason).
   */
  status: 'completed' | 'failed' | 'not-run';
  reason?: string;
  finishedAt: string;
  /** Wall-clock milliseconds the run took, set-up included. */
  wallMs: number;
  result?: MigrationResult;
}

/**
 * A JSON.stringify replacer that keeps secrets out of every file a suite writes: a `token` (in a
 * run's options and its resolved config) is written as '(hidden)', as a run's result writes it.
 */
export function hideSecrets(key: string, value: unknown): unknown {
  return key === 'token' && typeof value === 'string' ? '(hidden)' : value;
}

/** What a suite run tells as it goes (src/harness/run-suite.ts). */
export type SuiteProgressEvent =
  | { kind: 'start'; plan: SuitePlan; toRun: number; skipped: number; badLines: number[] }
  | { kind: 'run-start'; run: PlannedRun; index: number; toRun: number; elapsedMs: number }
  | {
      kind: 'run-end';
      run: PlannedRun;
      record: SuiteRecord;
      index: number;
      toRun: number;
      elapsedMs: number;
      /** Milliseconds the remaining runs should take, at the mean pace so far. */
      remainingMs: number;
    }
  | { kind: 'outputs'; files: string[] };
