/** The pre-copy loops: adding one is a file beside this and a line here. */
import type { PrecopyLoop } from './loop.js';
import type { PolicyName } from '../policy/registry.js';
import { RoundBasedLoop } from './rounds.js';
import { QemuLoop } from './qemu.js';

export const PRECOPY_LOOPS = {
  rounds: () => new RoundBasedLoop(),
  qemu: () => new QemuLoop(),
} as const satisfies Record<string, () => PrecopyLoop>;

export type PrecopyLoopName = keyof typeof PRECOPY_LOOPS;

export const PRECOPY_LOOP_NAMES = Object.keys(PRECOPY_LOOPS) as PrecopyLoopName[];

/** The loop of that name (the policy's, POLICY_LOOPS); the resolver has checked the name. */
export function createPrecopyLoop(name: string): PrecopyLoop {
  const create = PRECOPY_LOOPS[name as PrecopyLoopName];
  if (create === undefined)
    throw new Error(`no pre-copy loop ${JSON.stringify(name)}: ${PRECOPY_LOOP_NAMES.join(', ')}`);
  return create();
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
