/**
 * The shape of an option table. Each feature folder declares its own options in one (flags, help,
 * the default as a user would type it, and how the text resolves into its part of a run's
 * configuration: src/link/options.ts, src/codec/options.ts, ...); src/config/options.ts assembles
 * them into the one table the command line, suite files and the library read.
 */
import { OptionError } from './errors.js';

/** Option values as commander or a suite file give them: text, or true for a switch given alone. */
export type RawOptions = Record<string, string | boolean | undefined>;

/**
 * What an option's resolver sees: `K` the option keys it reads (its own, and any it depends on),
 * `C` the configuration fields it reads and sets.
 */
export interface ResolveContext<K extends string, C> {
  raw: RawOptions;
  /** The option's text as given; undefined when absent (a switch given alone is an error here). */
  text(key: K): string | undefined;
  /** The option's text as given, or its default as typed. */
  typed(key: K): string;
  /** A switch: given alone (true), or `true`/`false` from a suite file; absent: false. */
  flag(key: K): boolean;
  /** Resolved before this option: the options others depend on first, then in table order (src/config/options.ts). */
  config: Partial<C>;
  /** Where relative file paths (--policy ./x.js, --aid) start: the working directory, or a suite file's. */
  baseDir: string;
}

export interface OptionSpec<K extends string, C> {
  /** Commander flags, value placeholder included. */
  flags: string;
  description: string;
  /** The default as a user would type it (or in words, where it is not a value). */
  defaultText: string;
  example: string;
  /**
   * Sets the option's fields of the config. Absent for an option another one resolves with it
   * (the auto-converge thresholds with --auto-converge; --token, --fault with --target).
   */
  resolve?: (c: ResolveContext<K, C>) => Partial<C>;
}

/** A feature's options: each of its keys with its spec. */
export type OptionTable<Own extends string, K extends string, C> = Record<Own, OptionSpec<K, C>>;

/** `pageSize` -> `--page-size`, the flag the user typed. */
export function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** One of a fixed set of names, case-insensitive. */
export function parseName<T extends string>(flag: string, text: string, names: readonly T[]): T {
  const name = names.find((n) => n === text.trim().toLowerCase());
  if (name === undefined)
    throw new OptionError(flag, `${flag} must be one of ${names.join(', ')} (got ${JSON.stringify(text)})`);
  return name;
}

/** A switch: given on the command line (true), or `true`/`false` from a suite file. */
export function parseSwitch(raw: RawOptions, key: string): boolean {
  const v = raw[key];
  if (v === undefined || typeof v === 'boolean') return v ?? false;
  const t = v.trim().toLowerCase();
  if (t === 'true' || t === 'on' || t === 'yes') return true;
  if (t === 'false' || t === 'off' || t === 'no') return false;
  throw new OptionError(
    flagOf(key),
    `${flagOf(key)} is a switch: give it alone, or true or false (got ${JSON.stringify(v)})`,
  );
}
