/**
 * A pre-copy loop: what to send next while the guest runs, when to fetch the dirty log again, and
 * when to hand over to the stop-and-copy stage. It is one strategy beside the stop policy and the
 * convergence aids, which it consults: today's round-based loop (rounds.ts) sends every dirty page,
 * then fetches; a QEMU-like engine would sync on its own triggers. Adding one is a file here and a
 * line in registry.ts.
 */
import { RunFailure } from '../util/errors.js';
import type { DirtyLog } from '../dirtylog/dirty-log.js';
import type { AidControls, ConvergenceAid } from '../converge/aid.js';
import type { PolicyDecision, PolicyState } from '../policy/policy.js';
import type { Rounds } from '../driver/rounds.js';
import type { IterationRecord, QemuStats } from '../result/schema.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { Sender } from '../driver/sender.js';
import type { Clock } from '../clock/clock.js';

export interface PrecopySettings {
  pageSizeBytes: number;
  ramBytes: number;
  /** --max-iterations, or null. */
  maxIterations: number | null;
  /** Post-copy may take over: when the policy gives up, or after postcopyAfterRounds rounds. */
  postcopy: boolean;
  postcopyAfterRounds: number | null;
  /** QEMU's max-bandwidth, bits/s (null: none): the loop applies it, with limitRate or by its own windows. */
  maxBandwidthBitsPerSec: number | null;
}

export interface PrecopyContext {
  /** Sends rounds and keeps their records. */
  readonly rounds: Rounds;
  /** For a loop that sends page by page: the memory, the sender, the run's clock. */
  readonly source: GuestMemory;
  readonly sender: Sender;
  readonly clock: Clock;
  /** Limits the send rate to `bitsPerSec` (under the aids' rate) until the guest is suspended. */
  limitRate(bitsPerSec: number | null): void;
  readonly dirtyLog: DirtyLog;
  readonly aids: readonly ConvergenceAid[];
  readonly controls: AidControls;
  readonly settings: PrecopySettings;
  /** Asks the stop policy; the answer is the run's last decision (a timeout reports it). */
  decide(state: PolicyState): PolicyDecision;
  /** For a loop with a switch-over rule of its own: its last decision (a timeout reports it). */
  note(decision: PolicyDecision): void;
  /** Throws to end the run: the timeout passed, a time limit cancelled it, or the run was interrupted. */
  checkpoint(): void;
  /** The data still to send, bytes, now (after a sync or a round): a time limit's measure of progress. */
  remaining(bytes: number): void;
  /** A time limit asked for post-copy: a loop that can switches at the end of its round. */
  postcopyRequested(): boolean;
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
  /**
   * The stop-and-copy copy, the guest suspended: sends every page still to go (what the dirty
   * log holds, and what the loop holds back) and returns the round's record, device state not
   * yet included.
   */
  final(context: PrecopyContext): Promise<IterationRecord>;
  /** A loop that models QEMU's: its statistics as QEMU reports them, the device state's bytes added. */
  qemuStats?(deviceStateBytes: number, maxThrottlePercent: number): QemuStats;
}

/** Pre-copy gave up: the run fails with this reason and the guest stays on the source. */
export class PrecopyFailure extends RunFailure {}
