/**
 * A convergence aid from the user's file (`--aid ./my-aid.js`, or a name registered from code),
 * acting after the built-in aids:
 *
 *   export default (options) => ({ name: 'my-aid', afterRound(facts, controls) { controls.setThrottle(0.2); } });
 *
 * Checked at load (src/util/user-file.ts); what it throws at run time ends the run `failed` with the
 * file's name in the reason.
 */
import { RunFailure } from '../util/errors.js';
import { buildStrategy, strategyFactory, type StrategyShape, type UserStrategyConfig } from '../util/user-file.js';
import type { AidControls, ConvergenceAid, RoundFacts } from './aid.js';

export const AID_SHAPE: StrategyShape = {
  kind: 'aid',
  example: "export default (options) => ({ name: 'my-aid', afterRound(facts, controls) { } })",
  required: ['afterRound'],
  optional: ['start', 'finalRound'],
};

/** The user's convergence aid; what it throws ends the run with its file's name. */
export async function loadUserAid(spec: UserStrategyConfig): Promise<ConvergenceAid> {
  const o = buildStrategy(await strategyFactory(spec, 'aid', AID_SHAPE), spec, AID_SHAPE);
  const guard = <A extends unknown[]>(member: string, f: ((...a: A) => void) | undefined) =>
    f === undefined
      ? undefined
      : (...a: A): void => {
          try {
            f.apply(o, a);
          } catch (e) {
            throw new RunFailure(
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
