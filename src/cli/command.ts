/**
 * What a CLI command is: a file under src/cli/ that adds itself to the program. main.ts holds the
 * list; adding `suite`, `report`, `compare`, ... is adding a file and a line there.
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { InputError } from '../util/errors.js';

/** 0 success; 1 a failed migration or an unexpected error; 2 bad input. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Where a command writes, and what it knows of its terminal; main() fills it from `process`. */
export interface CliIO {
  /** Results (tables, JSON). Nothing else goes to stdout. */
  out(text: string): void;
  /** Progress and diagnostics. */
  err(text: string): void;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** The terminal's width in columns when stdout is one; output is laid out for it (else $COLUMNS, else 100). */
  columns?: number;
  env: NodeJS.ProcessEnv;
}

/**
 * Reports a usage error of `command`: prints `migbench: <message>` and the help hint, and returns
 * the exit code 2. Commands use it for input commander cannot judge (an OptionError).
 */
export type UsageErrorReporter = (message: string) => number;

export interface CliCommandContext {
  io: CliIO;
  /** The migbench version, for headers. */
  version: string;
  /** Each command's action ends by handing its exit code here. */
  setExitCode(code: number): void;
  /** Builds the usage-error reporter of a command (the hint names the command's help). */
  usageError(commandPath: string): UsageErrorReporter;
}

export interface CliCommand {
  readonly name: string;
  /** Adds the command (with its options and action) to `program` and returns it. */
  register(program: Command, ctx: CliCommandContext): Command;
}

/** Said when a secret is given where `ps` shows it (run, receive). */
export const TOKEN_ON_COMMAND_LINE =
  'migbench: warning: --token on the command line is visible to other users of this machine (ps); use MIGBENCH_TOKEN or --token-file\n';

/**
 * Ends a long command cleanly on SIGINT (Ctrl-C) or SIGTERM (what a scheduler such as Slurm or
 * Kubernetes sends to cancel): `handler` runs once; a second signal of either kind kills at once
 * (Node's default). Returns the function that removes the handlers.
 */
export function onInterrupt(handler: () => void): () => void {
  const once = (): void => {
    process.removeListener('SIGINT', once);
    process.removeListener('SIGTERM', once);
    handler();
  };
  process.once('SIGINT', once);
  process.once('SIGTERM', once);
  return () => {
    process.removeListener('SIGINT', once);
    process.removeListener('SIGTERM', once);
  };
}

/** A command's step ended it: its exit code (a usage error has been said already). */
export class Exit {
  constructor(readonly code: number) {}
}

/**
 * Runs a command's step over the user's input: bad input (an InputError: an option, a suite or
 * host file, a strategy file) is said as the command's usage error and becomes Exit(2); anything
 * else is thrown on.
 */
export async function checked<T>(usage: UsageErrorReporter, step: () => T | Promise<T>): Promise<T | Exit> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof InputError) return new Exit(usage(e.message));
    throw e;
  }
}

/** Writes an output file a command was asked for; false, and one line on stderr naming what it is, when it cannot. */
export async function writeOutput(
  io: CliIO,
  what: string,
  file: string,
  text: string | (() => Promise<string>),
): Promise<boolean> {
  try {
    await writeFile(file, typeof text === 'string' ? text : await text());
    return true;
  } catch (e) {
    io.err(`migbench: cannot write ${what} ${file}: ${e instanceof Error ? e.message : String(e)}\n`);
    return false;
  }
}
