/**
 * CLI name to stop policy: adding a policy is adding a file and a line here (and, in
 * src/precopy/registry.ts, the loop it runs on). `qemu` is QEMU's own engine (src/precopy/qemu.ts), which switches over by QEMU's
 * rule inside its loop; `qemu-rounds` is that rule weighed after each round of the round-based
 * loop, which also takes the aids of other hypervisors, post-copy and --max-iterations.
 */
import type { StopPolicy } from './policy.js';
import { QemuPolicy } from './qemu.js';
import { HypervPolicy } from './hyperv.js';
import { XenPolicy } from './xen.js';

/** A built-in stop policy, or `user`: one from the user's file (src/policy/user-policy.ts). */
export type PolicyName = 'qemu' | 'qemu-rounds' | 'hyperv' | 'xen' | 'user';

export const POLICIES: Record<Exclude<PolicyName, 'user'>, () => StopPolicy> = {
  qemu: () => new QemuPolicy(),
  'qemu-rounds': () => new QemuPolicy(),
  hyperv: () => new HypervPolicy(),
  xen: () => new XenPolicy(),
};

/** The built-in policies' names (`user` is a policy from a file: src/policy/user-policy.ts). */
export const POLICY_NAMES = Object.keys(POLICIES) as Exclude<PolicyName, 'user'>[];

export function createPolicy(name: PolicyName): StopPolicy {
  if (name === 'user') throw new Error('a user policy is loaded from its file (src/policy/user-policy.ts)');
  return POLICIES[name]();
}
