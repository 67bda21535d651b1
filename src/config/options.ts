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
import { REMOTE_LIMITS, REMOTE_OPTIONS } from '../channel/options.js';
import { POLICY_LOOPS } from '../precopy/registry.js';

export { flagOf, parseName } from '../util/options.js';
export { resolveToken } from '../channel/options.js';
export { DEFAULT_AUTO_CONVERGE };

/** Option values as commander or a suite file give them: text, or true for a switch given alone. */
export type RawRunOptions = RawOptions;

/** The run options, by their camelCase names (commander's attribute names: `--page-size` is `pageSize`). */
export const RUN_OPTION_KEYS = [
  'ram',
  'pageSize',
  'vcpus',
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
  'seed',
  'target',
  'token',
  'tokenFile',
  'streams',
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
  ...REMOTE_LIMITS,
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
};

/** The run options in help order. */
export const RUN_OPTION_SPECS: readonly RunOptionSpec[] = RUN_OPTION_KEYS.map((key) => ({ key, ...SPECS[key] }));

export function runOptionHelp(spec: OptionSpec<string, unknown>): string {
  return `${spec.description} (default: ${spec.defaultText}; e.g. ${spec.example})`;
}

/** Options others depend on resolve first. */
const RESOLVE_FIRST: readonly RunOptionKey[] = ['pageSize', 'ram', 'clock'];

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
  checkPolicyLoop(config);
  return config;
}

/**
 * What a policy's loop does not take (yet), said rather than ignored: QEMU's loop (--policy qemu)
 * takes none of the round-based aids, post-copy or --max-iterations, and only a power-of-two xbzrle
 * cache, as QEMU. The resolver checks it once every option is valid on its own; runMigration checks
 * a configuration built in code. Throws an OptionError naming the option.
 */
export function checkPolicyLoop(config: RunConfig): void {
  if (config.userLoop) {
    // A loop of the user's sends rounds and switches over; post-copy and what QEMU's loop refuses are not its.
    const other = (['postcopy', 'postcopyAfter', 'sdps', 'adaptiveRate', 'downtimeRamp'] as const).find((k) =>
      k === 'postcopy'
        ? config.postcopy
        : k === 'postcopyAfter'
          ? config.postcopyAfterRounds !== null
          : config[k] !== false && config[k] !== null,
    );
    if (other)
      throw new OptionError(
        flagOf(other),
        `${flagOf(other)} does not work with --precopy-loop FILE yet: the loop of your own runs the rounds (aids there: --auto-converge, --aid)`,
      );
    return;
  }
  if (POLICY_LOOPS[config.policy] !== 'qemu') return;
  const present: [RunOptionKey, boolean][] = [
    ['maxIterations', config.maxIterations !== null],
    ['postcopyAfter', config.postcopyAfterRounds !== null],
    ['postcopy', config.postcopy],
    ['sdps', config.sdps],
    ['adaptiveRate', config.adaptiveRate],
    ['downtimeRamp', config.downtimeRamp !== null],
  ];
  const other = present.find(([, on]) => on)?.[0];
  if (other) {
    throw new OptionError(
      flagOf(other),
      `${flagOf(other)} works with the round-based policies: --policy qemu-rounds (QEMU's switch-over rule after each round), hyperv or xen; --policy qemu is QEMU's own loop, which does not take it yet`,
    );
  }
  const cacheBytes = config.xbzrleCacheBytes;
  if (config.codecs.includes('xbzrle') && !Number.isInteger(Math.log2(cacheBytes))) {
    throw new OptionError(
      '--xbzrle-cache',
      `--policy qemu takes a power-of-two --xbzrle-cache, as QEMU does, such as 64MiB (got ${formatBytes(cacheBytes)}); --policy qemu-rounds takes any size`,
    );
  }
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
  return repeat === 0 ? config : { ...config, writeSeed: deriveSeed(config.seed, REPEAT_STREAM + repeat) };
}
