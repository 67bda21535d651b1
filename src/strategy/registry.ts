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
