/**
 * Dirty tracking strategies: how the driver learns which pages the guest wrote. The driver holds
 * a DirtyLog; src/dirtylog/registry.ts maps the --dirty-log name to an implementation.
 * Every strategy fills a slot's page list (slot-local numbers at layout.listPtr) for a round.
 */
import type { DirtyCosts, VcpuCost } from './cost-meter.js';

export type DirtyLogName = 'bitmap' | 'bitmap-chunked' | 'two-level' | 'ring';

/** What a vCPU does after it stores a write's bytes: the writer's half of the strategy. */
export type MarkMode = (
  | { kind: 'bitmap' }
  /** Page bit, then the summary bit of its bitmap word. */
  | { kind: 'two-level' }
  /** Page bit as write protection; on its first setting, push the page into the vCPU's ring. */
  | { kind: 'ring'; rings: SharedArrayBuffer[] }
) & {
  /** What a write to a protected page (a clear bit) and a ring-full exit cost the vCPU (src/dirtylog/cost.ts); absent: nothing. */
  cost?: VcpuCost;
};

export interface DirtyLogRoundStats {
  /** Ring-full stalls of all vCPUs during the round (ring only). */
  ringFullStalls?: number;
  /** Milliseconds vCPUs spent stalled on a full ring during the round, summed (ring only). */
  ringStallMs?: number;
}

export interface DirtyLog {
  readonly name: DirtyLogName;
  readonly markMode: MarkMode;
  /** What the strategy costs the host and the guest (src/dirtylog/cost.ts): it charges the meter as it works. */
  readonly costs: DirtyCosts;
  /** Pre-copy starts: writes before this moment are forgotten (round 0 sends every page). */
  start(): void;
  /** The round's fetch: fills the slot's list with the pages to send; returns how many. */
  fetch(slot: number): number;
  /**
   * Called just before pages [offset, offset + count) of the slot's list are copied, in every
   * round (`firstRound` for round 0's list of all pages): KVM's CLEAR_DIRTY_LOG clears here.
   */
  beforeSend(slot: number, offset: number, count: number, firstRound: boolean): void;
  /** Pages a fetch would return now, without fetching: what the stop policy weighs. */
  pending(): number;
  /** Called between frames and while waiting for the guest to pause, at `nowMs` on the run's clock (ring harvests here). */
  service(nowMs: number): void;
  /** Statistics since the last call. */
  takeRoundStats(): DirtyLogRoundStats;
}
