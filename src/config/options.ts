/**
 * The run options, one table, assembled from every feature's own (src/<feature>/options.ts: flags,
 * help, default and how each resolves into its part of the RunConfig). The command line (`run`,
 * `model`), suite files and the resolver all read this table, so an option and its default are
 * written once. A default is the text a user would type (`defaultText`), resolved like any typed
 * value; where the default is not a value (the policy's own, off, none) the option's resolver says
 * what absence means. DEFAULT_RUN_CONFIG is the resolution of no options at all.
 */
import type { RunConfig } from './types.js';
import { OptionError } from '../util/errors.js';
import { flagOf, parseSwitch, type OptionSpec, type RawOptions, type ResolveContext } from '../util/options.js';
import { formatBytes } from '../util/format.js';
import { deriveSeed } from '../util/prng.js';
import { MEMORY_LIMITS, MEMORY_OPTIONS } from '../memory/options.js';
import { CLOCK_OPTIONS } from '../clock/options.js';
import { GUEST_LIMITS, GUEST_OPTIONS } from '../guest/options.js';
import { LINK_LIMITS, LINK_OPTIONS } from '../link/options.js';
import { CODEC_LIMITS, CODEC_OPTIONS } from '../codec/options.js';
import { DIRTY_LOG_LIMITS, DIRTY_LOG_OPTIONS } from '../dirtylog/options.js';
import { POLICY_LIMITS, POLICY_OPTIONS } from '../policy/options.js';
import { AID_OPTIONS, DEFAULT_AUTO_CONVERGE } from '../converge/options.js';
import { PRECOPY_OPTIONS } from '../precopy/options.js';
import { REMOTE_OPTIONS } from '../channel/options.js';
import { TRACE_OPTIONS } from '../trace/options.js';
import { policyLoop } from '../precopy/registry.js';
import { loopRefusal } from '../precopy/loop.js';
import { USER_LOOP } from '../precopy/user-loop.js';

export { flagOf, parseName } from '../util/options.js';
export { resolveToken } from '../channel/options.js';
export { DEFAULT_AUTO_CONVERGE };

/** Option values as commander or a suite file give them: text, or true for a switch given alone. */
export type RawRunOptions = RawOptions;

/** The run options, by their camelCase names (commander's attribute names: `--page-size` is `pageSize`). */
export const RUN_OPTION_KEYS = [
  'ram',
  'pageSize',
  'memory',
  'vcpus',
  'workload',
  'traceSpeed',
  'traceLoop',
  'dirtyRate',
  'pattern',
  'writeSize',
  'catchUp',
  'content',
  'contentHot',
  'codec',
  'codecOpt',
  'xbzrleCache',
  'deflateLevel',
  'compressThreads',
  'chargeCpu',
  'link',
  'latency',
  'hostCopyRate',
  'sendBuffer',
  'maxBandwidth',
  'policy',
  'policyOpt',
  'downtimeLimit',
  'maxIterations',
  'timeout',
  'dirtyLog',
  'ringSize',
  'dirtyCost',
  'clock',
  'autoConverge',
  'throttleThreshold',
  'throttleInitial',
  'throttleIncrement',
  'throttleMax',
  'sdps',
  'adaptiveRate',
  'adaptiveMax',
  'downtimeRamp',
  'aid',
  'aidOpt',
  'precopyLoop',
  'loopOpt',
  'postcopy',
  'postcopyAfter',
  'postcopyAt',
  'maxPostcopyBandwidth',
  'multifd',
  'seed',
  'writeSeed',
  'target',
  'token',
  'tokenFile',
  'fault',
] as const;
export type RunOptionKey = (typeof RUN_OPTION_KEYS)[number];

/** Every feature's limits, by the names the command line's messages use. */
export const LIMITS = {
  ...MEMORY_LIMITS,
  ...GUEST_LIMITS,
  ...LINK_LIMITS,
  ...CODEC_LIMITS,
  ...DIRTY_LOG_LIMITS,
  ...POLICY_LIMITS,
} as const;

/** A run option's spec with its key. */
export interface RunOptionSpec extends OptionSpec<RunOptionKey, RunConfig> {
  key: RunOptionKey;
}

/** Each feature's table, every run option exactly once (a key in two tables, or in none, does not compile). */
const SPECS: Record<RunOptionKey, OptionSpec<RunOptionKey, RunConfig>> = {
  ...MEMORY_OPTIONS,
  ...GUEST_OPTIONS,
  ...CODEC_OPTIONS,
  ...LINK_OPTIONS,
  ...POLICY_OPTIONS,
  ...PRECOPY_OPTIONS,
  ...AID_OPTIONS,
  ...CLOCK_OPTIONS,
  ...DIRTY_LOG_OPTIONS,
  ...REMOTE_OPTIONS,
  ...TRACE_OPTIONS,
};

/** The run options in help order. */
export const RUN_OPTION_SPECS: readonly RunOptionSpec[] = RUN_OPTION_KEYS.map((key) => ({ key, ...SPECS[key] }));

export function runOptionHelp(spec: OptionSpec<string, unknown>): string {
  return `${spec.description} (default: ${spec.defaultText}; e.g. ${spec.example})`;
}

/** Options others depend on resolve first. */
const RESOLVE_FIRST: readonly RunOptionKey[] = ['workload', 'pageSize', 'ram', 'clock'];

/**
 * The one resolver from user text to a RunConfig: each option is resolved by its entry of the
 * table, absent ones from their defaults, then checked against the others. Keys that are not run
 * options (`json`, `quiet`, ...) are ignored.
 */
export function resolveRunConfig(raw: RawRunOptions, where: { baseDir?: string } = {}): RunConfig {
  const text = (key: RunOptionKey): string | undefined => {
    const v = raw[key];
    if (typeof v === 'boolean') throw new OptionError(flagOf(key), `${flagOf(key)} needs a value`);
    return v;
  };
  const c: ResolveContext<RunOptionKey, RunConfig> = {
    raw,
    text,
    typed: (key) => text(key) ?? SPECS[key].defaultText,
    flag: (key) => parseSwitch(raw, key),
    config: {},
    baseDir: where.baseDir ?? process.cwd(),
  };
  for (const key of [...RESOLVE_FIRST, ...RUN_OPTION_KEYS.filter((k) => !RESOLVE_FIRST.includes(k))]) {
    Object.assign(c.config, SPECS[key].resolve?.(c));
  }
  const config = c.config as RunConfig;
  checkLoop(config);
  return config;
}

/**
 * What the configuration's pre-copy loop does not take (yet), said rather than ignored: the loop
 * declares what it takes (src/precopy/loop.ts, PrecopyLoopKind), and this asks it. The resolver
 * checks once every option is valid on its own; runMigration checks a configuration built in code.
 * Throws an OptionError naming the option.
 */
export function checkLoop(config: RunConfig): void {
  const kind = config.userLoop ? USER_LOOP : policyLoop(config.policy);
  const refusal = loopRefusal(kind, {
    options: {
      maxIterations: config.maxIterations !== null,
      postcopyAfter: config.postcopyAfterRounds !== null,
      postcopy: config.postcopy,
      postcopyAt: config.postcopyAtMs !== null,
      maxPostcopyBandwidth: config.maxPostcopyBandwidthBitsPerSec !== null,
      // Over TCP every loop takes it: its channels are the connections (QEMU's loop adds its packets).
      multifd: config.multifdChannels !== null && config.target === null,
      sdps: config.sdps,
      adaptiveRate: config.adaptiveRate,
      downtimeRamp: config.downtimeRamp !== null,
    },
    xbzrleCache: config.codecs.includes('xbzrle')
      ? { bytes: config.xbzrleCacheBytes, text: formatBytes(config.xbzrleCacheBytes) }
      : null,
  });
  if (refusal === null) return;
  const flag = flagOf(refusal.option);
  throw new OptionError(flag, refusal.option === 'xbzrleCache' ? refusal.why : `${flag} ${refusal.why}`);
}

/** Every option at its default. */
export const DEFAULT_RUN_CONFIG: RunConfig = Object.freeze(resolveRunConfig({})) as RunConfig;

/** deriveSeed's stream numbers for repeats: apart from the vCPUs' (0, 1, ...). */
const REPEAT_STREAM = 0x7e9e_0000;

/**
 * The configuration of repeat `repeat` (0-based) of a run: repeat 0 is the configuration itself;
 * each later one writes with its own write-stream seed, derived from the seed, so repeats differ
 * in their workload (min-max ranges mean something) while starting from the same memory (whose
 * set-up a suite reuses). The same repeat gets the same seed on every machine.
 */
export function repeatConfig(config: RunConfig, repeat: number): RunConfig {
  if (!Number.isInteger(repeat) || repeat < 0) throw new RangeError(`a repeat is a whole number from 0, got ${repeat}`);
  // From the write seed, which is the seed unless --write-seed set it: the same repeats as ever by default.
  return repeat === 0 ? config : { ...config, writeSeed: deriveSeed(config.writeSeed, REPEAT_STREAM + repeat) };
}
