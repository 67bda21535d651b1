/**
 * The run options, one table: for each, its flags, help, default and how it resolves into the
 * RunConfig. The command line (`run`, `model`), suite files and the resolver all read it, so an
 * option and its default are written once. A default is the text a user would type
 * (`defaultText`), resolved like any typed value; where the default is not a value (the policy's
 * own, off, none) the option's resolver says what absence means. DEFAULT_RUN_CONFIG is the
 * resolution of no options at all.
 */
import type { RunConfig, UserStrategyConfig } from './types.js';
import type { AutoConvergeOptions } from '../converge/auto-converge.js';
import type { DowntimeRampOptions } from '../converge/downtime-ramp.js';
import { OptionError } from './errors.js';
import { parseCount, parseDirtyRate, parseDuration, parseLinkRate, parsePattern, parseSize } from './units.js';
import { formatBytes } from '../util/format.js';
import { deriveSeed } from '../util/prng.js';
import { hotPageCount } from '../guest/pattern.js';
import { POLICY_LOOPS, POLICY_NAMES } from '../policy/registry.js';
import { parseCodecList } from '../codec/registry.js';
import { DIRTY_LOG_NAMES } from '../dirtylog/registry.js';
import type { DirtyLogName } from '../dirtylog/dirty-log.js';
import { costParams, parseDirtyCost } from '../dirtylog/cost.js';
import { parseTarget } from './address.js';
import { REGISTERED_PREFIX, registeredFactory } from '../strategy/registry.js';
import { parseFault } from '../channel/fault.js';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Option values as commander or a suite file give them: text, or true for a switch given alone. */
export type RawRunOptions = Record<string, string | boolean | undefined>;

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

/** `pageSize` -> `--page-size`, the flag the user typed. */
export function flagOf(key: RunOptionKey): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export const LIMITS = {
  minPageSizeBytes: 4 * 1024,
  maxPageSizeBytes: 2 * 1024 * 1024,
  /** Fewer pages than this make rounds and bitmaps degenerate. */
  minRamPages: 16,
  /** Beyond what any test machine has; allocation failure above this is the driver's to report. */
  maxRamBytes: 64 * 2 ** 30,
  vcpus: { min: 1, max: 64 },
  maxIterations: { min: 1, max: 10_000 },
  seed: { min: 0, max: 2 ** 32 - 1 },
  /** One-way latency above this is a misconfiguration (10 s). */
  maxLatencyMs: 10_000,
  /** Dirty ring entries per vCPU (KVM accepts 4096 .. 65536 for 4 KiB entries; smaller ones help tests). */
  ringSize: { min: 16, max: 1 << 20 },
  compressThreads: { min: 0, max: 16 },
  streams: { min: 1, max: 16 },
} as const;

/** --timeout's default on the virtual clock: ten minutes of simulated time. */
const VIRTUAL_DEFAULT_TIMEOUT = '10m';

/** What an option's resolver sees: the options as given, and the config resolved so far. */
export interface ResolveContext {
  raw: RawRunOptions;
  /** The option's text as given; undefined when absent (a switch given alone is an error here). */
  text(key: RunOptionKey): string | undefined;
  /** The option's text as given, or its default as typed. */
  typed(key: RunOptionKey): string;
  /** A switch: given alone (true), or `true`/`false` from a suite file; absent: false. */
  flag(key: RunOptionKey): boolean;
  /** Resolved before this option: --page-size, --ram and --clock first, then in table order. */
  config: Partial<RunConfig>;
  /** Where relative file paths (--policy ./x.js, --aid) start: the working directory, or a suite file's. */
  baseDir: string;
}

export interface RunOptionSpec {
  key: RunOptionKey;
  /** Commander flags, value placeholder included. */
  flags: string;
  description: string;
  /** The default as a user would type it (or in words, where it is not a value). */
  defaultText: string;
  example: string;
  /**
   * Sets the option's fields of the config. Absent for an option another one resolves with it
   * (the auto-converge thresholds with --auto-converge; --token, --streams, --fault with --target).
   */
  resolve?: (c: ResolveContext) => Partial<RunConfig>;
}

const SPECS: Record<RunOptionKey, Omit<RunOptionSpec, 'key'>> = {
  ram: {
    flags: '--ram <size>',
    description:
      'guest RAM; binary KiB/MiB/GiB/TiB (K/M/G/T are binary too), decimal KB/MB/GB, or bytes; a multiple of the page size, 16 pages to 64GiB',
    defaultText: '1GiB',
    example: '512MiB',
    resolve: (c) => {
      const pageSizeBytes = c.config.pageSizeBytes as number;
      const text = c.text('ram');
      const ramBytes = parseSize('--ram', c.typed('ram'));
      if (ramBytes % pageSizeBytes !== 0) {
        throw new OptionError(
          '--ram',
          `--ram must be a multiple of the page size (${formatBytes(pageSizeBytes)}) such as 512MiB ` +
            `(got ${JSON.stringify(text)} = ${ramBytes} bytes)`,
        );
      }
      if (ramBytes / pageSizeBytes < LIMITS.minRamPages) {
        throw new OptionError(
          '--ram',
          `--ram must be at least ${LIMITS.minRamPages} pages (${formatBytes(LIMITS.minRamPages * pageSizeBytes)} ` +
            `with ${formatBytes(pageSizeBytes)} pages) (got ${JSON.stringify(text)})`,
        );
      }
      if (ramBytes > LIMITS.maxRamBytes)
        throw new OptionError('--ram', `--ram must be at most 64GiB (got ${JSON.stringify(text)})`);
      return { ramBytes };
    },
  },
  pageSize: {
    flags: '--page-size <size>',
    description: 'guest page size, a power of two from 4KiB to 2MiB',
    defaultText: '4KiB',
    example: '2MiB',
    resolve: (c) => {
      const pageSizeBytes = parseSize('--page-size', c.typed('pageSize'));
      if (
        !isPowerOfTwo(pageSizeBytes) ||
        pageSizeBytes < LIMITS.minPageSizeBytes ||
        pageSizeBytes > LIMITS.maxPageSizeBytes
      ) {
        throw new OptionError(
          '--page-size',
          `--page-size must be a power of two from 4KiB to 2MiB such as 4KiB or 2MiB (got ${JSON.stringify(c.text('pageSize'))})`,
        );
      }
      return { pageSizeBytes };
    },
  },
  vcpus: {
    flags: '--vcpus <n>',
    description: 'emulated vCPUs (one writer worker each), 1 to 64',
    defaultText: '2',
    example: '8',
    resolve: (c) => ({ vcpus: parseCount('--vcpus', c.typed('vcpus'), LIMITS.vcpus) }),
  },
  dirtyRate: {
    flags: '--dirty-rate <rate>',
    description:
      'page writes per second over all vCPUs: decimal bytes/s divided by the page size (kB/s, MB/s, GB/s), or N pages/s, or 0 for an idle guest',
    defaultText: '100MB/s',
    example: '200MB/s, 50000pages/s',
    // A byte rate: with another page size it keeps its bytes per second.
    resolve: (c) => ({
      pageWritesPerSec: parseDirtyRate('--dirty-rate', c.typed('dirtyRate'), c.config.pageSizeBytes as number),
    }),
  },
  pattern: {
    flags: '--pattern <pattern>',
    description:
      'where writes land: uniform, sequential, or hotset:FRACTION:PROBABILITY (that fraction of pages takes that probability of writes)',
    defaultText: 'uniform',
    example: 'hotset:0.1:0.9',
    resolve: (c) => ({ pattern: parsePattern('--pattern', c.typed('pattern')) }),
  },
  writeSize: {
    flags: '--write-size <size>',
    description: 'bytes changed by one write, 1 byte to the page size',
    defaultText: '8',
    example: '64',
    resolve: (c) => {
      const pageSizeBytes = c.config.pageSizeBytes as number;
      const writeSizeBytes = parseSize('--write-size', c.typed('writeSize'));
      if (writeSizeBytes > pageSizeBytes) {
        throw new OptionError(
          '--write-size',
          `--write-size must be from 1 byte to the page size (${formatBytes(pageSizeBytes)}) such as 8 or 64 ` +
            `(got ${JSON.stringify(c.text('writeSize'))})`,
        );
      }
      return { writeSizeBytes };
    },
  },
  catchUp: {
    flags: '--catch-up <duration>',
    description:
      "the workload after a throttle sleep (QEMU sleeps a throttled vCPU 10 ms x p/(1-p) after each 10 ms it runs): it makes up the writes that fell due in the sleep's last DURATION and drops the rest; 0 for a CPU-bound workload, more for a paced one that catches up",
    defaultText: '0ms',
    example: '2ms',
    resolve: (c) => ({ catchUpMs: parseDuration('--catch-up', c.typed('catchUp')) }),
  },
  content: {
    flags: '--content <kind>',
    description:
      "initial page content: zero, text (compressible), random (incompressible), or mixed:ZERO%:TEXT%:RANDOM%; a write keeps its page's kind, and fills a zero page with text or random data (a zero page is free memory: with a hot set, zero pages lie outside it while they fit)",
    defaultText: 'mixed:25:40:35',
    example: 'text',
    resolve: resolveContent,
  },
  contentHot: {
    flags: '--content-hot <kind>',
    description:
      "with --pattern hotset: the hot set's own content (zero, text, random or mixed:ZERO%:TEXT%:RANDOM%); --content is then the rest's",
    defaultText: 'none (zero pages outside the hot set)',
    example: 'random',
    // Resolved with --content (resolveContent).
  },
  codec: {
    flags: '--codec <list>',
    description:
      'page codecs tried in order, each page going to the first that takes it: zero (a zero page is its header alone), xbzrle (delta against the copy sent before), lz4, deflate, or a codec file of your own (./my-codec.js: an ES module whose default export (options) => ({ name, encode(page, pageNumber, out), decode(encoded, pageNumber, target) }); see the README); or raw',
    defaultText: 'raw',
    example: 'zero,xbzrle,lz4, zero,./examples/codecs/run-length.js',
    resolve: (c) => {
      const { codecs, files } = parseCodecList(c.typed('codec'), (entry) =>
        isStrategyFile(entry) ? strategyFile('--codec', entry, c.baseDir) : null,
      );
      const opts = c.text('codecOpt');
      if (files.length === 0 && opts !== undefined)
        throw new OptionError('--codec-opt', '--codec-opt only applies with a codec file (--codec zero,./my-codec.js)');
      const options = parseStrategyOptions('--codec-opt', opts);
      return { codecs, userCodecs: files.map((file) => ({ file, options: { ...options } })) };
    },
  },
  codecOpt: {
    flags: '--codec-opt <key=value,...>',
    description: "options for the codec files' factories, as text by key (every codec file gets them)",
    defaultText: 'none',
    example: 'min-run=4',
    // Resolved with --codec.
  },
  xbzrleCache: {
    flags: '--xbzrle-cache <size>',
    description: "xbzrle's page cache on the sender: a size, or a share of RAM",
    defaultText: '64MiB',
    example: '10%',
    resolve: (c) => ({
      xbzrleCacheBytes: parseXbzrleCache(
        c.typed('xbzrleCache'),
        c.config.ramBytes as number,
        c.config.pageSizeBytes as number,
      ),
    }),
  },
  deflateLevel: {
    flags: '--deflate-level <n>',
    description: "deflate's level, 0 to 9",
    defaultText: '1',
    example: '6',
    resolve: (c) => ({ deflateLevel: parseCount('--deflate-level', c.typed('deflateLevel'), { min: 0, max: 9 }) }),
  },
  compressThreads: {
    flags: '--compress-threads <n>',
    description:
      "worker threads encoding pages in parallel (as QEMU's multifd channels), 0 to 16; 0 encodes on the driver thread",
    defaultText: '0',
    example: '2',
    resolve: (c) => ({
      compressThreads: parseCount('--compress-threads', c.typed('compressThreads'), LIMITS.compressThreads),
    }),
  },
  chargeCpu: {
    flags: '--charge-cpu',
    description:
      'with --clock virtual: charge the measured encoding CPU time to simulated time, so a codec slower than the link shows',
    defaultText: 'off',
    example: '--clock virtual --codec deflate --charge-cpu',
    resolve: (c) => {
      const on = c.flag('chargeCpu');
      if (on && c.config.clock !== 'virtual')
        throw new OptionError(
          '--charge-cpu',
          '--charge-cpu only applies with --clock virtual (the real clock pays CPU time anyway)',
        );
      return { chargeCpu: on };
    },
  },
  link: {
    flags: '--link <rate>',
    description:
      'migration link rate, decimal: bit/s, kbit/s, Mbit/s, Gbit/s, Gbps, or bytes as GB/s, MB/s; or unlimited',
    defaultText: '10Gbit/s',
    example: '25Gbps, 1.25GB/s',
    resolve: (c) => ({ linkBitsPerSec: parseLinkRate('--link', c.typed('link')) }),
  },
  latency: {
    flags: '--latency <duration>',
    description: 'one-way link latency (us, ms, s; fractions allowed)',
    defaultText: '0.1ms',
    example: '2ms',
    resolve: (c) => {
      const latencyMs = parseDuration('--latency', c.typed('latency'));
      if (latencyMs > LIMITS.maxLatencyMs) {
        throw new OptionError(
          '--latency',
          `--latency must be a duration from 0 to 10s such as 0.1ms or 20ms (got ${JSON.stringify(c.text('latency'))})`,
        );
      }
      return { latencyMs };
    },
  },
  maxBandwidth: {
    flags: '--max-bandwidth <rate>',
    description:
      "QEMU's max-bandwidth: the migration's own send rate limit below the link's (same units as --link), lifted when the guest is suspended, so the final copy runs at the link's rate",
    defaultText: 'none',
    example: '32MB/s, 1Gbit/s',
    resolve: (c) => {
      const text = c.text('maxBandwidth');
      return {
        maxBandwidthBitsPerSec:
          text === undefined || text.trim().toLowerCase() === 'none' ? null : parseLinkRate('--max-bandwidth', text),
      };
    },
  },
  policy: {
    flags: '--policy <name|file>',
    description:
      "stop policy: qemu (QEMU 10.0's own loop: a circular scan, a dirty-log sync whenever the estimate of what remains drops below bandwidth x downtime limit, --max-bandwidth as 100 ms windows, xbzrle and auto-converge by QEMU's rules), qemu-rounds (QEMU's switch-over rule after each round: round 0 sends every page, each later round what the dirty log found), hyperv (small dirty set, or after 10 passes), xen (< 50 dirty pages, 29 rounds, or 3 x RAM sent); or a file of your own, ./my-policy.js (an ES module whose default export (options) => ({ name, decide(state) }) decides after each round; see the README)",
    defaultText: 'qemu',
    example: 'xen, ./examples/policies/stop-when-flat.js',
    // What its loop does not take is checked once every option has resolved (checkPolicyLoop).
    resolve: (c) => {
      const text = c.typed('policy');
      const opts = c.text('policyOpt');
      if (isStrategyFile(text))
        return {
          policy: 'user',
          userPolicy: {
            file: strategyFile('--policy', text, c.baseDir),
            options: parseStrategyOptions('--policy-opt', opts),
          },
        };
      // A policy registered from code (the library's registerPolicy), in this process.
      if (registeredFactory('policy', text.trim()) !== undefined) {
        return {
          policy: 'user',
          userPolicy: {
            file: `${REGISTERED_PREFIX}${text.trim()}`,
            options: parseStrategyOptions('--policy-opt', opts),
          },
        };
      }
      if (opts !== undefined)
        throw new OptionError('--policy-opt', '--policy-opt only applies with a policy file (--policy ./my-policy.js)');
      return { policy: parseName('--policy', text, POLICY_NAMES), userPolicy: null };
    },
  },
  policyOpt: {
    flags: '--policy-opt <key=value,...>',
    description: "options for a policy file's factory, as text by key (the file reads them)",
    defaultText: 'none',
    example: 'threshold=0.2',
    // Resolved with --policy.
  },
  aid: {
    flags: '--aid <file>',
    description:
      'a convergence aid of your own: an ES module whose default export (options) => ({ name, afterRound(facts, controls), start?(controls), finalRound?(controls) }) acts after each round, after the built-in aids (see the README)',
    defaultText: 'none',
    example: './examples/aids/throttle-when-hot.js',
    resolve: (c) => ({ userAid: strategyOption(c, 'aid', 'aidOpt', 'aid') }),
  },
  aidOpt: {
    flags: '--aid-opt <key=value,...>',
    description: "options for an aid file's factory, as text by key",
    defaultText: 'none',
    example: 'share=0.3',
    // Resolved with --aid.
  },
  precopyLoop: {
    flags: '--precopy-loop <file>',
    description:
      "a pre-copy loop of your own, in place of the policy's: an ES module whose default export (options) => ({ name, async run(ctx) }) sends rounds (ctx.sendRound), asks the policy (ctx.decide) and returns { action: 'switchover' | 'fail', why }; the stop-and-copy stage then sends what remains (see the README)",
    defaultText: "the policy's own",
    example: './examples/loops/time-budget.js',
    resolve: (c) => ({ userLoop: strategyOption(c, 'precopyLoop', 'loopOpt', 'loop') }),
  },
  loopOpt: {
    flags: '--loop-opt <key=value,...>',
    description: "options for a pre-copy loop file's factory, as text by key",
    defaultText: 'none',
    example: 'budget=2s',
    // Resolved with --precopy-loop.
  },
  downtimeLimit: {
    flags: '--downtime-limit <duration>',
    description: 'downtime the qemu and qemu-rounds policies aim for',
    defaultText: '300ms',
    example: '50ms',
    resolve: (c) => {
      const downtimeLimitMs = parseDuration('--downtime-limit', c.typed('downtimeLimit'));
      if (!(downtimeLimitMs > 0)) {
        throw new OptionError(
          '--downtime-limit',
          `--downtime-limit must be a positive duration such as 300ms or 1s (got ${JSON.stringify(c.text('downtimeLimit'))})`,
        );
      }
      return { downtimeLimitMs };
    },
  },
  maxIterations: {
    flags: '--max-iterations <n>',
    description:
      'cap on pre-copy rounds, 1 to 10000 (qemu-rounds fails past it; hyperv and xen switch over) (round-based policies: qemu-rounds, hyperv, xen)',
    defaultText: "the policy's own",
    example: '30',
    resolve: (c) => {
      const text = c.text('maxIterations');
      return { maxIterations: text === undefined ? null : parseCount('--max-iterations', text, LIMITS.maxIterations) };
    },
  },
  timeout: {
    flags: '--timeout <duration>',
    description:
      'bound on the whole migration on its clock (ms, s, m, h), or none; 10m of simulated time with --clock virtual',
    defaultText: '120s',
    example: '5m',
    // Simulated time is cheap: the virtual clock's default bound lets slow convergence finish.
    resolve: (c) => ({
      timeoutMs: parseTimeout(
        c.text('timeout') ?? (c.config.clock === 'virtual' ? VIRTUAL_DEFAULT_TIMEOUT : c.typed('timeout')),
      ),
    }),
  },
  dirtyLog: {
    flags: '--dirty-log <name>',
    description:
      'dirty tracking: bitmap (KVM GET_DIRTY_LOG: fetch and clear all each round), bitmap-chunked (KVM CLEAR_DIRTY_LOG: clear each 64-page chunk just before sending it), two-level (a summary bit per bitmap word lets scans skip clean regions), ring (KVM dirty ring: per-vCPU rings of page numbers, a full ring stalls its vCPU)',
    defaultText: 'bitmap',
    example: 'ring',
    resolve: (c) => ({ dirtyLog: parseName('--dirty-log', c.typed('dirtyLog'), DIRTY_LOG_NAMES) }),
  },
  ringSize: {
    flags: '--ring-size <entries>',
    description: "entries of each vCPU's dirty ring with --dirty-log ring, a power of two",
    defaultText: '4096',
    example: '1024',
    resolve: (c) => ({ ringSizeEntries: parseRingSize(c.typed('ringSize')) }),
  },
  dirtyCost: {
    flags: '--dirty-cost <model>',
    description:
      "what dirty tracking costs a KVM host, charged on both clocks: kvm (write-protect faults hold the vCPU; enabling the log, syncs, clears, ring harvests and resets hold the migration thread; defaults per --dirty-log from published measurements, see the README), kvm with parameters over it such as kvm,fault=5us,sync-per-gib=1ms (fault, ring-full-exit, enable-per-gib, sync, sync-per-gib, protect-per-page, clear, harvest-per-entry, reset), or none (the emulator's own work only; what QEMU's TCG references match)",
    defaultText: 'kvm',
    example: 'kvm,fault=5us',
    resolve: (c) => {
      const dirtyCost = parseDirtyCost(c.typed('dirtyCost'));
      costParams(dirtyCost, c.config.dirtyLog as DirtyLogName); // a parameter the strategy does not charge is refused here
      return { dirtyCost };
    },
  },
  clock: {
    flags: '--clock <kind>',
    description:
      'real (vCPU and channel threads in real time) or virtual (simulated time the driver advances: same kernels and bytes, deterministic for a seed, much faster than real time)',
    defaultText: 'real',
    example: 'virtual',
    resolve: (c) => ({ clock: parseName('--clock', c.typed('clock'), ['real', 'virtual'] as const) }),
  },
  autoConverge: {
    flags: '--auto-converge',
    description:
      "QEMU's auto-converge: when bytes dirtied in a round exceed --throttle-threshold of bytes sent, twice, throttle the vCPUs by --throttle-initial, then --throttle-increment more each time, up to --throttle-max",
    defaultText: 'off',
    example: '--auto-converge --throttle-increment 20%',
    // With its thresholds; a threshold without the switch is a mistake worth saying.
    resolve: (c) => ({ autoConverge: resolveAutoConverge(c) }),
  },
  throttleThreshold: {
    flags: '--throttle-threshold <percent>',
    description: 'auto-converge: share of bytes sent that bytes dirtied must exceed',
    defaultText: '50%',
    example: '30%',
  },
  throttleInitial: {
    flags: '--throttle-initial <percent>',
    description: 'auto-converge: first throttle',
    defaultText: '20%',
    example: '30%',
  },
  throttleIncrement: {
    flags: '--throttle-increment <percent>',
    description: 'auto-converge: throttle added each further time',
    defaultText: '10%',
    example: '5%',
  },
  throttleMax: {
    flags: '--throttle-max <percent>',
    description: 'auto-converge: highest throttle',
    defaultText: '99%',
    example: '80%',
  },
  sdps: {
    flags: '--sdps',
    description:
      "vMotion's stun during page send: when the guest dirties faster than the link sends, stun its vCPUs in proportion (round-based policies: qemu-rounds, hyperv, xen)",
    defaultText: 'off',
    example: '--policy qemu-rounds --sdps',
    resolve: (c) => ({ sdps: c.flag('sdps') }),
  },
  adaptiveRate: {
    flags: '--adaptive-rate',
    description:
      "Xen's adaptive send rate: 100 Mbit/s first, then the last round's dirty rate + 50 Mbit/s, capped at the link (and --adaptive-max); the last round at full rate (round-based policies: qemu-rounds, hyperv, xen)",
    defaultText: 'off',
    example: '--policy xen --adaptive-rate --adaptive-max 500Mbit/s',
    resolve: (c) => ({ adaptiveRate: c.flag('adaptiveRate') }),
  },
  adaptiveMax: {
    flags: '--adaptive-max <rate>',
    description: 'cap of the adaptive send rate',
    defaultText: 'the link rate',
    example: '500Mbit/s',
    resolve: (c) => {
      const text = c.text('adaptiveMax');
      if (text === undefined) return { adaptiveMaxBitsPerSec: null };
      if (!c.flag('adaptiveRate'))
        throw new OptionError('--adaptive-max', '--adaptive-max only applies with --adaptive-rate');
      return { adaptiveMaxBitsPerSec: parseLinkRate('--adaptive-max', text) };
    },
  },
  downtimeRamp: {
    flags: '--downtime-ramp <start:end:steps>',
    description:
      'a downtime limit rising from START to END over STEPS rounds (as KubeVirt proposes), instead of --downtime-limit (round-based policies: qemu-rounds, hyperv, xen)',
    defaultText: 'none',
    example: '50ms:2s:10',
    resolve: (c) => {
      const text = c.text('downtimeRamp');
      return { downtimeRamp: text === undefined ? null : parseDowntimeRamp(text) };
    },
  },
  postcopy: {
    flags: '--postcopy',
    description:
      'switch to post-copy when the policy gives up: suspend, send the device state, resume on the target at once and push the remaining pages in the background, pages a vCPU touches first (round-based policies: qemu-rounds, hyperv, xen)',
    defaultText: 'off',
    example: '--policy qemu-rounds --postcopy --max-iterations 5',
    // --postcopy-after N implies --postcopy.
    resolve: (c) => ({ postcopy: c.flag('postcopy') || c.text('postcopyAfter') !== undefined }),
  },
  postcopyAfter: {
    flags: '--postcopy-after <rounds>',
    description:
      'switch to post-copy after this many pre-copy rounds (implies --postcopy); 0 is pure post-copy: every page moves after the switch (round-based policies: qemu-rounds, hyperv, xen)',
    defaultText: 'none',
    example: '3',
    resolve: (c) => {
      const text = c.text('postcopyAfter');
      return {
        postcopyAfterRounds:
          text === undefined ? null : parseCount('--postcopy-after', text, { min: 0, max: LIMITS.maxIterations.max }),
      };
    },
  },
  seed: {
    flags: '--seed <n>',
    description:
      "seed of the initial memory content and the write streams, 0 to 4294967295 (a suite's repeats derive their write streams' seeds from it)",
    defaultText: '1',
    example: '42',
    resolve: (c) => {
      const seed = parseCount('--seed', c.typed('seed'), LIMITS.seed);
      return { seed, writeSeed: seed };
    },
  },
  target: {
    flags: '--target <url>',
    description:
      "migrate over real TCP sockets to a `migbench receive` at tcp://HOST:PORT (real clock only); verified means both hosts' HMAC-SHA256 of memory and device state agree, keyed after the data is in",
    defaultText: 'none (in-process channel)',
    example: 'tcp://127.0.0.1:7000',
    // With what only applies with it: --token, --streams, --fault.
    resolve: resolveRemote,
  },
  token: {
    flags: '--token <secret>',
    description:
      'with --target: the shared secret the receiver checks (required by a receiver bound beyond loopback); visible to other users of this machine (ps): prefer MIGBENCH_TOKEN or --token-file',
    defaultText: 'MIGBENCH_TOKEN, else none',
    example: 's3cret',
  },
  tokenFile: {
    flags: '--token-file <path>',
    description: 'with --target: read the shared secret from this file (its first line)',
    defaultText: 'none',
    example: '~/.migbench-token',
  },
  streams: {
    flags: '--streams <n>',
    description: 'with --target: parallel TCP connections frames are spread over (as QEMU multifd), 1 to 16',
    defaultText: '1',
    example: '4',
  },
  fault: {
    flags: '--fault <fault>',
    description:
      'with --target: inject a fault on the source side: drop@ROUND (close the connections), stall@ROUND:MS (hold frames off the wire), corrupt@ROUND (flip a byte of a frame), kill-receiver@ROUND (a receiver started with --allow-kill exits; tests only)',
    defaultText: 'none',
    example: 'drop@2, stall@1:10000',
  },
};

/** The run options in help order. */
export const RUN_OPTION_SPECS: readonly RunOptionSpec[] = RUN_OPTION_KEYS.map((key) => ({ key, ...SPECS[key] }));

export function runOptionHelp(spec: RunOptionSpec): string {
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
  const c: ResolveContext = {
    raw,
    text,
    typed: (key) => text(key) ?? SPECS[key].defaultText,
    flag: (key) => flag(raw, key),
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

// ----------------------------------------------------------------------------------- resolvers

/** --target and what only applies with it: --token, --streams, --fault. */
function resolveRemote(c: ResolveContext): Pick<RunConfig, 'target' | 'token' | 'streams' | 'fault'> {
  const { raw } = c;
  const targetText = c.text('target');
  if (targetText === undefined) {
    const stray = (['token', 'tokenFile', 'streams', 'fault'] as const).find((k) => raw[k] !== undefined);
    if (stray) throw new OptionError(flagOf(stray), `${flagOf(stray)} only applies with --target`);
    return {
      target: null,
      token: null,
      streams: parseCount('--streams', c.typed('streams'), LIMITS.streams),
      fault: null,
    };
  }
  if (c.config.clock === 'virtual')
    throw new OptionError('--target', '--target needs --clock real (a real network runs in real time)');
  if (c.flag('postcopy') || raw.postcopyAfter !== undefined) {
    throw new OptionError(
      '--target',
      "--target does not support --postcopy yet (the target's vCPUs would run in this process)",
    );
  }
  if (raw.latency !== undefined) {
    throw new OptionError(
      '--latency',
      "--latency emulates the in-process link; with --target the real network's latency applies",
    );
  }
  const token = resolveToken(c.text('token'), c.text('tokenFile'));
  const faultText = c.text('fault');
  return {
    target: parseTarget('--target', targetText),
    token: token ?? null,
    streams: parseCount('--streams', c.typed('streams'), LIMITS.streams),
    fault: faultText === undefined ? null : parseFault('--fault', faultText),
  };
}

/**
 * The shared secret of a --target run: --token, the first line of --token-file, or the environment's
 * MIGBENCH_TOKEN, in that order; null for none. 1 to 256 bytes. `migbench receive` takes its own the same way.
 */
export function resolveToken(
  given: string | undefined,
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  if (given !== undefined && file !== undefined)
    throw new OptionError('--token-file', 'give --token or --token-file, not both');
  let token = given;
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new OptionError(
        '--token-file',
        `--token-file ${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    token = text.split(/\r?\n/)[0];
    if (token === '') throw new OptionError('--token-file', `--token-file ${file} holds no token on its first line`);
  }
  token ??= env.MIGBENCH_TOKEN || undefined;
  if (token !== undefined && (token === '' || Buffer.byteLength(token, 'utf8') > 256))
    throw new OptionError('--token', 'the token must be 1 to 256 bytes such as s3cret');
  return token ?? null;
}

/** --content and --content-hot: the shares, placed around the hot set where there is one. */
function resolveContent(c: ResolveContext): Pick<RunConfig, 'content'> {
  const mix = parseContent('--content', c.typed('content'));
  const hotText = c.text('contentHot');
  const pattern = c.config.pattern as RunConfig['pattern'];
  if (pattern.kind !== 'hotset') {
    if (hotText !== undefined)
      throw new OptionError(
        '--content-hot',
        `--content-hot applies with --pattern hotset:FRACTION:PROBABILITY (the pattern is ${pattern.kind})`,
      );
    return { content: mix };
  }
  const pageCount = (c.config.ramBytes as number) / (c.config.pageSizeBytes as number);
  const placement = { pageCount, hotPages: hotPageCount(pageCount, pattern.fraction) };
  return {
    content: {
      ...mix,
      placement: hotText === undefined ? placement : { ...placement, hot: parseContent('--content-hot', hotText) },
    },
  };
}

/** `zero`, `text`, `random`, or `mixed:ZERO%:TEXT%:RANDOM%` adding up to 100. */
function parseContent(flag: string, text: string): { zeroPercent: number; textPercent: number; randomPercent: number } {
  const t = text.trim().toLowerCase();
  if (t === 'zero') return { zeroPercent: 100, textPercent: 0, randomPercent: 0 };
  if (t === 'text') return { zeroPercent: 0, textPercent: 100, randomPercent: 0 };
  if (t === 'random') return { zeroPercent: 0, textPercent: 0, randomPercent: 100 };
  const m = /^mixed:(\d+(?:\.\d+)?)%?:(\d+(?:\.\d+)?)%?:(\d+(?:\.\d+)?)%?$/.exec(t);
  const shares = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [];
  if (!m || Math.abs(shares[0] + shares[1] + shares[2] - 100) > 1e-9) {
    throw new OptionError(
      flag,
      `${flag} must be zero, text, random or mixed:ZERO%:TEXT%:RANDOM% adding up to 100, such as mixed:25:40:35 (got ${JSON.stringify(text)})`,
    );
  }
  return { zeroPercent: shares[0], textPercent: shares[1], randomPercent: shares[2] };
}

/** A strategy is a file when it is a path (./x.js, ../x.js, /x.js) or names a .js or .mjs file. */
function isStrategyFile(text: string): boolean {
  const t = text.trim();
  return /^(\.{1,2}[\\/]|\/)/.test(t) || /\.(m?js)$/i.test(t);
}

/**
 * An optional strategy given by file (or by a name registered from code) with its options: null
 * when absent, and then its options are a mistake worth saying.
 */
function strategyOption(
  c: ResolveContext,
  key: RunOptionKey,
  optKey: RunOptionKey,
  kind: 'aid' | 'loop',
): UserStrategyConfig | null {
  const text = c.text(key);
  const opts = c.text(optKey);
  if (text === undefined) {
    if (opts !== undefined)
      throw new OptionError(flagOf(optKey), `${flagOf(optKey)} only applies with ${flagOf(key)} FILE`);
    return null;
  }
  const file =
    registeredFactory(kind, text.trim()) !== undefined
      ? `${REGISTERED_PREFIX}${text.trim()}`
      : strategyFile(flagOf(key), text, c.baseDir);
  return { file, options: parseStrategyOptions(flagOf(optKey), opts) };
}

/** The absolute path of a strategy file, which must exist. */
function strategyFile(flag: string, text: string, baseDir: string): string {
  const file = path.resolve(baseDir, text.trim());
  let ok: boolean;
  try {
    ok = statSync(file).isFile();
  } catch {
    ok = false;
  }
  if (!ok) throw new OptionError(flag, `${flag} ${text}: no such file (${file}); give a path such as ./my-strategy.js`);
  return file;
}

/** `key=value,key=value` as text by key. */
function parseStrategyOptions(flag: string, text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === undefined) return out;
  for (const piece of text.split(',')) {
    const m = /^\s*([A-Za-z_][\w.-]*)\s*=(.*)$/.exec(piece);
    if (!m)
      throw new OptionError(
        flag,
        `${flag} must be KEY=VALUE pairs separated by commas such as threshold=0.2 (got ${JSON.stringify(text)})`,
      );
    if (m[1] in out) throw new OptionError(flag, `${flag}: ${m[1]} is given twice`);
    out[m[1]] = m[2].trim();
  }
  return out;
}

function parseRingSize(text: string): number {
  const n = parseCount('--ring-size', text, LIMITS.ringSize);
  if (!isPowerOfTwo(n)) {
    throw new OptionError(
      '--ring-size',
      `--ring-size must be a power of two from 16 to 1048576 entries such as 4096 (got ${JSON.stringify(text)})`,
    );
  }
  return n;
}

/** One of a fixed set of names, case-insensitive. */
export function parseName<T extends string>(flag: string, text: string, names: readonly T[]): T {
  const name = names.find((n) => n === text.trim().toLowerCase());
  if (name === undefined)
    throw new OptionError(flag, `${flag} must be one of ${names.join(', ')} (got ${JSON.stringify(text)})`);
  return name;
}

/** `none` lifts the bound; otherwise a positive duration. */
function parseTimeout(text: string): number | null {
  if (text.trim().toLowerCase() === 'none') return null;
  const form = 'a positive duration such as 120s or 5m, or none';
  let ms: number;
  try {
    ms = parseDuration('--timeout', text);
  } catch {
    throw new OptionError('--timeout', `--timeout must be ${form} (got ${JSON.stringify(text)})`);
  }
  if (!(ms > 0)) throw new OptionError('--timeout', `--timeout must be ${form} (got ${JSON.stringify(text)})`);
  return ms;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** A boolean flag: given on the command line (true), or `true`/`false` from a suite file. */
function flag(raw: RawRunOptions, key: RunOptionKey): boolean {
  const v = raw[key];
  if (v === undefined || typeof v === 'boolean') return v ?? false;
  const t = v.trim().toLowerCase();
  if (t === 'true' || t === 'on' || t === 'yes') return true;
  if (t === 'false' || t === 'off' || t === 'no') return false;
  throw new OptionError(
    flagOf(key),
    `${flagOf(key)} is a switch: give it alone, or true or false (got ${JSON.stringify(v)})`,
  );
}

/** A percentage option within [min, max]; its default as typed is the example of a bad value's message. */
function percent(c: ResolveContext, key: RunOptionKey, min: number, max: number): number {
  const text = c.typed(key);
  const m = /^(\d+(?:\.\d+)?)\s*%?$/.exec(text.trim());
  const v = m ? Number(m[1]) : NaN;
  if (!(v >= min && v <= max)) {
    throw new OptionError(
      flagOf(key),
      `${flagOf(key)} must be a percentage from ${min} to ${max} such as ${SPECS[key].defaultText} (got ${JSON.stringify(text)})`,
    );
  }
  return v;
}

/** --auto-converge and its thresholds; a threshold without the switch is a mistake worth saying. */
function resolveAutoConverge(c: ResolveContext): AutoConvergeOptions | null {
  const keys = ['throttleThreshold', 'throttleInitial', 'throttleIncrement', 'throttleMax'] as const;
  if (!c.flag('autoConverge')) {
    const stray = keys.find((k) => c.raw[k] !== undefined);
    if (stray) throw new OptionError(flagOf(stray), `${flagOf(stray)} only applies with --auto-converge`);
    return null;
  }
  const o = {
    thresholdPercent: percent(c, 'throttleThreshold', 1, 100),
    initialPercent: percent(c, 'throttleInitial', 1, 99),
    incrementPercent: percent(c, 'throttleIncrement', 1, 99),
    maxPercent: percent(c, 'throttleMax', 1, 99),
  };
  if (o.initialPercent > o.maxPercent) {
    throw new OptionError(
      '--throttle-initial',
      `--throttle-initial (${o.initialPercent}%) must not exceed --throttle-max (${o.maxPercent}%)`,
    );
  }
  return o;
}

/** START:END:STEPS, e.g. 50ms:2s:10. */
function parseDowntimeRamp(text: string): DowntimeRampOptions {
  const form = 'START:END:STEPS such as 50ms:2s:10';
  const parts = text.split(':');
  if (parts.length !== 3)
    throw new OptionError('--downtime-ramp', `--downtime-ramp must be ${form} (got ${JSON.stringify(text)})`);
  const startMs = parseDuration('--downtime-ramp', parts[0]);
  const endMs = parseDuration('--downtime-ramp', parts[1]);
  const steps = Number(parts[2]);
  if (!(startMs > 0) || !(endMs >= startMs) || !Number.isInteger(steps) || steps < 1 || steps > 10_000) {
    throw new OptionError(
      '--downtime-ramp',
      `--downtime-ramp must be ${form}, END at least START, STEPS from 1 to 10000 (got ${JSON.stringify(text)})`,
    );
  }
  return { startMs, endMs, steps };
}

/** Bytes (64MiB) or a share of RAM (10%); at least one page, at most the RAM. */
function parseXbzrleCache(text: string, ramBytes: number, pageSizeBytes: number): number {
  let bytes: number;
  if (/^\s*\d+(\.\d+)?\s*%\s*$/.test(text)) {
    const share = Number(text.trim().replace('%', ''));
    if (!(share > 0 && share <= 100)) {
      throw new OptionError(
        '--xbzrle-cache',
        `--xbzrle-cache must be a size such as 64MiB or a share of RAM from 0 to 100% such as 10% (got ${JSON.stringify(text)})`,
      );
    }
    bytes = (ramBytes * share) / 100;
  } else {
    bytes = parseSize('--xbzrle-cache', text);
  }
  return Math.max(pageSizeBytes, Math.min(ramBytes, Math.floor(bytes / pageSizeBytes) * pageSizeBytes));
}

/** QEMU's auto-converge defaults (migration/options.c), as --auto-converge alone resolves them. */
export const DEFAULT_AUTO_CONVERGE: AutoConvergeOptions = Object.freeze(
  resolveRunConfig({ autoConverge: true }).autoConverge as AutoConvergeOptions,
);

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
