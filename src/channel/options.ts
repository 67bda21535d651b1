/**
 * The options of a migration over TCP to a `migbench receive`: where, the shared secret, an injected
 * fault. How many connections it opens is --multifd's (src/precopy/options.ts): one per channel.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { OptionError } from '../util/errors.js';
import type { OptionTable, ResolveContext } from '../util/options.js';
import { flagOf } from '../util/options.js';
import { parseTarget, type HostPort } from '../wire/address.js';
import { parseFault, type FaultSpec } from './fault.js';

export interface RemoteConfig {
  /** Migrate over TCP to a `migbench receive` there; null: the in-process (or virtual) channel. */
  target: HostPort | null;
  /** Shared secret the receiver checks (--target only); null: none. */
  token: string | null;
  /** A fault the TCP transport injects (--target only); null: none. */
  fault: FaultSpec | null;
}

export type RemoteOptionKey = 'target' | 'token' | 'tokenFile' | 'fault';
/** It reads the options that do not go over TCP, to refuse them. */
type Context = ResolveContext<
  RemoteOptionKey | 'postcopy' | 'postcopyAfter' | 'postcopyAt' | 'memory' | 'latency',
  RemoteConfig & { clock: 'real' | 'virtual' }
>;

export const REMOTE_OPTIONS: OptionTable<
  RemoteOptionKey,
  RemoteOptionKey | 'postcopy' | 'postcopyAfter' | 'postcopyAt' | 'memory' | 'latency',
  RemoteConfig & { clock: 'real' | 'virtual' }
> = {
  target: {
    flags: '--target <url>',
    description:
      "migrate over real TCP sockets to a `migbench receive` at tcp://HOST:PORT (real clock only); verified means both hosts' HMAC-SHA256 of memory and device state agree, keyed after the data is in",
    defaultText: 'none (in-process channel)',
    example: 'tcp://127.0.0.1:7000',
    // With what only applies with it: --token, --fault.
    resolve: resolveRemote,
  },
  token: {
    flags: '--token <secret>',
    description:
      'with --target: the shared secret the receiver holds; with one, every stream is TLS keyed by it (TLS-PSK: encrypted and authenticated), without one plain TCP (loopback receivers only); visible to other users of this machine (ps): prefer MIGBENCH_TOKEN or --token-file',
    defaultText: 'MIGBENCH_TOKEN, else none',
    example: 's3cret',
  },
  tokenFile: {
    flags: '--token-file <path>',
    description: 'with --target: read the shared secret from this file (its first line)',
    defaultText: 'none',
    example: '~/.migbench-token',
  },
  fault: {
    flags: '--fault <fault>',
    description:
      "with --target: inject a fault on the source side: drop@ROUND (close the connections), stall@ROUND:MS (hold frames off the wire), corrupt@ROUND (flip a byte of a frame), kill-receiver@ROUND (a receiver started with --allow-kill exits; tests only); ROUND+FRAMES strikes after that many of the round's frames (post-copy's pages go in the round after stop-and-copy, behind its end-of-migration frame)",
    defaultText: 'none',
    example: 'drop@2, drop@2+50, stall@1:10000',
  },
};

/** --target and what only applies with it: --token, --fault. */
function resolveRemote(c: Context): RemoteConfig {
  const { raw } = c;
  const targetText = c.text('target');
  if (targetText === undefined) {
    const stray = (['token', 'tokenFile', 'fault'] as const).find((k) => raw[k] !== undefined);
    if (stray) throw new OptionError(flagOf(stray), `${flagOf(stray)} only applies with --target`);
    return {
      target: null,
      token: null,
      fault: null,
    };
  }
  if (c.config.clock === 'virtual')
    throw new OptionError('--target', '--target needs --clock real (a real network runs in real time)');
  if (
    (c.flag('postcopy') || raw.postcopyAfter !== undefined || raw.postcopyAt !== undefined) &&
    c.text('memory')?.trim().toLowerCase() === 'procedural'
  ) {
    throw new OptionError(
      '--memory',
      "--target with post-copy needs --memory materialized (the target's guest writes real pages)",
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
      // Its first line only: at most 4 KiB are read (a FIFO or a device is no problem).
      const fd = openSync(file, 'r');
      try {
        const b = Buffer.alloc(4096);
        text = b.subarray(0, readSync(fd, b, 0, b.length, null)).toString('utf8');
      } finally {
        closeSync(fd);
      }
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
