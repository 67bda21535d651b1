/**
 * A calibration's scenario in migbench's terms, from `migbench calibrate`'s options or a
 * calibration suite's: checked, and named as bench/reference/qemu/ names its references.
 */
import { OptionError } from '../util/errors.js';
import { parseCount, parseDuration, parseLinkRate, parseSize } from '../util/units.js';
import type { Scenario } from './scenario.js';

/** The scenario's options as text (commander's camelCase names; a suite file's in kebab-case). */
export interface CalibrateOptions {
  ram: string;
  wss: string;
  dirtyRate: string;
  pattern: string;
  maxBandwidth: string;
  downtimeLimit: string;
  xbzrleCache?: string;
  autoConverge?: boolean;
  postcopyAfter?: string;
  multifd?: string;
  link?: string;
  timeout: string;
  name?: string;
}

/** Their defaults, as help shows them. */
export const CALIBRATE_DEFAULTS = {
  ram: '256MiB',
  wss: '128MiB',
  dirtyRate: '4096pages/s',
  pattern: 'random',
  maxBandwidth: '32MiB/s',
  downtimeLimit: '300ms',
  timeout: '60s',
} as const;

/** The scenario options a calibration suite may set or vary (the machine's are the suite's own). */
export const CALIBRATE_KEYS = [
  'ram',
  'wss',
  'dirtyRate',
  'pattern',
  'maxBandwidth',
  'downtimeLimit',
  'xbzrleCache',
  'autoConverge',
  'postcopyAfter',
  'multifd',
  'link',
  'timeout',
] as const;

/** A rate in bytes per second: binary (32MiB/s, as QEMU's max-bandwidth is usually given) or decimal (100MB/s, 1Gbit/s). */
function parseByteRate(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(KiB|MiB|GiB)\/s$/.exec(text.trim());
  if (m) return Math.round(Number(m[1]) * 2 ** { KiB: 10, MiB: 20, GiB: 30 }[m[2] as 'KiB']);
  const bits = parseLinkRate(flag, text);
  if (bits === null) throw new OptionError(flag, `${flag} must be a rate such as 32MiB/s or 100MB/s (got ${text})`);
  return Math.round(bits / 8);
}

/** The scenario from the options, checked; its name as the references are named. */
export function scenarioOf(o: CalibrateOptions): Scenario {
  const mib = (flag: string, text: string): number => {
    const b = parseSize(flag, text);
    if (b % 2 ** 20 !== 0 || b === 0) throw new OptionError(flag, `${flag} is a whole number of MiB (got ${text})`);
    return b / 2 ** 20;
  };
  const ramMiB = mib('--ram', o.ram);
  const wssMiB = mib('--wss', o.wss);
  if (wssMiB > ramMiB - 32)
    throw new OptionError(
      '--wss',
      `--wss must leave the guest's kernel 32 MiB of the --ram (${wssMiB} of ${ramMiB} MiB)`,
    );
  const rate = /^(\d+)pages\/s$/.exec(o.dirtyRate.trim());
  if (!rate)
    throw new OptionError(
      '--dirty-rate',
      `--dirty-rate is the writer's page writes per second, such as 2000pages/s (got ${o.dirtyRate})`,
    );
  if (o.pattern !== 'random' && o.pattern !== 'seq')
    throw new OptionError('--pattern', `--pattern is random or seq (got ${o.pattern})`);
  const bw = parseByteRate('--max-bandwidth', o.maxBandwidth);
  const downtime = parseDuration('--downtime-limit', o.downtimeLimit);
  const timeout = parseDuration('--timeout', o.timeout);
  const s = {
    name: '',
    ramMiB,
    wssMiB,
    ratePagesPerSec: Number(rate[1]),
    pattern: o.pattern,
    maxBandwidthBytesPerSec: bw,
    downtimeLimitMs: downtime,
    xbzrleCacheMiB: o.xbzrleCache === undefined ? null : mib('--xbzrle-cache', o.xbzrleCache),
    autoConverge: o.autoConverge === true,
    postcopyAfter:
      o.postcopyAfter === undefined ? null : parseCount('--postcopy-after', o.postcopyAfter, { min: 1, max: 1000 }),
    multifd: o.multifd === undefined ? null : parseCount('--multifd', o.multifd, { min: 1, max: 64 }),
    linkBytesPerSec: o.link === undefined ? null : parseByteRate('--link', o.link),
    timeoutS: timeout / 1000,
    backlogMs: 2,
  } as const;
  const name =
    o.name ??
    [
      s.multifd !== null ? `mf${s.multifd}` : s.postcopyAfter !== null ? 'pc' : 'cal',
      `r${ramMiB}`,
      `w${wssMiB}`,
      `bw${Math.round(bw / 2 ** 20)}`,
      `r${s.ratePagesPerSec}`,
      ...(s.postcopyAfter !== null ? [`after${s.postcopyAfter}`] : [`dt${downtime}`]),
      ...(s.xbzrleCacheMiB !== null ? [`xbzrle${s.xbzrleCacheMiB}`] : []),
      ...(s.autoConverge ? ['ac'] : []),
      ...(s.linkBytesPerSec !== null ? [`link${Math.round(s.linkBytesPerSec / 2 ** 20)}`] : []),
    ].join('_');
  return { ...s, name };
}
