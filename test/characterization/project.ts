/**
 * What of a result the characterization compares. Virtual clock: the simulated part
 * (src/result/compare.ts). Real clock and TCP: the outcome and the structure of the run.
 */
import type { MigrationResult } from '../../src/result/schema.js';

export { simulatedPart } from '../../src/result/compare.js';

/** Outcome and structure of a real-clock run. */
export function structure(r: MigrationResult): unknown {
  const phases = r.iterations.map((it) => it.phase);
  return {
    status: r.status,
    verified: r.verified,
    sourceRunning: r.sourceRunning,
    stages: r.stages.map((s) => s.name),
    firstPhase: phases[0],
    lastPhase: phases.at(-1),
    precopyRounds: phases.filter((p) => p === 'precopy').length > 0,
    stopAndCopyRounds: phases.filter((p) => p === 'stop-and-copy').length,
    postcopy: r.postcopy !== undefined,
    codec: r.totals.codec !== undefined,
  };
}
