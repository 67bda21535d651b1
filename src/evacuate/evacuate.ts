/**
 * Host evacuation: every VM of a source host migrated over the source's one NIC, as many at once as
 * the limits allow (per source host, per target), in the order asked, each migration the same
 * driver as `migbench run` (src/driver/migrate.ts) on a link they all share (src/link/link.ts):
 * frames of concurrent migrations take turns on the NIC, each at most its own cap.
 * - Under the real clock the migrations run side by side on their own threads; the NIC is one
 *   schedule in epoch time that every sending thread takes turns on.
 * - Under the virtual clock they share one simulated timeline (src/clock/timeline.ts): one runs at
 *   a time, in simulated-time order, so the evacuation is deterministic and 8+ guests are cheap.
 * A VM's memories exist while it migrates (set up at its start, released at its end): the source
 * host's other VMs are not simulated while they wait. A migration that fails (a time limit
 * cancelled it, it did not converge) leaves its VM on the source, with the reason.
 */
import type { MigrationEvent } from '../driver/events.js';
import type { MigrationResult } from '../result/schema.js';
import { Link } from '../link/link.js';
import { VirtualTimeline, type TimelineParticipant } from '../clock/timeline.js';
import { runMigration } from '../driver/migrate.js';
import type { MigrationLimits } from '../driver/limits.js';
import { orderedVms, type EvacuationConfig, type EvacuationVm } from './config.js';

/** A VM in the queue, with the targets it could not connect to. */
type QueuedEvacuationVm = EvacuationVm & { avoid: Set<number>; busyRetries: number };

/** A target busy with another source's migrations is tried again this often, at most this many times (30 s). */
const BUSY_RETRY_MS = 1000;
const BUSY_RETRIES = 30;
import type { EvacuationResult, VmOutcome } from './result.js';
import { EvacuationQueue, StartGate } from './scheduler.js';
import { evacuationResult } from './outcome.js';

export type EvacuationEvent =
  | { kind: 'vm-start'; vm: string; target: string; atMs: number; running: number }
  | { kind: 'vm-end'; vm: string; atMs: number; status: VmOutcome['status']; reason?: string }
  | { kind: 'migration'; vm: string; event: MigrationEvent };

export interface EvacuationHooks {
  onEvent?: (e: EvacuationEvent) => void;
  signal?: AbortSignal;
}

/** Usage buckets the evacuation's expected length is spread over at first (they widen if it runs longer). */
const EXPECTED_BUCKETS = 400;

export async function runEvacuation(ev: EvacuationConfig, hooks: EvacuationHooks = {}): Promise<EvacuationResult> {
  return new Evacuation(ev, hooks).run();
}

/** One evacuation's state: the NIC, the clock, the scheduler, what each VM came to. */
class Evacuation {
  private readonly startedAt = new Date().toISOString();
  private readonly wall0 = performance.now();
  private readonly emit: (e: EvacuationEvent) => void;
  /** The NIC's rate for migrations, bits/s (the background's share taken out); null: unlimited. */
  private readonly migrationBits: number | null;
  private readonly timeline: VirtualTimeline | null;
  /** The NIC's time base: simulated ms of the timeline, or epoch ms (what sending threads read). */
  private readonly epoch0 = performance.timeOrigin + performance.now();
  private readonly link: Link;
  private readonly outcomes: VmOutcome[];
  private readonly queue: EvacuationQueue<QueuedEvacuationVm>;
  private readonly gate: StartGate;
  /** Over TCP: the receiver counts a migration until it ends, verification included. */
  private readonly remote: boolean;
  /** The evacuation's own turn on the timeline (virtual clock). */
  private readonly scheduler: TimelineParticipant | null;
  private readonly all: Promise<void>[] = [];
  private started = 0;
  private peakConcurrent = 0;
  private changed = false;
  /** VMs waiting to try a busy target again (their timers run). */
  private retrying = 0;
  private kick: () => void = () => {};
  private kicked = Promise.resolve();

  constructor(
    private readonly ev: EvacuationConfig,
    private readonly hooks: EvacuationHooks,
  ) {
    this.emit = hooks.onEvent ?? (() => {});
    this.migrationBits = ev.nicBitsPerSec === null ? null : ev.nicBitsPerSec - ev.backgroundBitsPerSec;
    const totalRam = ev.vms.reduce((n, vm) => n + vm.config.ramBytes, 0);
    // A first guess of how long it takes (one pass and a half over all RAM), for the usage record's buckets.
    const expectedMs =
      this.migrationBits === null ? 1000 : Math.max(1000, (1.5 * totalRam * 8 * 1000) / this.migrationBits);
    this.timeline = ev.clock === 'virtual' ? new VirtualTimeline() : null;
    this.link = Link.create(
      { bitsPerSec: this.migrationBits, latencyMs: ev.latencyMs },
      { users: ev.vms.length, originMs: this.timeline ? 0 : this.epoch0, bucketMs: expectedMs / EXPECTED_BUCKETS },
    );
    this.outcomes = ev.vms.map((vm) => ({
      name: vm.name,
      index: vm.index,
      startOrder: null,
      target: null,
      ramBytes: vm.config.ramBytes,
      dirtyBytesPerSec: vm.config.pageWritesPerSec * vm.config.pageSizeBytes,
      options: vm.options,
      status: 'left-behind',
      reason: 'not started: the evacuation was interrupted',
      startMs: null,
      endMs: null,
    }));
    this.remote = ev.targets.some((t) => t.address !== null);
    // Under the real clock a VM's set-up (allocating and filling its memories) takes real time, which
    // a real host does not spend: one VM more than the limit is set up ahead and waits, set up, for a
    // slot. Under the virtual clock set-up takes no simulated time. Over TCP the next one is not set
    // up ahead: its set-up connects, and would take a receiver's --max-migrations slot before its turn.
    const lookahead = this.timeline || this.remote ? 0 : 1;
    this.queue = new EvacuationQueue(
      orderedVms(ev).map((vm) => ({ ...vm, avoid: new Set<number>(), busyRetries: 0 })),
      {
        maxConcurrent: ev.maxConcurrent,
        maxPerTarget: ev.maxPerTarget,
        targets: ev.targets.length,
        lookahead,
      },
    );
    this.gate = new StartGate(ev.maxConcurrent, Math.min(ev.maxConcurrent, ev.vms.length));
    this.scheduler = this.timeline ? this.timeline.join() : null;
    this.rearm();
  }

  /** Now on the evacuation's clock. */
  private now(): number {
    return this.timeline ? this.timeline.nowMs() : performance.timeOrigin + performance.now() - this.epoch0;
  }

  async run(): Promise<EvacuationResult> {
    await this.scheduler?.turn();
    try {
      await this.launchAll();
      await Promise.all(this.all);
    } finally {
      this.scheduler?.leave();
    }
    const { ev, link, outcomes, migrationBits, peakConcurrent } = this;
    const wallTimeMs = performance.now() - this.wall0;
    return evacuationResult({
      ev,
      startedAt: this.startedAt,
      wallTimeMs,
      outcomes,
      link,
      migrationBits,
      peakConcurrent,
    });
  }

  /** Launches, in order, every VM the limits let go, as places free, until none is left or the evacuation is interrupted. */
  private async launchAll(): Promise<void> {
    const { queue, hooks } = this;
    while (queue.waiting > 0 || queue.inLine > 0 || this.retrying > 0) {
      if (!hooks.signal?.aborted) for (const { vm, target } of queue.launch()) this.launch(vm, target);
      if (queue.inLine === 0 && (this.retrying === 0 || hooks.signal?.aborted)) break; // interrupted: the rest stay
      if (this.scheduler) {
        while (!this.changed) await this.scheduler.park();
      } else if (!this.changed) {
        await this.kicked;
      }
      this.rearm();
      this.changed = false;
      if (hooks.signal?.aborted) this.gate.releaseAll();
    }
  }

  private rearm(): void {
    this.kicked = new Promise<void>((resolve) => {
      this.kick = resolve;
    });
  }

  /** Something changed: the launching loop looks again. */
  private notify(): void {
    this.changed = true;
    this.kick();
    this.scheduler?.wake();
  }

  /** The VM's time limits (KubeVirt's), if the evacuation sets any. */
  private limitsOf(vm: EvacuationVm): MigrationLimits | undefined {
    const { ev } = this;
    if (ev.completionTimeoutPerGibMs === null && ev.progressTimeoutMs === null) return undefined;
    return {
      completionMs:
        ev.completionTimeoutPerGibMs === null ? null : (ev.completionTimeoutPerGibMs * vm.config.ramBytes) / 2 ** 30,
      onCompletion: ev.onCompletionTimeout,
      progressMs: ev.progressTimeoutMs,
      onProgress: ev.onProgressTimeout,
    };
  }

  /** Starts a VM's migration to `target`; it leaves the line when it sends nothing more. */
  private launch(vm: QueuedEvacuationVm, target: number): void {
    const out = this.outcomes[vm.index];
    const t = this.ev.targets[target];
    const config = t.address === null ? vm.config : { ...vm.config, target: t.address };
    out.target = t.name;
    const participant = this.timeline?.join();
    const ticket = this.gate.ticket();
    let counted = false;
    let left = false;
    /**
     * It leaves the line: its slot (if it had one) goes to the next VM set up and waiting, its
     * place to the next VM to launch. In this process that is once it sends nothing more (its
     * announce, post-copy's last page, or a failure): verification is not the NIC's. Over TCP it
     * is once its migration has ended, verification included, as the receiver counts it until then.
     */
    const leave = (): void => {
      if (left) return;
      left = true;
      this.gate.leave(ticket, counted);
      this.queue.leave(target);
      this.notify();
    };
    const ready = async (): Promise<void> => {
      // Set-ups run in launch order, one turn at a time, and take no simulated time.
      if (this.timeline) this.gate.active++;
      else await this.gate.ready(ticket);
      counted = true;
      if (this.hooks.signal?.aborted) throw new Error('interrupted before its turn');
    };
    const done = (async () => {
      await participant?.turn();
      let retried = false;
      try {
        const result = await this.migrate(vm, config, participant, ready, leave);
        this.record(out, result);
        retried = this.failover(vm, target, result);
      } catch (e) {
        out.reason = `the migration could not run: ${e instanceof Error ? e.message : String(e)}`;
        if (out.startMs !== null) out.endMs ??= this.now();
      } finally {
        // A VM that goes again, to another target, has no end yet.
        if (!retried)
          this.emit({
            kind: 'vm-end',
            vm: vm.name,
            atMs: out.endMs ?? this.now(),
            status: out.status,
            reason: out.reason,
          });
        // The scheduler is queued at this instant (leave() wakes it) before the timeline may move on.
        leave();
        participant?.leave();
      }
    })();
    this.all.push(done);
  }

  /** The VM's migration, on the shared NIC (and timeline), its start and end on the evacuation's clock. */
  private migrate(
    vm: EvacuationVm,
    config: EvacuationVm['config'],
    participant: TimelineParticipant | undefined,
    ready: () => Promise<void>,
    leave: () => void,
  ): Promise<MigrationResult> {
    const out = this.outcomes[vm.index];
    return runMigration(config, {
      link: this.link.forUser(vm.index),
      timeline: participant,
      limits: this.limitsOf(vm),
      signal: this.hooks.signal,
      ready,
      onStart: () => {
        out.startMs = this.now();
        out.startOrder = this.started++;
        this.peakConcurrent = Math.max(this.peakConcurrent, this.gate.active);
        this.emit({
          kind: 'vm-start',
          vm: vm.name,
          target: out.target ?? '',
          atMs: out.startMs,
          running: this.gate.active,
        });
      },
      onEvent: (event) => {
        const sentAll =
          (event.kind === 'stage-end' &&
            (event.stage === 'postcopy' || (event.stage === 'announce' && !config.postcopy))) ||
          event.kind === 'failed';
        if (sentAll) {
          // It sends nothing more: its end on the evacuation's clock.
          out.endMs ??= this.now();
          if (!this.timeline && !this.remote) leave();
        }
        this.emit({ kind: 'migration', vm: vm.name, event });
      },
    });
  }

  /** What a VM's migration came to. */
  /**
   * A VM that could not connect to its target (nothing sent, the guest still on the source) tries
   * another with room, as an operator would: an unreachable target is marked down for every later
   * VM; one that refused (busy, too small) is avoided by this VM only. True when it goes again.
   */
  private failover(vm: QueuedEvacuationVm, target: number, result: MigrationResult): boolean {
    if (!this.remote || this.hooks.signal?.aborted) return false;
    if (result.status !== 'failed' || !result.sourceRunning || result.iterations.length > 0) return false;
    if (result.stages.some((s) => s.name === 'precopy')) return false;
    const reason = result.reason ?? '';
    const out = this.outcomes[vm.index];
    // Busy with another source's migration: the same target again in a while, as KubeVirt retries.
    if (/refused the migration: busy with/.test(reason) && vm.busyRetries < BUSY_RETRIES) {
      vm.busyRetries++;
      out.tried = [...(out.tried ?? []), `${this.ev.targets[target].name}: ${reason}`];
      this.retrying++;
      setTimeout(() => {
        this.retrying--;
        this.queue.requeue(vm);
        this.notify();
      }, BUSY_RETRY_MS);
      return true;
    }
    if (/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|no handshake answer|closed stream \d+ during/.test(reason))
      this.queue.markDown(target);
    vm.avoid.add(target);
    if (!this.queue.retry(vm)) return false;
    out.tried = [...(out.tried ?? []), `${this.ev.targets[target].name}: ${reason}`];
    return true;
  }

  private record(out: VmOutcome, result: MigrationResult): void {
    out.result = result;
    out.endMs ??= (out.startMs ?? 0) + result.totals.totalTimeMs;
    if (result.status === 'completed' && result.verified) {
      out.status = 'migrated';
      delete out.reason;
    } else {
      out.reason = result.reason ?? 'the migration did not verify';
    }
  }
}
