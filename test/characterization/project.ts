/**
 * What of a result the characterization compares. Virtual clock: every field but those measured
 * on the machine's clock (wall time, set-up, scan and encoding CPU time) and the echo of the
 * options. Real clock and TCP: the outcome and the structure of the run.
 */
import type { MigrationResult } from '../../src/result/schema.js';

/** Keys, anywhere in a result, whose values are wall-clock measurements. */
const WALL_CLOCK_KEYS = new Set(['startedAt', 'environment', 'wallTimeMs', 'setup', 'scanMs', 'encodeMs', 'config']);

function withoutWallClock(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutWallClock);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !WALL_CLOCK_KEYS.has(k))
        .map(([k, v]) => [k, withoutWallClock(v)]),
    );
  }
  return value;
}

/** The simulated part of a virtual-clock result, as plain JSON. */
export function simulatedPart(r: MigrationResult): unknown {
  return JSON.parse(JSON.stringify(withoutWallClock(r)));
}

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
