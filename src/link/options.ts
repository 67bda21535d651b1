/** The migration link's options: its rate and one-way latency. */
import { OptionError } from '../util/errors.js';
import type { OptionTable } from '../util/options.js';
import { parseDuration, parseLinkRate } from '../util/units.js';

export interface LinkConfig {
  /** Link rate in bits per second (decimal); null means unlimited. */
  linkBitsPerSec: number | null;
  /** One-way link latency, milliseconds. */
  latencyMs: number;
}

export const LINK_LIMITS = {
  /** One-way latency above this is a misconfiguration (10 s). */
  maxLatencyMs: 10_000,
} as const;

export type LinkOptionKey = 'link' | 'latency';

export const LINK_OPTIONS: OptionTable<LinkOptionKey, LinkOptionKey, LinkConfig> = {
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
      if (latencyMs > LINK_LIMITS.maxLatencyMs) {
        throw new OptionError(
          '--latency',
          `--latency must be a duration from 0 to 10s such as 0.1ms or 20ms (got ${JSON.stringify(c.text('latency'))})`,
        );
      }
      return { latencyMs };
    },
  },
};
