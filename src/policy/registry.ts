/**
 * CLI name to stop policy and the pre-copy loop it runs on: adding a policy is adding a file and
 * a line here. `qemu` is QEMU's own engine (src/precopy/qemu.ts), which switches over by QEMU's
 * rule inside its loop; `qemu-rounds` is that rule weighed after each round of the round-based
 * loop, which also takes the aids of other hypervisors, post-copy and --max-iterations.
 */
import type { PolicyName } from '../config/types.js';
import type { StopPolicy } from './policy.js';
import type { PrecopyLoopName } from '../precopy/registry.js';
import { QemuPolicy } from './qemu.js';
import { HypervPolicy } from './hyperv.js';
import { XenPolicy } from './xen.js';

export const POLICIES: Record<Exclude<PolicyName, 'user'>, () => StopPolicy> = {
  qemu: () => new QemuPolicy(),
  'qemu-rounds': () => new QemuPolicy(),
  hyperv: () => new HypervPolicy(),
  xen: () => new XenPolicy(),
};

/** The built-in policies' names (`user` is a policy from a file: src/strategy/user.ts). */
export const POLICY_NAMES = Object.keys(POLICIES) as Exclude<PolicyName, 'user'>[];

export function createPolicy(name: PolicyName): StopPolicy {
  if (name === 'user') throw new Error('a user policy is loaded from its file (src/strategy/user.ts)');
  return POLICIES[name]();
}

/** The pre-copy loop each policy runs on (src/precopy/registry.ts). */
export const POLICY_LOOPS: Record<PolicyName, PrecopyLoopName> = {
  qemu: 'qemu',
  'qemu-rounds': 'rounds',
  hyperv: 'rounds',
  xen: 'rounds',
  // A policy of the user's decides after each round, as the round-based policies do.
  user: 'rounds',
};
