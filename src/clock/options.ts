/** The run's clock and the bound on its whole migration on that clock. */
import { OptionError } from '../util/errors.js';
import { parseName, type OptionTable } from '../util/options.js';
import { parseDuration } from '../util/units.js';

export interface ClockConfig {
  /** `real`: worker threads in real time; `virtual`: simulated time, deterministic for a seed. */
  clock: 'real' | 'virtual';
  /** Bound on the whole migration on its clock (simulated time on the virtual clock), ms; null: none. */
  timeoutMs: number | null;
}

/** --timeout's default on the virtual clock: ten minutes of simulated time. */
const VIRTUAL_DEFAULT_TIMEOUT = '10m';

export type ClockOptionKey = 'clock' | 'timeout';

export const CLOCK_OPTIONS: OptionTable<ClockOptionKey, ClockOptionKey, ClockConfig> = {
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
  clock: {
    flags: '--clock <kind>',
    description:
      'real (vCPU and channel threads in real time) or virtual (simulated time the driver advances: same kernels and bytes, deterministic for a seed, much faster than real time)',
    defaultText: 'real',
    example: 'virtual',
    resolve: (c) => ({ clock: parseName('--clock', c.typed('clock'), ['real', 'virtual'] as const) }),
  },
};

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
