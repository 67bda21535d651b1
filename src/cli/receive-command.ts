/**
 * `migbench receive`: the target host of `migbench run --target tcp://HOST:PORT`. Prints the
 * address it listens on, one line per migration (stdout), refused connections on stderr, and runs
 * until SIGINT or SIGTERM, then closes and exits 0.
 */
import type { Command } from 'commander';
import { StrategyError } from '../util/user-file.js';
import { OptionError } from '../util/errors.js';
import { resolveRunConfig, resolveToken } from '../config/options.js';
import { formatHostPort, parseHostPort } from '../wire/address.js';
import { parseCount, parseDuration, parseSize } from '../util/units.js';
import { formatBytes, formatMs } from '../util/format.js';
import { EXIT_OK, TOKEN_ON_COMMAND_LINE, onInterrupt, type CliCommand, type CliCommandContext } from './command.js';
import type { MigrationSummary } from '../receiver/target-migration.js';

interface ReceiveOptions {
  listen: string;
  token?: string;
  tokenFile?: string;
  maxRam?: string;
  maxMigrations?: string;
  frameTimeout?: string;
  codec?: string;
  codecOpt?: string;
  allowKill?: boolean;
}

const EXAMPLES = `
Binds to 127.0.0.1 unless told otherwise; any other address needs --token.
A guest whose target memory does not fit in what this host has available (or
is over --max-ram) is refused at its handshake, and the source is told why.

Examples:
  MIGBENCH_TOKEN=s3cret migbench receive --listen 127.0.0.1:0
  MIGBENCH_TOKEN=s3cret migbench run --target tcp://127.0.0.1:PORT --ram 512MiB --multifd 2`;

export const receiveCommand: CliCommand = {
  name: 'receive',
  register(program: Command, ctx: CliCommandContext): Command {
    const cmd = program
      .command('receive')
      .description('run the target host: accept migrations over TCP (from `migbench run --target`), one after another')
      .option(
        '--listen <host:port>',
        'address to listen on; port 0 picks a free one (default: 127.0.0.1:0; e.g. 0.0.0.0:7000)',
        '127.0.0.1:0',
      )
      .option(
        '--token <secret>',
        'shared secret a source must hold: with one, every stream is TLS keyed by it (TLS-PSK); required to bind beyond loopback; visible to other users (ps): prefer MIGBENCH_TOKEN or --token-file (default: MIGBENCH_TOKEN, else none; e.g. s3cret)',
      )
      .option('--token-file <path>', 'read the shared secret from this file (its first line)')
      .option(
        '--frame-timeout <duration>',
        'a frame must arrive whole within this long of its first byte, or its migration is dropped as too slow (default: 10s, a 1 MiB frame at 0.84 Mbit/s; raise it for slower links)',
      )
      .option(
        '--max-migrations <n>',
        'migrations taken at once, each with its own target memory, 1 to 16 (default: 1, one after another; another source waits up to 20 s for a slot, then is told the receiver is busy)',
      )
      .option(
        '--max-ram <size>',
        'refuse guests with more RAM than this, telling the source why (default: any guest whose target memory fits in what this host has available; e.g. 8GiB)',
      )
      .option(
        '--codec <files>',
        "codec files of the user's own this receiver decodes, comma-separated, in the order the sources' --codec names them (the built-in codecs are always decoded); a source whose codec files are not these is refused (default: none; e.g. ./examples/codecs/run-length.js)",
      )
      .option(
        '--codec-opt <key=value,...>',
        "options for the codec files' factories, as a source's --codec-opt (default: none)",
      )
      .option('--allow-kill', 'tests only: exit abruptly when a source sends the kill-receiver fault (default: off)')
      .addHelpText('after', EXAMPLES)
      .action(async () => {
        ctx.setExitCode(await receiveAction(cmd.opts<ReceiveOptions>(), ctx));
      });
    return cmd;
  },
};

async function receiveAction(opts: ReceiveOptions, ctx: CliCommandContext): Promise<number> {
  const { io } = ctx;
  const { ReceiverServer, ReceiverError } = await import('../receiver/server.js');
  let server;
  try {
    const listen = parseHostPort('--listen', opts.listen, 'HOST:PORT such as 127.0.0.1:7000 (port 0 picks one)');
    const token = resolveToken(opts.token, opts.tokenFile, io.env);
    if (opts.token !== undefined) io.err(TOKEN_ON_COMMAND_LINE);
    const maxRamBytes = opts.maxRam === undefined ? null : parseSize('--max-ram', opts.maxRam);
    const maxMigrations =
      opts.maxMigrations === undefined ? 1 : parseCount('--max-migrations', opts.maxMigrations, { min: 1, max: 16 });
    const frameTimeoutMs =
      opts.frameTimeout === undefined ? undefined : parseDuration('--frame-timeout', opts.frameTimeout);
    if (frameTimeoutMs !== undefined && !(frameTimeoutMs >= 100 && frameTimeoutMs <= 3_600_000)) {
      throw new OptionError(
        '--frame-timeout',
        `--frame-timeout must be from 100ms to 1h such as 30s (got ${JSON.stringify(opts.frameTimeout)})`,
      );
    }
    // The codec files, resolved as a source's --codec resolves them (built-in names are decoded anyway).
    const userCodecs =
      opts.codec === undefined ? [] : resolveRunConfig({ codec: opts.codec, codecOpt: opts.codecOpt }).userCodecs;
    if (opts.codecOpt !== undefined && userCodecs.length === 0)
      throw new OptionError('--codec-opt', '--codec-opt only applies with --codec FILE,...');
    server = new ReceiverServer({
      listen,
      token,
      userCodecs,
      maxRamBytes,
      maxMigrations,
      frameTimeoutMs,
      allowKill: opts.allowKill === true,
      onKill: () => process.kill(process.pid, 'SIGKILL'),
      onMigration: (s) => {
        io.out(`${formatSummary(s)}\n`);
        if (s.status === 'failed')
          io.err(
            `migbench: migration ${s.id.slice(0, 8)} rejected: ${s.reason}; its connections are closed, still listening\n`,
          );
      },
      onRefused: (peer, reason) => io.err(`migbench: refused a connection from ${peer}: ${reason}\n`),
    });
  } catch (e) {
    if (e instanceof OptionError || e instanceof ReceiverError) return ctx.usageError('migbench receive')(e.message);
    throw e;
  }
  const s = server;
  let address;
  try {
    address = await s.listen();
  } catch (e) {
    if (e instanceof ReceiverError || e instanceof StrategyError) return ctx.usageError('migbench receive')(e.message);
    io.err(`migbench: cannot listen on ${opts.listen}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  io.out(`migbench: listening on ${formatHostPort(address)}\n`);
  // Until SIGINT or SIGTERM (the shared handler: a second one kills at once).
  await new Promise<void>((resolve) => {
    onInterrupt(resolve);
  });
  await s.close();
  io.err('migbench: receiver stopped\n');
  return EXIT_OK;
}

export function formatSummary(s: MigrationSummary): string {
  const head = `migration ${s.id.slice(0, 8)} ${s.status}`;
  const figures =
    `${s.pages.toLocaleString('en-US')} pages into ${formatBytes(s.ramBytes)} RAM, ${s.frames.toLocaleString('en-US')} frames, ` +
    `${formatBytes(s.bytes)} over ${s.streams} stream${s.streams === 1 ? '' : 's'} in ${formatMs(s.durationMs)}` +
    (s.resumedAtMs === null ? '' : `, guest resumed at ${formatMs(s.resumedAtMs)}`) +
    `; receiver RSS ${formatBytes(s.rssBytes)}`;
  return s.status === 'completed' ? `${head}: ${figures}` : `${head}: ${s.reason} (${figures})`;
}
