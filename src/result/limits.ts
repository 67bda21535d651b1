/** What a result's figures say against the limits the run was given (src/report says it in words). */
import type { MigrationResult } from './schema.js';

/**
 * Whether a run's policy aims for the downtime limit: QEMU's (`qemu`, `qemu-rounds`); Xen's, Hyper-V's
 * and a policy from the user's file (whatever it calls itself) stop on other grounds. A run's or a
 * result's configuration alike.
 */
export function aimsForDowntimeLimit(c: { policy: string; userPolicy?: unknown }): boolean {
  return (c.policy === 'qemu' || c.policy === 'qemu-rounds') && !c.userPolicy;
}

/**
 * A completed run whose downtime passed the limit its policy aims for (aimsForDowntimeLimit): its
 * downtime and the limit, ms; null otherwise.
 */
export function downtimeOver(r: MigrationResult): { downtimeMs: number; limitMs: number } | null {
  const c = r.config;
  const ms = r.totals.downtimeMs;
  if (r.status !== 'completed' || !aimsForDowntimeLimit(c) || !(ms > c.downtimeLimitMs)) return null;
  return { downtimeMs: ms, limitMs: c.downtimeLimitMs };
}
