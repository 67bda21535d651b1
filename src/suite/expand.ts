/**
 * A SuiteSpec expanded into its runs: each matrix block crossed, the blocks' configurations
 * joined (one configuration reached twice runs once), every configuration resolved by
 * resolveRunConfig, then repeated. A value resolveRunConfig rejects becomes a SuiteError naming
 * its line and key. Runs are ordered repeat by repeat, so an interrupted suite has covered every
 * configuration as evenly as it could.
 */
import path from 'node:path';
import { OptionError } from '../util/errors.js';
import { flagOf, repeatConfig, resolveRunConfig, type RunOptionKey } from '../config/options.js';
import type { RunConfig } from '../config/types.js';
import { SuiteError } from './parse.js';
import { reduceMatrix, reduceOptions } from './reduce.js';
import { configIdOf, runIdOf } from './run-id.js';
import {
  PLAN_VERSION,
  type MatrixBlock,
  type OptionTexts,
  type OptionValue,
  type PlannedRun,
  type SuitePlan,
  type SuiteSpec,
} from './schema.js';

/** More configurations than this is a typo in the matrix, not a benchmark. */
export const MAX_CONFIGURATIONS = 10_000;
/** Runs of a suite (configurations x repeats), checked before any run is planned. */
export const MAX_RUNS = 100_000;

export interface ExpandOptions {
  /** Shrink to a smoke test (src/suite/reduce.ts). */
  reduce?: boolean;
  /** Run every configuration on this clock, whatever the file says (`migbench suite --clock`). */
  clock?: 'real' | 'virtual';
}

interface Configuration {
  configId: string;
  varied: OptionTexts;
  /** The options its matrix block(s) sweep (more than one value): what a comparison may plot it against. */
  swept: RunOptionKey[];
  options: OptionTexts;
  config: RunConfig;
}

export function expandSuite(spec: SuiteSpec, opts: ExpandOptions = {}): SuitePlan {
  const reduce = opts.reduce === true;
  const blocks = reduce ? reduceMatrix(spec.matrix) : spec.matrix;
  const count = blocks.reduce((n, b) => n + b.axes.reduce((m, a) => m * a.values.length, 1), 0);
  if (count > MAX_CONFIGURATIONS) {
    throw new SuiteError(
      spec.file,
      blocks[0]?.line,
      'matrix',
      `crosses to ${count} configurations; at most ${MAX_CONFIGURATIONS}`,
    );
  }
  const plannedRuns = Math.max(1, count) * (reduce ? 1 : spec.repeat);
  if (plannedRuns > MAX_RUNS) {
    throw new SuiteError(
      spec.file,
      blocks[0]?.line,
      'repeat',
      `${count} configurations x ${spec.repeat} repeats is ${plannedRuns} runs; at most ${MAX_RUNS}`,
    );
  }

  const configurations = new Map<string, Configuration>();
  // What each block sweeps, from the file's blocks (a reduced block keeps one value of each axis:
  // reduceMatrix makes two of each block, in order).
  const sweptOf = (i: number): RunOptionKey[] =>
    (spec.matrix[reduce ? Math.floor(i / 2) : i]?.axes ?? []).filter((a) => a.values.length > 1).map((a) => a.key);
  const assignments =
    blocks.length === 0
      ? [{ block: -1, values: [] as OptionValue[] }]
      : blocks.flatMap((b, i) => crossOf(b).map((values) => ({ block: i, values })));
  for (const { block, values } of assignments) {
    const c = resolveAssignment(spec, values, reduce, opts.clock);
    c.swept = block < 0 ? [] : sweptOf(block);
    const seen = configurations.get(c.configId);
    if (seen === undefined) configurations.set(c.configId, c);
    else {
      for (const [k, v] of Object.entries(c.varied)) seen.varied[k as RunOptionKey] ??= v;
      for (const k of c.swept) if (!seen.swept.includes(k)) seen.swept.push(k);
    }
  }

  const runs: PlannedRun[] = [];
  const repeat = reduce ? 1 : spec.repeat;
  for (let r = 0; r < repeat; r++) {
    for (const c of configurations.values()) {
      runs.push({
        runId: runIdOf(c.configId, r),
        configId: c.configId,
        repeat: r,
        varied: { ...c.varied },
        swept: [...c.swept],
        options: c.options,
        config: repeatConfig(c.config, r),
      });
    }
  }

  const variedKeys: RunOptionKey[] = [];
  for (const b of spec.matrix) for (const a of b.axes) if (!variedKeys.includes(a.key)) variedKeys.push(a.key);

  return {
    planVersion: PLAN_VERSION,
    name: spec.name,
    description: spec.description,
    file: spec.file,
    reduced: reduce,
    repeat,
    variedKeys,
    comparisons: spec.comparisons,
    runs,
  };
}

/** Every combination of one block's values, each a list with one value per axis. */
function crossOf(block: MatrixBlock): OptionValue[][] {
  let out: OptionValue[][] = [[]];
  for (const axis of block.axes) out = out.flatMap((partial) => axis.values.map((v) => [...partial, v]));
  return out;
}

function resolveAssignment(
  spec: SuiteSpec,
  assignment: OptionValue[],
  reduce: boolean,
  clock: 'real' | 'virtual' | undefined,
): Configuration {
  const options: OptionTexts = {};
  for (const v of spec.base) options[v.key] = v.text;
  if (clock !== undefined) options.clock = clock;
  const varied: OptionTexts = {};
  for (const v of assignment) {
    options[v.key] = v.text;
    varied[v.key] = v.text;
  }
  const where = (e: OptionError): SuiteError => {
    const source =
      assignment.find((v) => flagOf(v.key) === e.option) ?? spec.base.find((v) => flagOf(v.key) === e.option);
    if (source !== undefined) return new SuiteError(spec.file, source.line, source.path, e.message);
    // The option at fault was not written (a default clashing with what was): point at the values that were.
    const context = assignment.length > 0 ? assignment : spec.base;
    return new SuiteError(spec.file, context[0]?.line, context.map((v) => v.path).join(', ') || undefined, e.message);
  };
  try {
    // A strategy file (policy: ./my-policy.js) is relative to the suite file.
    const at = { baseDir: path.dirname(path.resolve(spec.file)) };
    let config = resolveRunConfig(options, at);
    let runOptions = options;
    if (reduce) {
      runOptions = reduceOptions(options, config);
      config = resolveRunConfig(runOptions, at);
    }
    return { configId: configIdOf(config), varied, swept: [], options: runOptions, config };
  } catch (e) {
    if (e instanceof OptionError) throw where(e);
    throw e;
  }
}
