/** The migration link's options: its rate and one-way latency. */
import { OptionError } from '../util/errors.js';
import type { OptionTable } from '../util/options.js';
import { parseDuration, parseLinkRate, parseSize } from '../util/units.js';
import type { ClockConfig } from '../clock/options.js';

export interface LinkConfig {
  /** Link rate in bits per second (decimal); null means unlimited. */
  linkBitsPerSec: number | null;
  /** One-way link latency, milliseconds. */
  latencyMs: number;
  /**
   * With an unlimited link on the virtual clock: the rate one migration's bytes go through the
   * host (the sender's socket writes, loopback, the receiver's reads into guest memory), bits/s.
   */
  hostCopyBitsPerSec: number;
  /**
   * On the virtual clock over a link of finite rate: the sending socket's buffer, bytes. The sender
   * writes up to this far ahead of the wire, so its writes complete before the bytes leave, and what
   * it wrote last (the device state) waits behind what fills the buffer. 0: the sender waits for the
   * wire before each frame.
   */
  sendBufferBytes: number;
}

/**
 * The default host copy rate: one stream of 32 KiB writes (QEMU's QEMUFile buffer) over loopback
 * TCP from one process to another on this project's machines (2 cores), as `npm run
 * bench:loopback` measures it: medians of 3 runs 1.76, 2.04 and 2.08 GB/s, 2 GB/s.
 */
export const DEFAULT_HOST_COPY_RATE = '2GB/s';

export const LINK_LIMITS = {
  /** One-way latency above this is a misconfiguration (10 s). */
  maxLatencyMs: 10_000,
} as const;

export type LinkOptionKey = 'link' | 'latency' | 'hostCopyRate' | 'sendBuffer';

export const LINK_OPTIONS: OptionTable<LinkOptionKey, LinkOptionKey, LinkConfig & Pick<ClockConfig, 'clock'>> = {
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
  hostCopyRate: {
    flags: '--host-copy-rate <rate>',
    description:
      'with --link unlimited and --clock virtual: the rate one migration moves bytes through the host (socket writes, loopback, reads into guest memory), so a loopback migration is not free; the default was measured here, one stream of 32 KiB writes over loopback TCP between two processes (npm run bench:loopback)',
    defaultText: DEFAULT_HOST_COPY_RATE,
    example: '3GB/s',
    resolve: (c) => {
      const text = c.text('hostCopyRate');
      if (text !== undefined && c.config.clock !== 'virtual')
        throw new OptionError(
          '--host-copy-rate',
          '--host-copy-rate only applies with --clock virtual (on the real clock the copy is real)',
        );
      const bits = parseLinkRate('--host-copy-rate', text ?? DEFAULT_HOST_COPY_RATE);
      if (bits === null)
        throw new OptionError('--host-copy-rate', '--host-copy-rate must be a rate such as 2GB/s (got "unlimited")');
      return { hostCopyBitsPerSec: bits };
    },
  },
  sendBuffer: {
    flags: '--send-buffer <size>',
    description:
      "with --clock virtual and a --link of finite rate: the sending socket's buffer, which the sender fills ahead of the wire (Linux autotunes a TCP socket's up to tcp_wmem's 4MiB); a sender faster than the link keeps it full, and the stop-and-copy's bytes and post-copy's requested pages wait behind it; 0 for none",
    defaultText: '0',
    example: '4MiB',
    resolve: (c) => {
      const text = c.text('sendBuffer');
      if (text === undefined || text.trim() === '0') return { sendBufferBytes: 0 };
      if (c.config.clock !== 'virtual')
        throw new OptionError(
          '--send-buffer',
          "--send-buffer only applies with --clock virtual (on the real clock the sockets' own buffers apply)",
        );
      return { sendBufferBytes: parseSize('--send-buffer', text) };
    },
  },
};
