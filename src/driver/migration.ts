/**
 * One migration's state, shared by its stages (src/driver/stages.ts): the world's parts, the guest
 * running on the source, the sender and the round records, the strategies (policy, aids, loop),
 * the controls the aids act on, the time limits, and what the stages have found so far. The
 * stages read and advance it; the result is built once from it at the end (src/driver/complete.ts).
 */
import type { RunConfig } from '../config/types.js';
import type { StageName, StageRecord } from '../result/schema.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { World } from '../world/world.js';
import type { StopPolicy, PolicyDecision } from '../policy/policy.js';
import type { ConvergenceAid } from '../converge/aid.js';
import type { PrecopyLoop } from '../precopy/loop.js';
import type { Link } from '../link/link.js';
import type { TimelineParticipant } from '../clock/timeline.js';
import { AutoConverge } from '../converge/auto-converge.js';
import { DEFAULT_AUTO_CONVERGE } from '../converge/options.js';
import { IntervalSeries } from './series.js';
import { RunFailure } from '../util/errors.js';
import { formatMs } from '../util/format.js';
import type { EventSink, MigrationEvent } from './events.js';
import { LimitWatch, type MigrationLimits } from './limits.js';
import type { Prepared } from './setup.js';
import { Sender } from './sender.js';
import { RoundRecords } from './records.js';
import { RunControls } from './controls.js';

export interface RunHooks {
  onEvent?: EventSink;
  signal?: AbortSignal;
  /** The link to send over, shared with other migrations; by default one of the configured rate and latency, this run's own. */
  link?: Link;
  /** Under the virtual clock: run on this shared timeline beside other migrations (src/clock/timeline.ts). */
  timeline?: TimelineParticipant;
  /** Time limits with their actions (KubeVirt's completion and progress timeouts). */
  limits?: MigrationLimits;
  /** Awaited once set-up is done and the guest runs, before the migration's clock starts (an evacuation's turn). */
  ready?: () => Promise<void>;
  /** Called when the migration's clock starts (set-up done). */
  onStart?: () => void;
}

/** The strategies a run migrates with. */
export interface Strategies {
  policy: StopPolicy;
  /** Built-in aids first, then the user's; a time limit may add auto-converge during the run. */
  aids: ConvergenceAid[];
  loop: PrecopyLoop;
  /** The user's aid (--aid), also among the aids. */
  userAid?: ConvergenceAid;
}

export class Migration {
  readonly startedAt = new Date().toISOString();
  readonly stages: StageRecord[] = [];
  readonly controls: RunControls;
  readonly sender: Sender;
  readonly records: RoundRecords;
  readonly watch: LimitWatch | undefined;
  /** The last switch-over decision (a timeout reports it). */
  lastDecision: PolicyDecision | undefined;
  /** A time limit asked for post-copy. */
  postcopyRequested = false;
  /** The guest is suspended on the source (from the stop-and-copy stage on). */
  suspended = false;
  /** When it was suspended, on the run's clock. */
  suspendedAtMs = 0;
  /** QEMU's own downtime, with QEMU's loop: from the stop to the device state written, ms. */
  qemuDowntimeMs?: number;
  /** The run in intervals, sampled between frames (result.series). */
  readonly series = new IntervalSeries();

  constructor(
    readonly config: RunConfig,
    readonly hooks: RunHooks,
    readonly world: World,
    readonly source: GuestMemory,
    /** The target's memory where it is in this process; null over TCP. */
    readonly target: GuestMemory | null,
    readonly prepared: Prepared,
    readonly strategies: Strategies,
  ) {
    const { clock, transport, encoding } = world;
    const { dirtyLog, guest } = prepared;
    this.controls = new RunControls(guest, transport, config.downtimeLimitMs);
    this.watch = hooks.limits ? new LimitWatch(hooks.limits) : undefined;
    this.sender = new Sender(source, transport, dirtyLog, clock, () => this.checkpoint(), encoding, world.chargeCpu);
    this.records = new RoundRecords({
      source,
      dirtyLog,
      sender: this.sender,
      transport,
      clock,
      guest,
      controls: this.controls,
      encoding,
      emit: this.emit,
    });
  }

  readonly emit = (event: MigrationEvent): void => this.hooks.onEvent?.(event);

  get clock(): World['clock'] {
    return this.world.clock;
  }

  /** Runs `body` as the stage `name`: timed on the run's clock, announced, recorded. */
  async stage<T>(name: StageName, body: () => Promise<T>): Promise<T> {
    const { clock } = this;
    const startMs = clock.nowMs();
    this.sample(true);
    this.emit({ kind: 'stage-start', stage: name, atMs: startMs });
    const out = await body();
    const durationMs = clock.nowMs() - startMs;
    this.stages.push({ name, startMs, durationMs });
    this.emit({ kind: 'stage-end', stage: name, atMs: startMs + durationMs, durationMs });
    return out;
  }

  /** A sample of the run's series: bytes sent and the guest's writes so far. */
  private sample(force: boolean): void {
    this.series.sample(
      this.clock.nowMs(),
      () => ({ bytes: this.sender.sentBytes, writes: this.prepared.guest.totalWrites() }),
      force,
    );
  }

  /**
   * Between frames and rounds: throws a RunFailure when the run was interrupted or its timeout
   * passed, or a time limit cancels it; a limit's other actions take effect.
   */
  checkpoint(): void {
    const { clock, config } = this;
    this.series.sample(clock.nowMs(), () => ({
      bytes: this.sender.sentBytes,
      writes: this.prepared.guest.totalWrites(),
    }));
    if (this.hooks.signal?.aborted) throw new RunFailure('interrupted before the migration completed');
    if (clock.nowMs() > (config.timeoutMs ?? Infinity)) {
      const state = this.lastDecision ? `; last check: ${this.lastDecision.why}` : '';
      throw new RunFailure(
        `did not converge within the timeout of ${formatMs(config.timeoutMs ?? 0)} (${this.records.count()} rounds${state})`,
      );
    }
    const fired = this.watch?.check(clock.nowMs());
    if (!fired) return;
    this.emit({ kind: 'limit', event: fired });
    if (fired.action === 'cancel') throw new RunFailure(`cancelled at ${formatMs(fired.atMs)}: ${fired.why}`);
    if (fired.action === 'postcopy') this.postcopyRequested = true;
    const { aids } = this.strategies;
    if (fired.action === 'auto-converge' && !aids.some((a) => a instanceof AutoConverge)) {
      const aid: ConvergenceAid = new AutoConverge(DEFAULT_AUTO_CONVERGE);
      aids.push(aid);
      aid.start?.(this.controls);
    }
  }
}
