/**
 * Strategies from the user's own files: a stop policy (`--policy ./my-policy.js`) or a convergence
 * aid (`--aid ./my-aid.js`), on the same guests, clocks, bytes and reports as the built-in ones.
 *
 * A strategy file is an ES module (JavaScript, or TypeScript compiled to it) whose default export
 * is a factory: it takes the options given with --policy-opt / --aid-opt (text, by key) and returns
 * the strategy, an object with the members of its interface:
 *
 *   // a stop policy: src/policy/policy.ts
 *   export default (options) => ({ name: 'stop-when-flat', decide(state) { return { action: 'continue', why: '...' }; } });
 *   // a convergence aid: src/converge/aid.ts
 *   export default (options) => ({ name: 'my-aid', afterRound(facts, controls) { controls.setThrottle(0.2); } });
 *
 * Each is checked at load: a file that cannot be imported, has no default export, or returns an
 * object without a required member is refused with a StrategyError naming the file and what is
 * missing. At run time, a decision that is not one, or a strategy that throws, ends the run
 * `failed` with the file's name in the reason (the guest stays on the source).
 */
import { pathToFileURL } from 'node:url';
import type { UserStrategyConfig } from '../config/types.js';
import type { PolicyDecision, PolicyState, StopPolicy } from '../policy/policy.js';
import type { AidControls, ConvergenceAid, RoundFacts } from '../converge/aid.js';
import { PrecopyFailure, type PrecopyLoop } from '../precopy/loop.js';
import { UserLoop, type UserLoopObject } from '../precopy/user-loop.js';
import { CodecFileError, preloadUserCodecs } from '../codec/user-codec.js';
import { REGISTERED_PREFIX, registeredFactory } from './registry.js';

/** A strategy file that cannot be used, and why: one line, naming the file. */
export class StrategyError extends Error {
  override readonly name = 'StrategyError';
}

type Kind = 'policy' | 'aid' | 'loop';

const MEMBERS: Record<Kind, { example: string; required: string[]; optional: string[] }> = {
  policy: {
    example:
      "export default (options) => ({ name: 'my-policy', decide(state) { return { action: 'continue', why: '...' }; } })",
    required: ['decide'],
    optional: [],
  },
  aid: {
    example: "export default (options) => ({ name: 'my-aid', afterRound(facts, controls) { } })",
    required: ['afterRound'],
    optional: ['start', 'finalRound'],
  },
  loop: {
    example:
      "export default (options) => ({ name: 'my-loop', async run(ctx) { await ctx.sendRound(true); return { action: 'switchover', why: '...' }; } })",
    required: ['run'],
    optional: [],
  },
};

/** Imports a strategy file and builds the strategy with its options; checks its members. */
async function load(kind: Kind, spec: UserStrategyConfig): Promise<Record<string, unknown>> {
  const m = MEMBERS[kind];
  let mod: { default?: unknown };
  if (spec.file.startsWith(REGISTERED_PREFIX)) {
    // Registered from code in this process (src/strategy/registry.ts).
    mod = { default: registeredFactory(kind, spec.file.slice(REGISTERED_PREFIX.length)) };
    if (mod.default === undefined)
      throw new StrategyError(`${spec.file}: no ${kind} is registered under that name in this process`);
  } else {
    try {
      mod = (await import(pathToFileURL(spec.file).href)) as { default?: unknown };
    } catch (e) {
      throw new StrategyError(
        `${spec.file}: cannot be imported as an ES module: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`,
      );
    }
  }
  if (typeof mod.default !== 'function') {
    throw new StrategyError(
      `${spec.file}: a ${kind} file's default export is a function of its options that returns the ${kind}: ${m.example}`,
    );
  }
  let made: unknown;
  try {
    made = (mod.default as (o: Record<string, string>) => unknown)({ ...spec.options });
  } catch (e) {
    throw new StrategyError(`${spec.file}: the ${kind}'s factory threw: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (made === null || typeof made !== 'object')
    throw new StrategyError(
      `${spec.file}: the default export returned ${made === null ? 'null' : typeof made}, not a ${kind} object: ${m.example}`,
    );
  const o = made as Record<string, unknown>;
  const missing = [
    ...(typeof o.name === 'string' && o.name.trim() !== '' ? [] : ['name (a non-empty string)']),
    ...m.required.filter((k) => typeof o[k] !== 'function').map((k) => `${k}()`),
  ];
  const wrong = m.optional.filter((k) => o[k] !== undefined && typeof o[k] !== 'function');
  if (missing.length > 0)
    throw new StrategyError(`${spec.file}: the ${kind} has no ${missing.join(' and no ')}: ${m.example}`);
  if (wrong.length > 0) throw new StrategyError(`${spec.file}: the ${kind}'s ${wrong.join(', ')} must be a method`);
  return o;
}

const ACTIONS = ['continue', 'switchover', 'fail'];

/** The user's stop policy, its decisions checked. */
export async function loadUserPolicy(spec: UserStrategyConfig): Promise<StopPolicy> {
  const o = await load('policy', spec);
  const decide = (o.decide as (s: PolicyState) => unknown).bind(o);
  return {
    name: o.name as string,
    decide(state: PolicyState): PolicyDecision {
      let d: unknown;
      try {
        d = decide(Object.freeze({ ...state }));
      } catch (e) {
        throw new PrecopyFailure(`the policy ${spec.file} threw: ${e instanceof Error ? e.message : String(e)}`);
      }
      const r = d as { action?: unknown; why?: unknown } | null;
      if (r === null || typeof r !== 'object' || !ACTIONS.includes(r.action as string) || typeof r.why !== 'string') {
        throw new PrecopyFailure(
          `the policy ${spec.file} returned ${JSON.stringify(d)}, not { action: 'continue' | 'switchover' | 'fail', why: string }`,
        );
      }
      return { action: r.action as PolicyDecision['action'], why: r.why };
    },
  };
}

/** The user's convergence aid; what it throws ends the run with its file's name. */
export async function loadUserAid(spec: UserStrategyConfig): Promise<ConvergenceAid> {
  const o = await load('aid', spec);
  const guard = <A extends unknown[]>(member: string, f: ((...a: A) => void) | undefined) =>
    f === undefined
      ? undefined
      : (...a: A): void => {
          try {
            f.apply(o, a);
          } catch (e) {
            throw new PrecopyFailure(
              `the aid ${spec.file} threw in ${member}: ${e instanceof Error ? e.message : String(e)}`,
            );
          }
        };
  return {
    name: o.name as string,
    start: guard<[AidControls]>('start', o.start as ((c: AidControls) => void) | undefined),
    afterRound: guard<[RoundFacts, AidControls]>(
      'afterRound',
      o.afterRound as (f: RoundFacts, c: AidControls) => void,
    ) as ConvergenceAid['afterRound'],
    finalRound: guard<[AidControls]>('finalRound', o.finalRound as ((c: AidControls) => void) | undefined),
  };
}

/** The user's pre-copy loop (src/precopy/user-loop.ts). */
export async function loadUserLoop(spec: UserStrategyConfig): Promise<PrecopyLoop> {
  const o = await load('loop', spec);
  return new UserLoop(o as unknown as UserLoopObject, spec);
}

/** Loads every user strategy of a configuration once, to refuse a bad file before anything runs. */
export async function checkUserStrategies(config: {
  userPolicy: UserStrategyConfig | null;
  userAid: UserStrategyConfig | null;
  userCodecs: UserStrategyConfig[];
  userLoop: UserStrategyConfig | null;
}): Promise<void> {
  if (config.userPolicy) await loadUserPolicy(config.userPolicy);
  if (config.userAid) await loadUserAid(config.userAid);
  if (config.userLoop) await loadUserLoop(config.userLoop);
  try {
    await preloadUserCodecs(config.userCodecs);
  } catch (e) {
    if (e instanceof CodecFileError) throw new StrategyError(e.message);
    throw e;
  }
}
