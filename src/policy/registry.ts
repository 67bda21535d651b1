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

/** A built-in stop policy: a sentence of --policy's help, and how one is made. */
export interface PolicyEntry {
  help: string;
  create(): StopPolicy;
}

export const POLICIES = {
  qemu: {
    help: "qemu (QEMU 10.0's own loop: a circular scan, a dirty-log sync whenever the estimate of what remains drops below bandwidth x downtime limit, --max-bandwidth as 100 ms windows, xbzrle and auto-converge by QEMU's rules)",
    create: () => new QemuPolicy(),
  },
  'qemu-rounds': {
    help: "qemu-rounds (QEMU's switch-over rule after each round: round 0 sends every page, each later round what the dirty log found)",
    create: () => new QemuPolicy(),
  },
  hyperv: { help: 'hyperv (small dirty set, or after 10 passes)', create: () => new HypervPolicy() },
  xen: { help: 'xen (< 50 dirty pages, 29 rounds, or 3 x RAM sent)', create: () => new XenPolicy() },
} as const satisfies Record<string, PolicyEntry>;

/** A built-in stop policy, or `user`: one from the user's file (src/policy/user-policy.ts). */
export type PolicyName = keyof typeof POLICIES | 'user';

/** The built-in policies' names (`user` is a policy from a file: src/policy/user-policy.ts). */
export const POLICY_NAMES = Object.keys(POLICIES) as Exclude<PolicyName, 'user'>[];

export function createPolicy(name: PolicyName): StopPolicy {
  if (name === 'user') throw new Error('a user policy is loaded from its file (src/policy/user-policy.ts)');
  return POLICIES[name].create();
}
