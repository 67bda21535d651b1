/**
 * Convergence aids: what hypervisors do, besides the stop rule, to make pre-copy converge. Each
 * sees the facts of the round just finished and may slow the guest, change the send rate or the
 * downtime limit. The driver holds a list of them; src/converge/registry.ts builds it from the
 * configuration.
 */
import type { ThrottleHow } from '../guest/throttle.js';

export interface RoundFacts {
  /** Index of the round just finished. */
  round: number;
  durationMs: number;
  bytesSent: number;
  /** Distinct pages dirtied during the round (what the next round must send). */
  pagesDirtied: number;
  pageSizeBytes: number;
}

export interface AidControls {
  /** The fraction of time the vCPUs are held back now. */
  throttle: number;
  /** `how`: in QEMU's sleep slices, or slowing the vCPUs' pace evenly (the default). */
  setThrottle(fraction: number, how?: ThrottleHow): void;
  /** The send rate limit now, bits/s; null: the link's full rate. */
  rateBitsPerSec: number | null;
  setRate(bitsPerSec: number | null): void;
  /** The downtime limit the policy weighs next. */
  downtimeLimitMs: number;
}

export interface ConvergenceAid {
  readonly name: string;
  /** Pre-copy is about to start. */
  start?(c: AidControls): void;
  /** After each pre-copy round, before the policy decides. */
  afterRound(f: RoundFacts, c: AidControls): void;
  /** The guest is being suspended: the last round. */
  finalRound?(c: AidControls): void;
}

export function dirtyBytesPerSec(f: RoundFacts): number {
  return f.durationMs > 0 ? (f.pagesDirtied * f.pageSizeBytes * 1000) / f.durationMs : 0;
}

export function sentBytesPerSec(f: RoundFacts): number {
  return f.durationMs > 0 ? (f.bytesSent * 1000) / f.durationMs : 0;
}
