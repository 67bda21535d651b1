/** The pre-copy loops: adding one is a file beside this and a line here. */
import type { PrecopyLoop } from './loop.js';
import { RoundBasedLoop } from './rounds.js';

export const PRECOPY_LOOPS = {
  rounds: () => new RoundBasedLoop(),
} as const satisfies Record<string, () => PrecopyLoop>;

export type PrecopyLoopName = keyof typeof PRECOPY_LOOPS;

export function createPrecopyLoop(name: PrecopyLoopName): PrecopyLoop {
  return PRECOPY_LOOPS[name]();
}
