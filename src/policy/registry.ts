/** CLI name to stop policy: adding a policy is adding a file and a line here. */
import type { PolicyName } from '../config/types.js';
import type { StopPolicy } from './policy.js';
import { QemuPolicy } from './qemu.js';
import { HypervPolicy } from './hyperv.js';
import { XenPolicy } from './xen.js';

export const POLICIES: Record<PolicyName, () => StopPolicy> = {
  qemu: () => new QemuPolicy(),
  hyperv: () => new HypervPolicy(),
  xen: () => new XenPolicy(),
};

export const POLICY_NAMES = Object.keys(POLICIES) as PolicyName[];

export function createPolicy(name: PolicyName): StopPolicy {
  return POLICIES[name]();
}
