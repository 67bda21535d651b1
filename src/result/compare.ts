/**
 * Comparing two results field by field: what of a virtual-clock result is simulated (and so the
 * same for the same options and seed), and the first place two results differ. The characterization
 * (test/characterization/), the procedural-memory grid and `npm run bench:e2e` compare with these.
 */
import type { MigrationResult } from './schema.js';

/** Keys, anywhere in a result, whose values are wall-clock measurements or the echo of the options. */
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

/**
 * The simulated part of a virtual-clock result, as plain JSON: every field but those measured on
 * the machine's clock (wall time, set-up, scan and encoding CPU time) and the echo of the options.
 */
export function simulatedPart(r: MigrationResult): unknown {
  return JSON.parse(JSON.stringify(withoutWallClock(r)));
}

/** The first path at which two JSON values differ, with both values (`a` as recorded); null when equal. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (Object.is(a, b)) return null;
  if (
    typeof a !== 'object' ||
    typeof b !== 'object' ||
    a === null ||
    b === null ||
    Array.isArray(a) !== Array.isArray(b)
  ) {
    return `${path || '(root)'}: recorded ${JSON.stringify(a)}, now ${JSON.stringify(b)}`;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d !== null) return d;
  }
  return null;
}
