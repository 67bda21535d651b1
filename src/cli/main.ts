/**
 * The migbench command line. Commands live one per file in src/cli/ and are listed in COMMANDS.
 * Exit codes: 0 success, 1 a failed migration or an unexpected error, 2 bad input (one line
 * `migbench: <message>` on stderr, plus a hint naming the help to read).
 */
import { Command, CommanderError, type OutputConfiguration } from 'commander';
import {
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  type CliCommand,
  type CliCommandContext,
  type CliIO,
  type UsageErrorReporter,
} from './command.js';
import { compareCommand } from './compare-command.js';
import { reportCommand } from './report-command.js';
import { runCommand } from './run-command.js';
import { suiteCommand } from './suite-command.js';
import { modelCommand } from './model-command.js';
import { receiveCommand } from './receive-command.js';
import { evacuateCommand } from './evacuate-command.js';
import { recordCommand } from './record-command.js';
import { traceCommand } from './trace-command.js';
import { completionCommand } from './completion-command.js';
import { calibrateCommand } from './calibrate-command.js';
import { migbenchVersion } from './version.js';

/** Adding a command (suite, report, compare, model, receive) is adding its file and a line here. */
const COMMANDS: readonly CliCommand[] = [
  runCommand,
  evacuateCommand,
  suiteCommand,
  reportCommand,
  compareCommand,
  modelCommand,
  receiveCommand,
  recordCommand,
  traceCommand,
  calibrateCommand,
  completionCommand,
];

export async function main(argv: string[]): Promise<number> {
  endQuietlyOnClosedStdout();
  const io = processIO();
  try {
    return await runCli(argv, io);
  } catch (e) {
    reportUnexpected(e, io);
    return EXIT_FAILED;
  }
}

/** main() without the process: argv after the program name, and where to write. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  let exitCode = EXIT_OK;
  const usageError =
    (commandPath: string): UsageErrorReporter =>
    (message) => {
      io.err(`migbench: ${oneLine(message)}\n${helpHint(commandPath)}\n`);
      return EXIT_USAGE;
    };
  const ctx: CliCommandContext = {
    io,
    version: migbenchVersion(),
    setExitCode: (code) => {
      exitCode = code;
    },
    usageError,
  };

  const program = new Command('migbench')
    .description(
      'Emulates and measures the iterative pre-copy live migration of a running VM, with real bytes in real memory.',
    )
    .version(ctx.version, '-V, --version', 'print the migbench version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', "show a command's help (as migbench COMMAND --help)")
    // Settings made before .command() are inherited by every command.
    .exitOverride()
    .configureOutput(outputFor(io))
    .showHelpAfterError(helpHint('migbench'))
    .addHelpText('after', "\nRun 'migbench <command> --help' for a command's options.");

  for (const command of COMMANDS) {
    command.register(program, ctx).showHelpAfterError(helpHint(`migbench ${command.name}`));
  }

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    // Commander has already printed its message (or the help) through outputFor().
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    throw e;
  }
  return exitCode;
}

function helpHint(commandPath: string): string {
  return `Try '${commandPath} --help'.`;
}

/** Commander's `error: ...` becomes `migbench: ...` on one line (its "Did you mean" included). */
function outputFor(io: CliIO): OutputConfiguration {
  return {
    writeOut: (s) => io.out(s),
    writeErr: (s) => io.err(s),
    outputError: (s, write) => write(`migbench: ${oneLine(s.replace(/^error:\s*/, ''))}\n`),
  };
}

function oneLine(s: string): string {
  return s
    .trim()
    .split(/\s*\n\s*/)
    .join(' ');
}

/**
 * `migbench run --help | head -1`: the reader went away. Nothing more can be said on stdout, and it
 * is not a failure of the run: the process ends at once, with no stack trace (exit 0, as `yes` and
 * `seq` do under a closed pipe when they ignore SIGPIPE).
 */
function endQuietlyOnClosedStdout(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

function processIO(): CliIO {
  return {
    out: (s) => {
      process.stdout.write(s);
    },
    err: (s) => {
      process.stderr.write(s);
    },
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    columns: process.stdout.isTTY === true ? process.stdout.columns : undefined,
    env: process.env,
  };
}

/** One line; the stack only when MIGBENCH_DEBUG=1. */
function reportUnexpected(e: unknown, io: CliIO): void {
  const message = e instanceof Error ? e.message : String(e);
  io.err(`migbench: ${oneLine(message) || 'unexpected error'}\n`);
  if (io.env.MIGBENCH_DEBUG === '1' && e instanceof Error && e.stack !== undefined) io.err(`${e.stack}\n`);
}
