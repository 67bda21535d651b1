/**
 * A stop policy from the user's file (`--policy ./my-policy.js`, or a name registered from code):
 *
 *   export default (options) => ({ name: 'stop-when-flat', decide(state) { return { action: 'continue', why: '...' }; } });
 *
 * Checked at load (src/util/user-file.ts); at run time a decision that is not one, or a policy that
 * throws, ends the run `failed` with the file's name in the reason (the guest stays on the source).
 */
import { RunFailure } from '../util/errors.js';
import { buildStrategy, strategyFactory, type StrategyShape, type UserStrategyConfig } from '../util/user-file.js';
import type { PolicyDecision, PolicyState, StopPolicy } from './policy.js';

export const POLICY_SHAPE: StrategyShape = {
  kind: 'policy',
  example:
    "export default (options) => ({ name: 'my-policy', decide(state) { return { action: 'continue', why: '...' }; } })",
  required: ['decide'],
};

const ACTIONS = ['continue', 'switchover', 'fail'];

/** The user's stop policy, its decisions checked. */
export async function loadUserPolicy(spec: UserStrategyConfig): Promise<StopPolicy> {
  const o = buildStrategy(await strategyFactory(spec, 'policy', POLICY_SHAPE), spec, POLICY_SHAPE);
  const decide = (o.decide as (s: PolicyState) => unknown).bind(o);
  return {
    name: o.name as string,
    decide(state: PolicyState): PolicyDecision {
      let d: unknown;
      try {
        d = decide(Object.freeze({ ...state }));
      } catch (e) {
        throw new RunFailure(`the policy ${spec.file} threw: ${e instanceof Error ? e.message : String(e)}`);
      }
      const r = d as { action?: unknown; why?: unknown } | null;
      if (r === null || typeof r !== 'object' || !ACTIONS.includes(r.action as string) || typeof r.why !== 'string') {
        throw new RunFailure(
          `the policy ${spec.file} returned ${JSON.stringify(d)}, not { action: 'continue' | 'switchover' | 'fail', why: string }`,
        );
      }
      return { action: r.action as PolicyDecision['action'], why: r.why };
    },
  };
}
