/** The convergence aids' options: QEMU's auto-converge, vMotion's SDPS, Xen's adaptive rate, a downtime ramp, the user's aid. */
import { OptionError } from '../util/errors.js';
import { flagOf, type OptionTable, type ResolveContext } from '../util/options.js';
import { parseDuration, parseLinkRate } from '../util/units.js';
import { strategyOption, type UserStrategyConfig } from '../util/user-file.js';
import type { AutoConvergeOptions } from './auto-converge.js';
import type { DowntimeRampOptions } from './downtime-ramp.js';

export interface AidsConfig {
  /** QEMU's auto-converge, with its thresholds in percent; null: off. */
  autoConverge: AutoConvergeOptions | null;
  /** vMotion's stun during page send. */
  sdps: boolean;
  /** Xen's adaptive send rate. */
  adaptiveRate: boolean;
  /** Upper bound of the adaptive rate, bits/s; null: the link rate. */
  adaptiveMaxBitsPerSec: number | null;
  /** A downtime limit rising over rounds; null: the fixed --downtime-limit. */
  downtimeRamp: DowntimeRampOptions | null;
  /** --aid FILE: a convergence aid of the user's, acting after the built-in ones; null: none. */
  userAid: UserStrategyConfig | null;
}

export type AidOptionKey =
  | 'autoConverge'
  | 'throttleThreshold'
  | 'throttleInitial'
  | 'throttleIncrement'
  | 'throttleMax'
  | 'sdps'
  | 'adaptiveRate'
  | 'adaptiveMax'
  | 'downtimeRamp'
  | 'aid'
  | 'aidOpt';
type Context = ResolveContext<AidOptionKey, AidsConfig>;

export const AID_OPTIONS: OptionTable<AidOptionKey, AidOptionKey, AidsConfig> = {
  aid: {
    flags: '--aid <file>',
    description:
      'a convergence aid of your own: an ES module whose default export (options) => ({ name, afterRound(facts, controls), start?(controls), finalRound?(controls) }) acts after each round, after the built-in aids (see docs/your-strategy.md)',
    defaultText: 'none',
    example: './examples/aids/throttle-when-hot.js',
    resolve: (c) => ({
      userAid: strategyOption(c.text('aid'), c.text('aidOpt'), { file: '--aid', opts: '--aid-opt' }, 'aid', c.baseDir),
    }),
  },
  aidOpt: {
    flags: '--aid-opt <key=value,...>',
    description: "options for an aid file's factory, as text by key",
    defaultText: 'none',
    example: 'share=0.3',
    // Resolved with --aid.
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
};

/** A percentage option within [min, max]; its default as typed is the example of a bad value's message. */
function percent(c: Context, key: AidOptionKey, min: number, max: number): number {
  const text = c.typed(key);
  const m = /^(\d+(?:\.\d+)?)\s*%?$/.exec(text.trim());
  const v = m ? Number(m[1]) : NaN;
  if (!(v >= min && v <= max)) {
    throw new OptionError(
      flagOf(key),
      `${flagOf(key)} must be a percentage from ${min} to ${max} such as ${AID_OPTIONS[key].defaultText} (got ${JSON.stringify(text)})`,
    );
  }
  return v;
}

/** --auto-converge and its thresholds; a threshold without the switch is a mistake worth saying. */
function resolveAutoConverge(c: Context): AutoConvergeOptions | null {
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

/** QEMU's auto-converge defaults (migration/options.c), as --auto-converge alone resolves them. */
export const DEFAULT_AUTO_CONVERGE: AutoConvergeOptions = Object.freeze(
  resolveAutoConverge({
    raw: { autoConverge: true },
    text: () => undefined,
    typed: (key) => AID_OPTIONS[key].defaultText,
    flag: (key) => key === 'autoConverge',
    config: {},
    baseDir: '.',
  }) as AutoConvergeOptions,
);
