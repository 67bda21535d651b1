/**
 * The one resolver from user text to a RunConfig: an absent option takes its value from
 * DEFAULT_RUN_CONFIG, a present one is parsed, then the options are checked against each other.
 * Keys are the option names in camelCase (commander's attribute names: `--page-size` is
 * `pageSize`); keys that are not run options (`json`, `quiet`, ...) are ignored.
 */
import { OptionError } from './errors.js';
import { DEFAULT_AUTO_CONVERGE, DEFAULT_RUN_CONFIG, DEFAULT_VIRTUAL_TIMEOUT_MS, type ContentMix, type RunConfig } from './types.js';
import type { AutoConvergeOptions } from '../converge/auto-converge.js';
import type { DowntimeRampOptions } from '../converge/downtime-ramp.js';
import { parseCount, parseDirtyRate, parseDuration, parseLinkRate, parsePattern, parseSize } from './units.js';
import { formatBytes } from '../util/format.js';
import { POLICY_NAMES } from '../policy/registry.js';
import { parseCodecList } from '../codec/registry.js';
import { DIRTY_LOG_NAMES } from '../dirtylog/registry.js';
import { parseTarget } from './address.js';
import { parseFault } from '../channel/fault.js';

export type RawRunOptions = Record<string, string | boolean | undefined>;

/** The run options the resolver reads, as commander names their values. */
export const RUN_OPTION_KEYS = [
  'ram', 'pageSize', 'vcpus', 'dirtyRate', 'pattern', 'writeSize', 'link', 'latency', 'policy',
  'downtimeLimit', 'maxIterations', 'timeout', 'seed', 'dirtyLog', 'ringSize', 'content', 'clock',
  'autoConverge', 'throttleThreshold', 'throttleInitial', 'throttleIncrement', 'throttleMax', 'sdps', 'adaptiveRate',
  'adaptiveMax', 'downtimeRamp', 'postcopy', 'postcopyAfter', 'codec', 'xbzrleCache', 'deflateLevel', 'compressThreads',
  'chargeCpu', 'target', 'token', 'streams', 'fault',
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

export function resolveRunConfig(raw: RawRunOptions): RunConfig {
  const text = (key: RunOptionKey): string | undefined => {
    const v = raw[key];
    if (typeof v === 'boolean') throw new OptionError(flagOf(key), `${flagOf(key)} needs a value`);
    return v;
  };
  const d = DEFAULT_RUN_CONFIG;

  const pageSizeText = text('pageSize');
  const pageSizeBytes = pageSizeText === undefined ? d.pageSizeBytes : parseSize('--page-size', pageSizeText);
  if (!isPowerOfTwo(pageSizeBytes) || pageSizeBytes < LIMITS.minPageSizeBytes || pageSizeBytes > LIMITS.maxPageSizeBytes) {
    throw new OptionError('--page-size',
      `--page-size must be a power of two from 4KiB to 2MiB such as 4KiB or 2MiB (got ${JSON.stringify(pageSizeText)})`);
  }

  const ramText = text('ram');
  const ramBytes = ramText === undefined ? d.ramBytes : parseSize('--ram', ramText);
  if (ramBytes % pageSizeBytes !== 0) {
    throw new OptionError('--ram',
      `--ram must be a multiple of the page size (${formatBytes(pageSizeBytes)}) such as 512MiB `
      + `(got ${JSON.stringify(ramText)} = ${ramBytes} bytes)`);
  }
  if (ramBytes / pageSizeBytes < LIMITS.minRamPages) {
    throw new OptionError('--ram',
      `--ram must be at least ${LIMITS.minRamPages} pages (${formatBytes(LIMITS.minRamPages * pageSizeBytes)} `
      + `with ${formatBytes(pageSizeBytes)} pages) (got ${JSON.stringify(ramText)})`);
  }
  if (ramBytes > LIMITS.maxRamBytes) {
    throw new OptionError('--ram', `--ram must be at most 64GiB (got ${JSON.stringify(ramText)})`);
  }

  const writeSizeText = text('writeSize');
  const writeSizeBytes = writeSizeText === undefined ? d.writeSizeBytes : parseSize('--write-size', writeSizeText);
  if (writeSizeBytes > pageSizeBytes) {
    throw new OptionError('--write-size',
      `--write-size must be from 1 byte to the page size (${formatBytes(pageSizeBytes)}) such as 8 or 64 `
      + `(got ${JSON.stringify(writeSizeText)})`);
  }

  const dirtyText = text('dirtyRate');
  // The default is a byte rate (100MB/s), so with another page size it keeps its bytes per second.
  const dirtyPagesPerSec = dirtyText === undefined
    ? Math.floor((d.dirtyPagesPerSec * d.pageSizeBytes) / pageSizeBytes)
    : parseDirtyRate('--dirty-rate', dirtyText, pageSizeBytes);

  const patternText = text('pattern');
  const linkText = text('link');
  const latencyText = text('latency');
  const latencyMs = latencyText === undefined ? d.latencyMs : parseDuration('--latency', latencyText);
  if (latencyMs > LIMITS.maxLatencyMs) {
    throw new OptionError('--latency', `--latency must be a duration from 0 to 10s such as 0.1ms or 20ms (got ${JSON.stringify(latencyText)})`);
  }

  const downtimeText = text('downtimeLimit');
  const downtimeLimitMs = downtimeText === undefined ? d.downtimeLimitMs : parseDuration('--downtime-limit', downtimeText);
  if (!(downtimeLimitMs > 0)) {
    throw new OptionError('--downtime-limit',
      `--downtime-limit must be a positive duration such as 300ms or 1s (got ${JSON.stringify(downtimeText)})`);
  }

  const timeoutText = text('timeout');
  const clock = resolveName('--clock', text('clock'), ['real', 'virtual'] as const, d.clock);
  // Simulated time is cheap: the virtual clock's default bound lets slow convergence finish.
  const timeoutMs = resolveTimeout(timeoutText, clock === 'virtual' ? DEFAULT_VIRTUAL_TIMEOUT_MS : d.timeoutMs);

  const maxIterationsText = text('maxIterations');
  const vcpusText = text('vcpus');
  const seedText = text('seed');

  return {
    ramBytes,
    pageSizeBytes,
    vcpus: vcpusText === undefined ? d.vcpus : parseCount('--vcpus', vcpusText, LIMITS.vcpus),
    dirtyPagesPerSec,
    pattern: patternText === undefined ? d.pattern : parsePattern('--pattern', patternText),
    writeSizeBytes,
    linkBitsPerSec: linkText === undefined ? d.linkBitsPerSec : parseLinkRate('--link', linkText),
    latencyMs,
    policy: resolveName('--policy', text('policy'), POLICY_NAMES, d.policy),
    downtimeLimitMs,
    maxIterations: maxIterationsText === undefined
      ? d.maxIterations
      : parseCount('--max-iterations', maxIterationsText, LIMITS.maxIterations),
    timeoutMs,
    seed: seedText === undefined ? d.seed : parseCount('--seed', seedText, LIMITS.seed),
    dirtyLog: resolveName('--dirty-log', text('dirtyLog'), DIRTY_LOG_NAMES, d.dirtyLog),
    ringSizeEntries: resolveRingSize(text('ringSize'), d.ringSizeEntries),
    content: resolveContent(text('content'), d.content),
    clock,
    autoConverge: resolveAutoConverge(raw, text),
    sdps: flag(raw, 'sdps'),
    adaptiveRate: flag(raw, 'adaptiveRate'),
    adaptiveMaxBitsPerSec: resolveAdaptiveMax(raw, text('adaptiveMax')),
    downtimeRamp: resolveDowntimeRamp(text('downtimeRamp')),
    codecs: text('codec') === undefined ? d.codecs : parseCodecList(text('codec') as string),
    xbzrleCacheBytes: resolveXbzrleCache(text('xbzrleCache'), ramBytes, pageSizeBytes, d.xbzrleCacheBytes),
    deflateLevel: text('deflateLevel') === undefined ? d.deflateLevel : parseCount('--deflate-level', text('deflateLevel') as string, { min: 0, max: 9 }),
    compressThreads: text('compressThreads') === undefined ? d.compressThreads : parseCount('--compress-threads', text('compressThreads') as string, LIMITS.compressThreads),
    chargeCpu: resolveChargeCpu(raw, clock),
    // --postcopy-after N implies --postcopy.
    postcopy: flag(raw, 'postcopy') || text('postcopyAfter') !== undefined,
    postcopyAfterRounds: text('postcopyAfter') === undefined ? null : parseCount('--postcopy-after', text('postcopyAfter') as string, { min: 0, max: LIMITS.maxIterations.max }),
    ...resolveRemote(raw, text, clock),
  };
}

/** --target and what only applies with it: --token, --streams, --fault. */
function resolveRemote(
  raw: RawRunOptions, text: (key: RunOptionKey) => string | undefined, clock: 'real' | 'virtual',
): Pick<RunConfig, 'target' | 'token' | 'streams' | 'fault'> {
  const d = DEFAULT_RUN_CONFIG;
  const targetText = text('target');
  if (targetText === undefined) {
    const stray = (['token', 'streams', 'fault'] as const).find((k) => raw[k] !== undefined);
    if (stray) throw new OptionError(flagOf(stray), `${flagOf(stray)} only applies with --target`);
    return { target: d.target, token: d.token, streams: d.streams, fault: d.fault };
  }
  if (clock === 'virtual') throw new OptionError('--target', '--target needs --clock real (a real network runs in real time)');
  if (flag(raw, 'postcopy') || raw.postcopyAfter !== undefined) {
    throw new OptionError('--target', '--target does not support --postcopy yet (the target\'s vCPUs would run in this process)');
  }
  if (raw.latency !== undefined) {
    throw new OptionError('--latency', '--latency emulates the in-process link; with --target the real network\'s latency applies');
  }
  const token = text('token');
  if (token !== undefined && Buffer.byteLength(token, 'utf8') > 256) throw new OptionError('--token', '--token must be at most 256 bytes such as s3cret');
  return {
    target: parseTarget('--target', targetText),
    token: token ?? null,
    streams: text('streams') === undefined ? d.streams : parseCount('--streams', text('streams') as string, LIMITS.streams),
    fault: text('fault') === undefined ? null : parseFault('--fault', text('fault') as string),
  };
}

/** `zero`, `text`, `random`, or `mixed:ZERO%:TEXT%:RANDOM%` adding up to 100. */
function resolveContent(text: string | undefined, fallback: ContentMix): ContentMix {
  if (text === undefined) return fallback;
  const t = text.trim().toLowerCase();
  if (t === 'zero') return { zeroPercent: 100, textPercent: 0, randomPercent: 0 };
  if (t === 'text') return { zeroPercent: 0, textPercent: 100, randomPercent: 0 };
  if (t === 'random') return { zeroPercent: 0, textPercent: 0, randomPercent: 100 };
  const m = /^mixed:(\d+(?:\.\d+)?)%?:(\d+(?:\.\d+)?)%?:(\d+(?:\.\d+)?)%?$/.exec(t);
  const shares = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [];
  if (!m || Math.abs(shares[0] + shares[1] + shares[2] - 100) > 1e-9) {
    throw new OptionError('--content',
      `--content must be zero, text, random or mixed:ZERO%:TEXT%:RANDOM% adding up to 100, such as mixed:25:40:35 (got ${JSON.stringify(text)})`);
  }
  return { zeroPercent: shares[0], textPercent: shares[1], randomPercent: shares[2] };
}

function resolveRingSize(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = parseCount('--ring-size', text, LIMITS.ringSize);
  if (!isPowerOfTwo(n)) {
    throw new OptionError('--ring-size', `--ring-size must be a power of two from 16 to 1048576 entries such as 4096 (got ${JSON.stringify(text)})`);
  }
  return n;
}

/** One of a fixed set of names, case-insensitive. */
function resolveName<T extends string>(flag: string, text: string | undefined, names: readonly T[], fallback: T): T {
  if (text === undefined) return fallback;
  const name = names.find((n) => n === text.trim().toLowerCase());
  if (name === undefined) throw new OptionError(flag, `${flag} must be one of ${names.join(', ')} (got ${JSON.stringify(text)})`);
  return name;
}

/** `none` lifts the bound; otherwise a positive duration. */
function resolveTimeout(text: string | undefined, fallback: number | null): number | null {
  if (text === undefined) return fallback;
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
  throw new OptionError(flagOf(key), `${flagOf(key)} is a switch: give it alone, or true or false (got ${JSON.stringify(v)})`);
}

function percent(key: RunOptionKey, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)\s*%?$/.exec(text.trim());
  const v = m ? Number(m[1]) : NaN;
  if (!(v >= min && v <= max)) {
    throw new OptionError(flagOf(key), `${flagOf(key)} must be a percentage from ${min} to ${max} such as ${fallback}% (got ${JSON.stringify(text)})`);
  }
  return v;
}

/** --auto-converge and its thresholds; a threshold without the switch is a mistake worth saying. */
function resolveAutoConverge(raw: RawRunOptions, text: (key: RunOptionKey) => string | undefined): AutoConvergeOptions | null {
  const d = DEFAULT_AUTO_CONVERGE;
  const keys = ['throttleThreshold', 'throttleInitial', 'throttleIncrement', 'throttleMax'] as const;
  if (!flag(raw, 'autoConverge')) {
    const stray = keys.find((k) => raw[k] !== undefined);
    if (stray) throw new OptionError(flagOf(stray), `${flagOf(stray)} only applies with --auto-converge`);
    return null;
  }
  const o = {
    thresholdPercent: percent('throttleThreshold', text('throttleThreshold'), d.thresholdPercent, 1, 100),
    initialPercent: percent('throttleInitial', text('throttleInitial'), d.initialPercent, 1, 99),
    incrementPercent: percent('throttleIncrement', text('throttleIncrement'), d.incrementPercent, 1, 99),
    maxPercent: percent('throttleMax', text('throttleMax'), d.maxPercent, 1, 99),
  };
  if (o.initialPercent > o.maxPercent) {
    throw new OptionError('--throttle-initial', `--throttle-initial (${o.initialPercent}%) must not exceed --throttle-max (${o.maxPercent}%)`);
  }
  return o;
}

function resolveAdaptiveMax(raw: RawRunOptions, text: string | undefined): number | null {
  if (text === undefined) return null;
  if (!flag(raw, 'adaptiveRate')) throw new OptionError('--adaptive-max', '--adaptive-max only applies with --adaptive-rate');
  const bits = parseLinkRate('--adaptive-max', text);
  return bits;
}

/** START:END:STEPS, e.g. 50ms:2s:10. */
function resolveDowntimeRamp(text: string | undefined): DowntimeRampOptions | null {
  if (text === undefined) return null;
  const form = 'START:END:STEPS such as 50ms:2s:10';
  const parts = text.split(':');
  if (parts.length !== 3) throw new OptionError('--downtime-ramp', `--downtime-ramp must be ${form} (got ${JSON.stringify(text)})`);
  const startMs = parseDuration('--downtime-ramp', parts[0]);
  const endMs = parseDuration('--downtime-ramp', parts[1]);
  const steps = Number(parts[2]);
  if (!(startMs > 0) || !(endMs >= startMs) || !Number.isInteger(steps) || steps < 1 || steps > 10_000) {
    throw new OptionError('--downtime-ramp', `--downtime-ramp must be ${form}, END at least START, STEPS from 1 to 10000 (got ${JSON.stringify(text)})`);
  }
  return { startMs, endMs, steps };
}

/** Bytes (64MiB) or a share of RAM (10%); at least one page, at most the RAM. */
function resolveXbzrleCache(text: string | undefined, ramBytes: number, pageSizeBytes: number, fallback: number): number {
  let bytes: number;
  if (text === undefined) {
    bytes = fallback;
  } else if (/^\s*\d+(\.\d+)?\s*%\s*$/.test(text)) {
    const share = Number(text.trim().replace('%', ''));
    if (!(share > 0 && share <= 100)) {
      throw new OptionError('--xbzrle-cache', `--xbzrle-cache must be a size such as 64MiB or a share of RAM from 0 to 100% such as 10% (got ${JSON.stringify(text)})`);
    }
    bytes = (ramBytes * share) / 100;
  } else {
    bytes = parseSize('--xbzrle-cache', text);
  }
  return Math.max(pageSizeBytes, Math.min(ramBytes, Math.floor(bytes / pageSizeBytes) * pageSizeBytes));
}

function resolveChargeCpu(raw: RawRunOptions, clock: 'real' | 'virtual'): boolean {
  const on = flag(raw, 'chargeCpu');
  if (on && clock !== 'virtual') throw new OptionError('--charge-cpu', '--charge-cpu only applies with --clock virtual (the real clock pays CPU time anyway)');
  return on;
}
