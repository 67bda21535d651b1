/**
 * A pre-copy loop: what to send next while the guest runs, when to fetch the dirty log again, and
 * when to hand over to the stop-and-copy stage. It is one strategy beside the stop policy and the
 * convergence aids, which it consults: today's round-based loop (rounds.ts) sends every dirty page,
 * then fetches; a QEMU-like engine would sync on its own triggers. Adding one is a file here and a
 * line in registry.ts.
 */
import type { DirtyLog } from '../dirtylog/dirty-log.js';
import type { AidControls, ConvergenceAid } from '../converge/aid.js';
import type { PolicyDecision, PolicyState } from '../policy/policy.js';
import type { Rounds } from '../driver/rounds.js';

export interface PrecopySettings {
  pageSizeBytes: number;
  ramBytes: number;
  /** --max-iterations, or null. */
  maxIterations: number | null;
  /** Post-copy may take over: when the policy gives up, or after postcopyAfterRounds rounds. */
  postcopy: boolean;
  postcopyAfterRounds: number | null;
}

export interface PrecopyContext {
  /** Sends rounds and keeps their records. */
  readonly rounds: Rounds;
  readonly dirtyLog: DirtyLog;
  readonly aids: readonly ConvergenceAid[];
  readonly controls: AidControls;
  readonly settings: PrecopySettings;
  /** Asks the stop policy; the answer is the run's last decision (a timeout reports it). */
  decide(state: PolicyState): PolicyDecision;
  /** Throws to end the run: the timeout passed, or the run was interrupted. */
  checkpoint(): void;
}

export interface PrecopyOutcome {
  /** Why pre-copy ended (a switch-over: to stop-and-copy, or to post-copy). */
  decision: PolicyDecision;
  /** Pre-copy rounds before a post-copy switch-over; null: no post-copy. */
  postcopyAfter: number | null;
}

export interface PrecopyLoop {
  readonly name: string;
  /** Runs pre-copy to its end; throws PrecopyFailure when the policy gives up without post-copy. */
  run(context: PrecopyContext): Promise<PrecopyOutcome>;
}

/** Pre-copy gave up: the run fails with this reason and the guest stays on the source. */
export class PrecopyFailure extends Error {}
