/**
 * The running guest's options: its vCPUs, how fast and where they write, what its pages hold, and
 * the seed of it all.
 */
import { OptionError } from '../util/errors.js';
import type { OptionTable, ResolveContext } from '../util/options.js';
import { formatBytes } from '../util/format.js';
import { parseCount, parseDirtyRate, parseDuration, parseSize } from '../util/units.js';
import type { ContentMix } from '../memory/content.js';
import type { MemoryConfig } from '../memory/options.js';
import { hotPageCount, parsePattern, type WritePattern } from './pattern.js';
import { traceFacts, type TraceConfig } from '../trace/options.js';

export interface GuestConfig {
  /** Emulated vCPUs, one writer worker each. */
  vcpus: number;
  /** Page writes per second over all vCPUs (QEMU's dirty-rate unit: 200MB/s = 200e6 / pageSize). */
  pageWritesPerSec: number;
  pattern: WritePattern;
  /** Bytes changed by one write (default 8). */
  writeSizeBytes: number;
  /** After a throttle sleep, the writes due in its last catchUpMs are made up, the rest dropped. */
  catchUpMs: number;
  /** Shares of zero, text-like and random pages; writes keep a page's kind. */
  content: ContentMix;
  /** Seed of the initial content and, unless writeSeed differs, of the write streams. */
  seed: number;
  /**
   * Seed of the write streams (which pages, where, what bytes): the seed itself, or, for a suite's
   * repeat r > 0, one derived from it (repeatConfig), so repeats of one configuration differ in
   * their workload while their guests start from the same memory.
   */
  writeSeed: number;
}

export const GUEST_LIMITS = {
  vcpus: { min: 1, max: 64 },
  seed: { min: 0, max: 2 ** 32 - 1 },
} as const;

export type GuestOptionKey =
  'vcpus' | 'dirtyRate' | 'pattern' | 'writeSize' | 'catchUp' | 'content' | 'contentHot' | 'seed' | 'writeSeed';
type Context = ResolveContext<GuestOptionKey, GuestConfig & MemoryConfig & TraceConfig>;

export const GUEST_OPTIONS: OptionTable<GuestOptionKey, GuestOptionKey, GuestConfig & MemoryConfig & TraceConfig> = {
  vcpus: {
    flags: '--vcpus <n>',
    description: 'emulated vCPUs (one writer worker each), 1 to 64',
    defaultText: '2',
    example: '8',
    resolve: (c) => ({ vcpus: parseCount('--vcpus', c.typed('vcpus'), GUEST_LIMITS.vcpus) }),
  },
  dirtyRate: {
    flags: '--dirty-rate <rate>',
    description:
      'page writes per second over all vCPUs: decimal bytes/s divided by the page size (kB/s, MB/s, GB/s), or N pages/s, or 0 for an idle guest',
    defaultText: '100MB/s',
    example: '200MB/s, 50000pages/s',
    // A byte rate: with another page size it keeps its bytes per second.
    // A trace's: its recording's mean, at --trace-speed (what reports compare the achieved rate with).
    resolve: (c) => ({
      pageWritesPerSec: c.config.trace
        ? traceFacts(c.config.trace.file).meanPagesPerSec * c.config.trace.speed
        : parseDirtyRate('--dirty-rate', c.typed('dirtyRate'), c.config.pageSizeBytes as number),
    }),
  },
  pattern: {
    flags: '--pattern <pattern>',
    description:
      'where writes land: uniform, sequential (every page in order), sequential:FRACTION (that fraction of pages in order, a working set), or hotset:FRACTION:PROBABILITY (that fraction of pages takes that probability of writes)',
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
  seed: {
    flags: '--seed <n>',
    description:
      "seed of the initial memory content and the write streams, 0 to 4294967295 (a suite's repeats derive their write streams' seeds from it)",
    defaultText: '1',
    example: '42',
    resolve: (c) => {
      const seed = parseCount('--seed', c.typed('seed'), GUEST_LIMITS.seed);
      const writeSeed =
        c.text('writeSeed') === undefined ? seed : parseCount('--write-seed', c.typed('writeSeed'), GUEST_LIMITS.seed);
      return { seed, writeSeed };
    },
  },
  // Resolved with --seed.
  writeSeed: {
    flags: '--write-seed <n>',
    description:
      "seed of the guest's write streams alone, 0 to 4294967295 (the memory's content keeps --seed): what a suite's repeat after the first ran with, its result's config.writeSeed, so that run can be run again by its options",
    defaultText: 'the --seed',
    example: '2718281828',
  },
};

/** --content and --content-hot: the shares, placed around the hot set where there is one. */
function resolveContent(c: Context): Pick<GuestConfig, 'content'> {
  // A trace's guest starts all zero; set-up then puts the recorded content in (src/driver/setup.ts).
  if (c.config.trace) return { content: { zeroPercent: 100, textPercent: 0, randomPercent: 0 } };
  const mix = parseContent('--content', c.typed('content'));
  const hotText = c.text('contentHot');
  const pattern = c.config.pattern as WritePattern;
  // The pages that take the writes: a hot set, or a walked working set; zero pages lie outside them.
  const fraction = pattern.kind === 'uniform' ? undefined : pattern.fraction;
  if (fraction === undefined) {
    if (hotText !== undefined)
      throw new OptionError(
        '--content-hot',
        `--content-hot applies with --pattern hotset:FRACTION:PROBABILITY or sequential:FRACTION (the pattern is ${pattern.kind})`,
      );
    return { content: mix };
  }
  const pageCount = (c.config.ramBytes as number) / (c.config.pageSizeBytes as number);
  const placement = { pageCount, hotPages: hotPageCount(pageCount, fraction) };
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
