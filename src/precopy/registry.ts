/** The pre-copy loops, and the loop each policy runs on: adding a loop is a file beside this and a line here. */
import type { PrecopyLoopKind } from './loop.js';
import type { PolicyName } from '../policy/registry.js';
import { ROUND_BASED_LOOP } from './rounds.js';
import { QEMU_LOOP } from './qemu.js';

export const PRECOPY_LOOPS = {
  rounds: ROUND_BASED_LOOP,
  qemu: QEMU_LOOP,
} as const satisfies Record<string, PrecopyLoopKind>;

export type PrecopyLoopName = keyof typeof PRECOPY_LOOPS;

export const PRECOPY_LOOP_NAMES = Object.keys(PRECOPY_LOOPS) as PrecopyLoopName[];

/** The pre-copy loop each policy runs on. */
export const POLICY_LOOPS: Record<PolicyName, PrecopyLoopName> = {
  qemu: 'qemu',
  'qemu-rounds': 'rounds',
  hyperv: 'rounds',
  xen: 'rounds',
  // A policy of the user's decides after each round, as the round-based policies do.
  user: 'rounds',
};

/** The kind of loop a policy runs on. */
export function policyLoop(policy: PolicyName): PrecopyLoopKind {
  return PRECOPY_LOOPS[POLICY_LOOPS[policy]];
}
