/** What a result's figures say against the limits the run was given (src/report says it in words). */
import type { MigrationResult } from './schema.js';

/**
 * A completed run whose downtime passed the limit its policy aims for (`qemu`, `qemu-rounds`; the
 * others do not take one): its downtime and the limit, ms; null otherwise.
 */
export function downtimeOver(r: MigrationResult): { downtimeMs: number; limitMs: number } | null {
  const c = r.config;
  const aims = c.policy === 'qemu' || c.policy === 'qemu-rounds';
  const ms = r.totals.downtimeMs;
  if (r.status !== 'completed' || !aims || !(ms > c.downtimeLimitMs)) return null;
  return { downtimeMs: ms, limitMs: c.downtimeLimitMs };
}
