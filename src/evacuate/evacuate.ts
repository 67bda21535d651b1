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
import { describeEnvironment } from '../result/environment.js';
import { orderedVms, type EvacuationConfig, type EvacuationVm } from './config.js';
import {
  EVACUATION_SCHEMA_VERSION,
  type EvacuationResult,
  type EvacuationResultConfig,
  type NicUsage,
  type VmOutcome,
} from './result.js';

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
/** Points of the NIC's series in a result: buckets are merged down to at most this many. */
const SERIES_POINTS = 400;

export async function runEvacuation(ev: EvacuationConfig, hooks: EvacuationHooks = {}): Promise<EvacuationResult> {
  const startedAt = new Date().toISOString();
  const wall0 = performance.now();
  const emit = hooks.onEvent ?? (() => {});
  const queue = orderedVms(ev);
  const migrationBits = ev.nicBitsPerSec === null ? null : ev.nicBitsPerSec - ev.backgroundBitsPerSec;
  const totalRam = ev.vms.reduce((n, vm) => n + vm.config.ramBytes, 0);
  // A first guess of how long it takes (one pass and a half over all RAM), for the usage record's buckets.
  const expectedMs = migrationBits === null ? 1000 : Math.max(1000, (1.5 * totalRam * 8 * 1000) / migrationBits);
  const timeline = ev.clock === 'virtual' ? new VirtualTimeline() : null;
  // The NIC's time base: simulated ms of the timeline, or epoch ms (what sending threads read).
  const epoch0 = performance.timeOrigin + performance.now();
  const link = Link.create(
    { bitsPerSec: migrationBits, latencyMs: ev.latencyMs },
    {
      users: ev.vms.length,
      originMs: timeline ? 0 : epoch0,
      bucketMs: expectedMs / EXPECTED_BUCKETS,
    },
  );
  const now = (): number => (timeline ? timeline.nowMs() : performance.timeOrigin + performance.now() - epoch0);

  const outcomes: VmOutcome[] = ev.vms.map((vm) => ({
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
  const perTarget = ev.targets.map(() => 0);
  const placed = ev.targets.map(() => 0);
  let started = 0;
  let active = 0;
  let peakConcurrent = 0;
  /**
   * Set-up VMs waiting to start their clock, by launch ticket. They start in launch order, as slots
   * free; the first ones (up to the limit) together, once all of them are set up.
   */
  const waiting = new Map<number, () => void>();
  let tickets = 0;
  let nextTicket = 0;
  const firstBatch = Math.min(ev.maxConcurrent, ev.vms.length);
  let readyCount = 0;
  /** Tickets of VMs whose set-up failed: the line skips them. */
  const skipped = new Set<number>();
  const pump = (): void => {
    if (readyCount < firstBatch) return;
    for (;;) {
      if (skipped.delete(nextTicket)) {
        nextTicket++;
        continue;
      }
      const go = waiting.get(nextTicket);
      if (go === undefined || active >= ev.maxConcurrent) return;
      waiting.delete(nextTicket++);
      active++;
      go();
    }
  };
  // Under the real clock a VM's set-up (allocating and filling its memories) takes real time, which
  // a real host does not spend: one VM more than the limit is set up ahead and waits, set up, for a
  // slot. Under the virtual clock set-up takes no simulated time.
  // Over TCP the next one is not set up ahead: its set-up connects, and would take a receiver's
  // --max-migrations slot before its turn.
  const lookahead = timeline || ev.targets.some((t) => t.address !== null) ? 0 : 1;
  const scheduler: TimelineParticipant | null = timeline ? timeline.join() : null;
  await scheduler?.turn();
  let kick = (): void => {};
  let kicked = Promise.resolve();
  const rearm = (): void => {
    kicked = new Promise<void>((resolve) => {
      kick = resolve;
    });
  };
  rearm();
  const notify = (): void => {
    kick();
    scheduler?.wake();
  };

  const limitsOf = (vm: EvacuationVm): MigrationLimits | undefined => {
    if (ev.completionTimeoutPerGibMs === null && ev.progressTimeoutMs === null) return undefined;
    return {
      completionMs:
        ev.completionTimeoutPerGibMs === null ? null : (ev.completionTimeoutPerGibMs * vm.config.ramBytes) / 2 ** 30,
      onCompletion: ev.onCompletionTimeout,
      progressMs: ev.progressTimeoutMs,
      onProgress: ev.onProgressTimeout,
    };
  };

  /** The target host a VM goes to now, or null while none of its possible targets has room. */
  const placeOf = (vm: EvacuationVm): number | null => {
    const room = (t: number): boolean => ev.maxPerTarget === null || perTarget[t] < ev.maxPerTarget;
    if (vm.target !== null) return room(vm.target) ? vm.target : null;
    let best: number | null = null;
    for (let t = 0; t < ev.targets.length; t++) {
      if (!room(t)) continue;
      if (
        best === null ||
        perTarget[t] < perTarget[best] ||
        (perTarget[t] === perTarget[best] && placed[t] < placed[best])
      )
        best = t;
    }
    return best;
  };

  /** Launched VMs that still hold a place against the limits (until they send nothing more). */
  let inLine = 0;
  let changed = false;
  const all: Promise<void>[] = [];
  const remote = ev.targets.some((t) => t.address !== null);

  const launch = (vm: EvacuationVm, target: number): void => {
    const out = outcomes[vm.index];
    const t = ev.targets[target];
    const config = t.address === null ? vm.config : { ...vm.config, target: t.address };
    out.target = t.name;
    perTarget[target]++;
    placed[target]++;
    inLine++;
    const participant = timeline?.join();
    const ticket = tickets++;
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
      if (counted) active--;
      else if (!timeline) {
        // It never got in line to start: the ones behind it must not wait for it.
        skipped.add(ticket);
        if (ticket < firstBatch) readyCount++;
      }
      pump();
      inLine--;
      perTarget[target]--;
      changed = true;
      notify();
    };
    const done = (async () => {
      await participant?.turn();
      let result: MigrationResult | undefined;
      try {
        result = await runMigration(config, {
          link: link.forUser(vm.index),
          timeline: participant,
          limits: limitsOf(vm),
          signal: hooks.signal,
          ready: async () => {
            if (timeline) {
              // Set-ups run in launch order, one turn at a time, and take no simulated time.
              active++;
            } else {
              if (ticket < firstBatch) readyCount++;
              await new Promise<void>((resolve) => {
                waiting.set(ticket, resolve);
                pump();
              });
            }
            counted = true;
            if (hooks.signal?.aborted) throw new Error('interrupted before its turn');
          },
          onStart: () => {
            out.startMs = now();
            out.startOrder = started++;
            peakConcurrent = Math.max(peakConcurrent, active);
            emit({ kind: 'vm-start', vm: vm.name, target: t.name, atMs: out.startMs, running: active });
          },
          onEvent: (event) => {
            if (
              (event.kind === 'stage-end' &&
                (event.stage === 'postcopy' || (event.stage === 'announce' && !config.postcopy))) ||
              event.kind === 'failed'
            ) {
              // It sends nothing more: its end on the evacuation's clock.
              out.endMs ??= now();
              if (!timeline && !remote) leave();
            }
            emit({ kind: 'migration', vm: vm.name, event });
          },
        });
        out.result = result;
        out.endMs ??= (out.startMs ?? 0) + result.totals.totalTimeMs;
        if (result.status === 'completed' && result.verified) {
          out.status = 'migrated';
          delete out.reason;
        } else {
          out.reason = result.reason ?? 'the migration did not verify';
        }
      } catch (e) {
        out.reason = `the migration could not run: ${e instanceof Error ? e.message : String(e)}`;
        if (out.startMs !== null) out.endMs ??= now();
      } finally {
        emit({ kind: 'vm-end', vm: vm.name, atMs: out.endMs ?? now(), status: out.status, reason: out.reason });
        // The scheduler is queued at this instant (leave() wakes it) before the timeline may move on.
        leave();
        participant?.leave();
      }
    })();
    all.push(done);
  };

  try {
    while (queue.length > 0 || inLine > 0) {
      // Launch, in order, every VM the limits let go now (and, on the real clock, one ahead).
      for (let i = 0; i < queue.length && inLine < ev.maxConcurrent + lookahead && !hooks.signal?.aborted;) {
        const target = placeOf(queue[i]);
        if (target === null) {
          i++;
          continue;
        }
        const [vm] = queue.splice(i, 1);
        launch(vm, target);
      }
      if (inLine === 0) break; // interrupted: the rest stay
      if (scheduler) {
        while (!changed) await scheduler.park();
      } else if (!changed) {
        await kicked;
      }
      rearm();
      changed = false;
      if (hooks.signal?.aborted) {
        for (const w of waiting.values()) {
          active++;
          w();
        }
        waiting.clear();
      }
    }
    await Promise.all(all);
  } finally {
    scheduler?.leave();
  }

  const migrated = outcomes.filter((o) => o.status === 'migrated');
  const starts = outcomes.flatMap((o) => (o.startMs === null ? [] : [o.startMs]));
  const firstStart = starts.length > 0 ? Math.min(...starts) : 0;
  // Times from the first start.
  for (const o of outcomes) {
    if (o.startMs !== null) o.startMs -= firstStart;
    if (o.endMs !== null) o.endMs -= firstStart;
  }
  const lastAnnounce = Math.max(0, ...migrated.map((o) => o.endMs ?? 0));
  const downtimes = migrated.map((o) => ({ vm: o.name, ms: o.result?.totals.downtimeMs ?? 0 }));
  const worst = downtimes.reduce<{ vm: string; ms: number } | null>(
    (w, d) => (w === null || d.ms > w.ms ? d : w),
    null,
  );
  const bytesSent = outcomes.reduce((n, o) => n + (o.result?.totals.bytesSent ?? 0), 0);
  const evacuationTimeMs = migrated.length > 0 ? lastAnnounce : 0;
  return {
    schemaVersion: EVACUATION_SCHEMA_VERSION,
    tool: 'migbench',
    kind: 'evacuation',
    startedAt,
    status: migrated.length === outcomes.length ? 'completed' : migrated.length === 0 ? 'failed' : 'partial',
    config: evacuationResultConfig(ev),
    environment: describeEnvironment(),
    host: {
      evacuationTimeMs,
      wallTimeMs: performance.now() - wall0,
      migrated: migrated.length,
      leftBehind: outcomes.length - migrated.length,
      downtimeSumMs: downtimes.reduce((n, d) => n + d.ms, 0),
      downtimeMaxMs: worst?.ms ?? 0,
      downtimeMaxVm: worst?.vm ?? null,
      bytesSent,
      peakConcurrent,
    },
    vms: outcomes,
    nic: nicUsage(link, ev, firstStart, evacuationTimeMs, bytesSent, migrationBits),
  };
}

/** The evacuation's configuration as a result records it. */
export function evacuationResultConfig(ev: EvacuationConfig): EvacuationResultConfig {
  return {
    clock: ev.clock,
    nicBitsPerSec: ev.nicBitsPerSec,
    latencyMs: ev.latencyMs,
    backgroundBitsPerSec: ev.backgroundBitsPerSec,
    maxConcurrent: ev.maxConcurrent,
    maxPerTarget: ev.maxPerTarget,
    targets: ev.targets.map((t) => t.name),
    order: ev.order,
    bandwidthPerMigrationBitsPerSec: ev.bandwidthPerMigrationBitsPerSec,
    completionTimeoutPerGibMs: ev.completionTimeoutPerGibMs,
    onCompletionTimeout: ev.onCompletionTimeout,
    progressTimeoutMs: ev.progressTimeoutMs,
    onProgressTimeout: ev.onProgressTimeout,
    seed: ev.seed,
  };
}

/** The link's usage record as bits/s per VM per bucket, from the first start, merged down to SERIES_POINTS. */
function nicUsage(
  link: Link,
  ev: EvacuationConfig,
  firstStart: number,
  evacuationTimeMs: number,
  bytesSent: number,
  migrationBits: number | null,
): NicUsage {
  const usage = link.usage();
  let bucketMs = usage?.bucketMs ?? 1;
  // Drop the buckets before the first start (set-up under the real clock).
  const skip = Math.floor(firstStart / bucketMs);
  let rows = (usage?.bytes ?? []).map((r) => r.slice(skip));
  const length = Math.max(0, ...rows.map((r) => r.length));
  rows = rows.map((r) => [...r, ...new Array<number>(length - r.length).fill(0)]);
  while (Math.max(0, ...rows.map((r) => r.length)) > SERIES_POINTS) {
    rows = rows.map((r) => {
      const merged: number[] = [];
      for (let i = 0; i < r.length; i += 2) merged.push(r[i] + (r[i + 1] ?? 0));
      return merged;
    });
    bucketMs *= 2;
  }
  const toBits = (bytes: number): number => (bytes * 8 * 1000) / bucketMs;
  const series = ev.vms.map((vm, i) => ({ vm: vm.name, bitsPerSec: (rows[i] ?? []).map(toBits) }));
  const points = Math.max(0, ...series.map((s) => s.bitsPerSec.length));
  let peak = 0;
  for (let b = 0; b < points; b++)
    peak = Math.max(
      peak,
      series.reduce((n, s) => n + (s.bitsPerSec[b] ?? 0), 0),
    );
  const mean = evacuationTimeMs > 0 ? (bytesSent * 8 * 1000) / evacuationTimeMs : 0;
  return {
    availableBitsPerSec: migrationBits,
    bucketMs,
    series,
    peakBitsPerSec: peak,
    meanBitsPerSec: mean,
    utilisation: migrationBits === null ? null : mean / migrationBits,
  };
}
