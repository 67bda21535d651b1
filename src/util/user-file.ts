/**
 * Strategies from the user's own files, the part every kind shares: how a file is named on the
 * command line and checked to exist, its `key=value` options, strategies registered from code under
 * a name instead of a file, and importing a file's factory and checking what it returns. The kinds
 * themselves are loaded where they live: a stop policy (src/policy/user-policy.ts), a convergence
 * aid (src/converge/user-aid.ts), a pre-copy loop (src/precopy/user-loop.ts), a codec
 * (src/codec/user-codec.ts, in every thread that encodes or decodes).
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError, OptionError } from './errors.js';

/** A strategy from the user's own file: its absolute path (or a registered name) and the options given to it. */
export interface UserStrategyConfig {
  file: string;
  options: Record<string, string>;
}

/** A strategy file that cannot be used, and why: one line, naming the file. */
export class StrategyError extends InputError {
  override readonly name = 'StrategyError';
}

// ------------------------------------------------------------------------- registered from code

/**
 * Strategies registered from code (the library's registerPolicy, registerAid, registerPrecopyLoop):
 * a factory under a name, which `--policy NAME` (or `policy: 'NAME'` in options) then selects in
 * this process, as a file would. Policies, aids and loops run on the driver's thread only, so a
 * function will do; codecs run in other threads too, which import them: a codec is a file.
 */
export type StrategyFactory = (options: Record<string, string>) => unknown;

export type RegisteredKind = 'policy' | 'aid' | 'loop';

const registered: Record<RegisteredKind, Map<string, StrategyFactory>> = {
  policy: new Map(),
  aid: new Map(),
  loop: new Map(),
};

/** How a registered strategy is named where a file's path would be (UserStrategyConfig.file). */
export const REGISTERED_PREFIX = 'registered:';

export function registerStrategy(
  kind: RegisteredKind,
  name: string,
  factory: StrategyFactory,
  builtIn: readonly string[] = [],
): void {
  if (!/^[A-Za-z][\w.-]{0,63}$/.test(name))
    throw new RangeError(
      `a ${kind}'s name is 1 to 64 letters, digits, '.', '_' or '-', from a letter (got ${JSON.stringify(name)})`,
    );
  if (builtIn.includes(name)) throw new RangeError(`${name} is a built-in ${kind}'s name`);
  if (typeof factory !== 'function')
    throw new TypeError(`register a ${kind} as a function of its options that returns it`);
  registered[kind].set(name, factory);
}

export function registeredFactory(kind: RegisteredKind, name: string): StrategyFactory | undefined {
  return registered[kind].get(name);
}

// ------------------------------------------------------------------------------ on the command line

/** A strategy is a file when it is a path (./x.js, ../x.js, /x.js) or names a .js or .mjs file. */
export function isStrategyFile(text: string): boolean {
  const t = text.trim();
  return /^(\.{1,2}[\\/]|\/)/.test(t) || /\.(m?js)$/i.test(t);
}

/** The absolute path of a strategy file, which must exist. */
export function strategyFile(flag: string, text: string, baseDir: string): string {
  const file = path.resolve(baseDir, text.trim());
  let ok: boolean;
  try {
    ok = statSync(file).isFile();
  } catch {
    ok = false;
  }
  if (!ok) throw new OptionError(flag, `${flag} ${text}: no such file (${file}); give a path such as ./my-strategy.js`);
  return file;
}

/** `key=value,key=value` as text by key. */
export function parseStrategyOptions(flag: string, text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === undefined) return out;
  for (const piece of text.split(',')) {
    const m = /^\s*([A-Za-z_][\w.-]*)\s*=(.*)$/.exec(piece);
    if (!m)
      throw new OptionError(
        flag,
        `${flag} must be KEY=VALUE pairs separated by commas such as threshold=0.2 (got ${JSON.stringify(text)})`,
      );
    if (m[1] in out) throw new OptionError(flag, `${flag}: ${m[1]} is given twice`);
    out[m[1]] = m[2].trim();
  }
  return out;
}

/**
 * An optional strategy given by file, or by a name registered from code, with its options: null
 * when absent, and then its options are a mistake worth saying.
 */
export function strategyOption(
  text: string | undefined,
  opts: string | undefined,
  flags: { file: string; opts: string },
  kind: RegisteredKind,
  baseDir: string,
): UserStrategyConfig | null {
  if (text === undefined) {
    if (opts !== undefined) throw new OptionError(flags.opts, `${flags.opts} only applies with ${flags.file} FILE`);
    return null;
  }
  const file =
    registeredFactory(kind, text.trim()) !== undefined
      ? `${REGISTERED_PREFIX}${text.trim()}`
      : strategyFile(flags.file, text, baseDir);
  return { file, options: parseStrategyOptions(flags.opts, opts) };
}

// ------------------------------------------------------------------------------------ loading

/** What a kind of strategy must have: a name, required methods, optional ones, and an example for messages. */
export interface StrategyShape {
  kind: string;
  example: string;
  required: readonly string[];
  optional?: readonly string[];
  /** The name's form, where it is narrower than a non-empty string, and its description. */
  name?: { pattern: RegExp; form: string };
}

/** The first line of what a failure says. */
export function firstLine(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}

/**
 * The option names each factory declares: a file's `export const options = { name: 'what it
 * means', ... }` (or a list of names), a registered factory's `options` property. A strategy is
 * given only options it declares, so a mistyped one (`shrnk=0.1`) is refused, not ignored.
 */
const declaredOptions = new WeakMap<StrategyFactory, readonly string[]>();

function optionNames(where: string, declared: unknown): readonly string[] | undefined {
  if (declared === undefined) return undefined;
  if (Array.isArray(declared) && declared.every((k) => typeof k === 'string')) return declared as string[];
  if (declared !== null && typeof declared === 'object' && !Array.isArray(declared)) return Object.keys(declared);
  throw new StrategyError(
    `${where}: its options are declared as an object of names and what each means, such as export const options = { threshold: 'share of RAM' }`,
  );
}

/** Imports a strategy file's default export, which must be a factory function, and the options it declares. */
export async function importFactory(file: string, shape: StrategyShape): Promise<StrategyFactory> {
  let mod: { default?: unknown; options?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown; options?: unknown };
  } catch (e) {
    throw new StrategyError(`${file}: cannot be imported as an ES module: ${firstLine(e)}`);
  }
  if (typeof mod.default !== 'function') {
    throw new StrategyError(
      `${file}: a ${shape.kind} file's default export is a function of its options that returns the ${shape.kind}: ${shape.example}`,
    );
  }
  const factory = mod.default as StrategyFactory;
  const names = optionNames(file, mod.options);
  if (names !== undefined) declaredOptions.set(factory, names);
  return factory;
}

/** Options given that the strategy does not declare: refused, with the ones it does. */
function checkOptions(factory: StrategyFactory, spec: UserStrategyConfig, kind: string): void {
  const given = Object.keys(spec.options);
  if (given.length === 0) return;
  const names =
    declaredOptions.get(factory) ?? optionNames(spec.file, (factory as { options?: unknown }).options) ?? [];
  const unknown = given.filter((k) => !names.includes(k));
  if (unknown.length === 0) return;
  throw new StrategyError(
    names.length === 0
      ? `${spec.file}: the ${kind} declares no options, so ${unknown.join(', ')} cannot be given to it (a file declares its own: export const options = { name: 'what it means' })`
      : `${spec.file}: the ${kind} has no option ${unknown.join(', ')}; it takes ${names.join(', ')}`,
  );
}

/** The factory of a spec: registered from code in this process, or imported from its file. */
export async function strategyFactory(
  spec: UserStrategyConfig,
  kind: RegisteredKind,
  shape: StrategyShape,
): Promise<StrategyFactory> {
  if (!spec.file.startsWith(REGISTERED_PREFIX)) return importFactory(spec.file, shape);
  const factory = registeredFactory(kind, spec.file.slice(REGISTERED_PREFIX.length));
  if (factory === undefined)
    throw new StrategyError(`${spec.file}: no ${kind} is registered under that name in this process`);
  return factory;
}

/** Calls a factory with the spec's options and checks the object it returns against the shape. */
export function buildStrategy(
  factory: StrategyFactory,
  spec: UserStrategyConfig,
  shape: StrategyShape,
): Record<string, unknown> {
  const { kind, example } = shape;
  checkOptions(factory, spec, kind);
  let made: unknown;
  try {
    made = factory({ ...spec.options });
  } catch (e) {
    throw new StrategyError(`${spec.file}: the ${kind}'s factory threw: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (made === null || typeof made !== 'object')
    throw new StrategyError(
      `${spec.file}: the default export returned ${made === null ? 'null' : typeof made}, not a ${kind} object: ${example}`,
    );
  const o = made as Record<string, unknown>;
  const named = shape.name
    ? typeof o.name === 'string' && shape.name.pattern.test(o.name)
    : typeof o.name === 'string' && o.name.trim() !== '';
  const missing = [
    ...(named ? [] : [`name (${shape.name?.form ?? 'a non-empty string'})`]),
    ...shape.required.filter((k) => typeof o[k] !== 'function').map((k) => `${k}()`),
  ];
  if (missing.length > 0)
    throw new StrategyError(`${spec.file}: the ${kind} has no ${missing.join(' and no ')}: ${example}`);
  const wrong = (shape.optional ?? []).filter((k) => o[k] !== undefined && typeof o[k] !== 'function');
  if (wrong.length > 0) throw new StrategyError(`${spec.file}: the ${kind}'s ${wrong.join(', ')} must be a method`);
  return o;
}
