/**
 * migbench as a library: run a migration, an evacuation or a suite from code, with the options of
 * the command line (camelCase names, values as you would type them, or numbers and booleans),
 * validated by the same resolver with the same messages; get the typed result back; follow
 * progress events. The command line (src/cli/) is built on the same parts (the option tables, the
 * resolver, the driver, the suite harness), not on this module: what it can do, this can.
 *
 *   import { runMigration } from 'migbench';
 *   const result = await runMigration({ ram: '256MiB', dirtyRate: '50MB/s', clock: 'virtual' });
 *   console.log(result.totals.downtimeMs);
 *
 * Strategies of your own are files: `policy: './my-policy.js'`, `aid: './my-aid.js'`,
 * `codec: 'zero,./my-codec.js'`, `precopyLoop: './my-loop.js'` (see docs/your-strategy.md).
 */
import {
  DEFAULT_RUN_CONFIG,
  resolveRunConfig,
  RUN_OPTION_KEYS,
  type RawRunOptions,
  type RunOptionKey,
} from './config/options.js';
import { OptionError } from './util/errors.js';
import type { RunConfig } from './config/types.js';
import type { MigrationEvent } from './driver/events.js';
import type { MigrationResult, ResultConfig } from './result/schema.js';
import { isResultConfig, runConfigOfResult } from './config/result-config.js';
import { runMigration as runConfigured } from './driver/migrate.js';
import { checkUserStrategies } from './config/strategies.js';
import { registerStrategy } from './util/user-file.js';
import { POLICY_NAMES } from './policy/registry.js';
import type { StopPolicy } from './policy/policy.js';
import type { ConvergenceAid } from './converge/aid.js';
import type { UserLoopContext } from './precopy/user-loop.js';
import type { SuiteProgressEvent } from './suite/schema.js';
import type { EvacuationSuiteEvent } from './harness/evacuation-suite.js';
import {
  resolveEvacuation,
  parseVmText,
  EVACUATION_KEYS,
  type EvacuationConfig,
  type EvacuationKey,
} from './evacuate/config.js';
import { runEvacuation as runEvacuationConfig, type EvacuationEvent } from './evacuate/evacuate.js';
import type { EvacuationResult } from './evacuate/result.js';

export { OptionError } from './util/errors.js';
export { StrategyError } from './util/user-file.js';
export { SuiteError } from './suite/parse.js';
export { DEFAULT_RUN_CONFIG, RUN_OPTION_SPECS, RUN_OPTION_KEYS, resolveRunConfig } from './config/options.js';
export { RESULT_SCHEMA_VERSION } from './result/schema.js';
export { EVACUATION_OPTION_SPECS } from './evacuate/config.js';
export { POLICY_NAMES } from './policy/registry.js';
export { DIRTY_LOG_NAMES } from './dirtylog/registry.js';
export { formatResult } from './report/human.js';
export { formatEvacuation } from './report/evacuation.js';

export type { RunConfig, PolicyName, UserStrategyConfig } from './config/types.js';
export type { RunOptionKey } from './config/options.js';
export type { MigrationEvent } from './driver/events.js';
export type {
  MigrationResult,
  IterationRecord,
  Totals,
  StageRecord,
  ResultConfig,
  LimitEvent,
} from './result/schema.js';
export type { EvacuationResult, VmOutcome, HostTotals, NicUsage } from './evacuate/result.js';
export type { EvacuationEvent } from './evacuate/evacuate.js';
export type { EvacuationConfig } from './evacuate/config.js';
export type { StopPolicy, PolicyState, PolicyDecision } from './policy/policy.js';
export type { ConvergenceAid, AidControls, RoundFacts } from './converge/aid.js';
export type { UserLoopContext } from './precopy/user-loop.js';
export type { PageCodec } from './codec/codec.js';

/**
 * Registers a stop policy, a convergence aid or a pre-copy loop made in code under a name: then
 * `policy: 'NAME'` (`aid`, `precopyLoop`) selects it in this process, as a file would. The factory
 * gets the `policyOpt` (`aidOpt`, `loopOpt`) options and returns the strategy, with the members a
 * file's would have (docs/your-strategy.md). Codecs run in other threads: they are files.
 */
export function registerPolicy(name: string, factory: (options: Record<string, string>) => StopPolicy): void {
  registerStrategy('policy', name, factory, POLICY_NAMES);
}

export function registerAid(name: string, factory: (options: Record<string, string>) => ConvergenceAid): void {
  registerStrategy('aid', name, factory);
}

export function registerPrecopyLoop(
  name: string,
  factory: (options: Record<string, string>) => { name: string; run(ctx: UserLoopContext): unknown },
): void {
  registerStrategy('loop', name, factory);
}

/** A run's options as the command line has them, by camelCase name: `{ ram: '1GiB', dirtyRate: '200MB/s', autoConverge: true }`. */
export type RunOptions = Partial<Record<RunOptionKey, string | number | boolean>>;

export interface RunHooks {
  /** Each stage's start and end, each round, a failure (src/driver/events.ts). */
  onEvent?: (event: MigrationEvent) => void;
  /** Aborting ends the run `failed` ("interrupted"), the guest left on the source. */
  signal?: AbortSignal;
}

/** Option values as text (what the resolver reads); an unknown option is an OptionError, as on the command line. */
function asText(
  options: Record<string, string | number | boolean | undefined>,
  known: readonly string[],
  what: string,
): RawRunOptions {
  const raw: RawRunOptions = {};
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined) continue;
    if (!known.includes(k)) throw new OptionError(k, `${k} is not ${what}; the options are ${known.join(', ')}`);
    raw[k] = typeof v === 'boolean' ? v : String(v);
  }
  return raw;
}

/** The RunConfig that `options` resolve to (throws OptionError with the command line's message). */
export function resolveRunOptions(options: RunOptions = {}, where: { baseDir?: string } = {}): RunConfig {
  return resolveRunConfig(asText(options, RUN_OPTION_KEYS, 'a run option'), where);
}

/**
 * Runs one migration. `options` are the command line's (`baseDir` for relative strategy files,
 * default the working directory); a RunConfig (from resolveRunOptions, changed in code) runs as it
 * is; a result's `config` runs that run again (a token, never in a result, from MIGBENCH_TOKEN).
 */
export async function runMigration(
  options: RunOptions | RunConfig | ResultConfig = {},
  hooks: RunHooks = {},
): Promise<MigrationResult> {
  const config = isResultConfig(options)
    ? runConfigOfResult(options, DEFAULT_RUN_CONFIG, process.env.MIGBENCH_TOKEN || null)
    : isRunConfig(options)
      ? options
      : resolveRunOptions(options as RunOptions);
  await checkUserStrategies(config);
  return runConfigured(config, hooks);
}

function isRunConfig(o: RunOptions | RunConfig | ResultConfig): o is RunConfig {
  return typeof (o as RunConfig).ramBytes === 'number' && typeof (o as RunConfig).pageWritesPerSec === 'number';
}

/**
 * An evacuation's options: the host's (`maxConcurrent`, `order`, `link`, ...; `target` a list of
 * URLs), run options for every VM (`common`), and the VMs, each `{ name?, target?, ...run options }`
 * or the `--vm` text `'ram=1GiB,dirty-rate=200MB/s'`.
 */
export interface EvacuateOptions {
  host?: Partial<Record<Exclude<EvacuationKey, 'target'>, string | number>> & { target?: string[] };
  common?: RunOptions;
  vms: (string | ({ name?: string; target?: number } & RunOptions))[];
  /** Where relative strategy files start; default the working directory. */
  baseDir?: string;
}

/** The EvacuationConfig that `options` resolve to (throws OptionError naming the VM and the option). */
export function resolveEvacuateOptions(options: EvacuateOptions): EvacuationConfig {
  const host = Object.fromEntries(
    Object.entries(options.host ?? {})
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : String(v)]),
  );
  for (const k of Object.keys(host)) {
    if (!(EVACUATION_KEYS as readonly string[]).includes(k))
      throw new OptionError(k, `${k} is not an evacuate option; the options are ${EVACUATION_KEYS.join(', ')}`);
  }
  const vms = options.vms.map((vm, i) => {
    const where = `vms[${i}]`;
    if (typeof vm === 'string') return parseVmText(vm, where);
    const { name, target, ...run } = vm;
    return {
      where,
      name,
      target: target === undefined ? undefined : String(target),
      options: asText(run, RUN_OPTION_KEYS, 'a run option'),
    };
  });
  return resolveEvacuation({
    host,
    common: asText(options.common ?? {}, RUN_OPTION_KEYS, 'a run option'),
    vms,
    baseDir: options.baseDir,
  });
}

/** Runs an evacuation: every VM migrated over the source's one NIC under its limits. */
export async function runEvacuation(
  options: EvacuateOptions | EvacuationConfig,
  hooks: { onEvent?: (e: EvacuationEvent) => void; signal?: AbortSignal } = {},
): Promise<EvacuationResult> {
  const ev =
    'maxConcurrent' in options && typeof options.maxConcurrent === 'number'
      ? (options as EvacuationConfig)
      : resolveEvacuateOptions(options as EvacuateOptions);
  for (const vm of ev.vms) await checkUserStrategies(vm.config);
  return runEvacuationConfig(ev, hooks);
}

/**
 * Runs (or resumes) a suite file into `out`, as `migbench suite FILE --out DIR` does, and returns
 * what it ran; a suite of evacuations (`kind: evacuation`) too.
 */
export async function runSuiteFile(
  file: string,
  options: {
    out: string;
    reduce?: boolean;
    clock?: 'real' | 'virtual';
    retryFailed?: boolean;
    signal?: AbortSignal;
    toolVersion?: string;
    /** Each run's start and end (a run suite's SuiteProgressEvent, an evacuation suite's EvacuationSuiteEvent). */
    onProgress?: (event: SuiteProgressEvent | EvacuationSuiteEvent) => void;
  },
): Promise<{ executed: number; skipped: number; interrupted: boolean; files: string[] }> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(file, 'utf8');
  const toolVersion = options.toolVersion ?? (await import('./cli/version.js')).migbenchVersion();
  const { isEvacuationSuite, parseEvacuationSuite, planEvacuationSuite } = await import('./evacuate/suite.js');
  const { runEvacuationSuite } = await import('./harness/evacuation-suite.js');
  if (isEvacuationSuite(text)) {
    const plan = planEvacuationSuite(parseEvacuationSuite(text, file), {
      reduce: options.reduce,
      clock: options.clock,
    });
    for (const r of plan.runs) for (const vm of r.config.vms) await checkUserStrategies(vm.config);
    return runEvacuationSuite(plan, {
      outDir: options.out,
      toolVersion,
      signal: options.signal,
      retryFailed: options.retryFailed,
      onProgress: options.onProgress,
    });
  }
  const { loadSuitePlan } = await import('./suite/load.js');
  const { runSuite } = await import('./harness/run-suite.js');
  const plan = await loadSuitePlan(file, { reduce: options.reduce, clock: options.clock });
  for (const r of plan.runs) await checkUserStrategies(r.config);
  return runSuite(plan, {
    outDir: options.out,
    toolVersion,
    signal: options.signal,
    retryFailed: options.retryFailed,
    onProgress: options.onProgress,
  });
}
