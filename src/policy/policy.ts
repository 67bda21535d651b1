/**
 * Stop policies decide, after every pre-copy round, whether to go on copying, to switch over
 * (suspend the guest and copy the rest), or to give up. They see numbers, never the clock or the
 * memory, so the same policy serves the real and the virtual clock.
 */
export interface PolicyState {
  /** Pre-copy rounds completed so far (the first full copy counts). */
  roundsDone: number;
  /** Dirty pages waiting to be sent now. */
  pendingPages: number;
  pageSizeBytes: number;
  ramBytes: number;
  /** Bandwidth measured over the last round, bytes per second. */
  bandwidthBytesPerSec: number;
  /** Bytes sent since the migration started. */
  totalBytesSent: number;
  /** --downtime-limit, milliseconds. */
  downtimeLimitMs: number;
  /** --max-iterations, or null when the user set none. */
  maxIterations: number | null;
}

export type PolicyDecision =
  { action: 'continue'; why: string } | { action: 'switchover'; why: string } | { action: 'fail'; why: string };

export interface StopPolicy {
  readonly name: string;
  decide(state: PolicyState): PolicyDecision;
}

export function pendingBytes(s: PolicyState): number {
  return s.pendingPages * s.pageSizeBytes;
}
