/**
 * The guest under the virtual clock: the same vCPU write path (src/guest/vcpu.ts), advanced by
 * the driver's clock instead of running on threads. Each vCPU writes at exact instants of
 * simulated time (its rate's period apart), vCPUs in order, so the bytes dirtied are a pure
 * function of the options and the seed. A vCPU whose dirty ring is full stalls until a harvest; a
 * throttled one sleeps in QEMU's slices (throttle.ts).
 */
import type { GuestShape, SlotHandle } from '../memory/layout.js';
import type { MarkMode } from '../dirtylog/dirty-log.js';
import type { GuestOptions } from './host.js';
import type { VirtualClock } from '../clock/virtual.js';
import type { WriteGate } from '../memory/write-gate.js';
import { Vcpu } from './vcpu.js';
import { ThrottleSlices, type ThrottleHow } from './throttle.js';
import { STALLED, STALLS } from '../dirtylog/ring.js';
import { ClockedGuest, endBlocks, type ClockedVcpu, type VcpuSteps } from './clocked-vcpus.js';

interface SimulatedVcpu extends ClockedVcpu {
  cpu: Vcpu;
  /**
   * A trace's vCPU (cpu.trace): a write of trace time T happens at anchorWallMs + (T -
   * anchorTraceMs) / the replay's rate. Time the program loses (a fault, a full ring, a pause, a
   * throttle sleep) moves the anchor on: its writes come that much later, none is dropped.
   */
  anchorWallMs: number;
  anchorTraceMs: number;
}

const ring = (v: SimulatedVcpu): NonNullable<Vcpu['ring']> => v.cpu.ring as NonNullable<Vcpu['ring']>;

export class SimulatedGuest extends ClockedGuest<SimulatedVcpu> {
  protected readonly vcpus: SimulatedVcpu[];
  protected readonly steps: VcpuSteps<SimulatedVcpu>;
  /** Milliseconds between two writes of one vCPU, unthrottled (periodMs: as slowed evenly now). */
  private readonly basePeriodMs: number;
  /** The throttle's sleeps, or null while not throttled in slices. */
  private slices: ThrottleSlices | null = null;
  /** A trace's replay rate: trace ms per simulated ms (--trace-speed, times what an even throttle leaves). */
  private traceSpeed = 1;
  private traceRate = 1;
  private pausedAtMs = 0;
  private readonly replaysTrace: boolean;

  /**
   * `gate` is asked before each write, once its page is chosen: a thread that has yet to read that
   * page holds the write until it has (src/memory/write-gate.ts).
   */
  constructor(
    config: GuestOptions,
    slots: SlotHandle[],
    guest: GuestShape,
    mark: MarkMode,
    clock: VirtualClock,
    gate: WriteGate,
  ) {
    // A trace's vCPUs write at the trace's instants (place, below), not a period apart.
    const periodMs = config.trace
      ? 0
      : config.pageWritesPerSec > 0
        ? (1000 * config.vcpus) / config.pageWritesPerSec
        : Infinity;
    super(clock, periodMs, false);
    this.basePeriodMs = periodMs;
    this.replaysTrace = config.trace !== null;
    if (config.trace) this.traceSpeed = this.traceRate = config.trace.speed;
    const startMs = clock.nowMs();
    const catchUpMs = config.catchUpMs;
    this.vcpus = Array.from({ length: config.vcpus }, (_, vcpu) => ({
      cpu: new Vcpu({
        vcpu,
        vcpus: config.vcpus,
        slots,
        guest,
        pattern: config.pattern,
        writeSizeBytes: config.writeSizeBytes,
        seed: config.seed,
        writeSeed: config.writeSeed,
        content: config.content,
        procedural: config.procedural,
        trace: config.trace,
        mark,
      }),
      anchorWallMs: startMs,
      anchorTraceMs: 0,
      // vCPUs are staggered within a period so their writes interleave in time.
      nextWriteMs: vcpu === 0 ? 0 : (periodMs * vcpu) / config.vcpus,
      writes: 0,
      blockedSinceMs: null,
    }));
    const hold = (slot: number, localPage: number): void => gate.beforeWrite(slot, localPage);
    // A vCPU blocks on a full dirty ring, until a harvest.
    this.steps = {
      mayWrite: (v) => !v.cpu.ringFull(),
      // KVM_EXIT_DIRTY_RING_FULL: counted, and flagged for the reaper (the dirty log's service()).
      block: (v) => {
        Atomics.store(ring(v).i32, STALLS, ring(v).i32[STALLS] + 1);
        Atomics.store(ring(v).i32, STALLED, 1);
      },
      write: (v) => {
        const lostMs = v.cpu.write(hold);
        v.anchorWallMs += lostMs;
        return lostMs;
      },
      addBlockedMs: (v, ms) => {
        ring(v).stallMs[0] += ms;
        Atomics.store(ring(v).i32, STALLED, 0);
        v.anchorWallMs += ms;
      },
      unblockCostMs: (v) => {
        const ms = v.cpu.ringFullExit();
        v.anchorWallMs += ms;
        return ms;
      },
      // A write due while the vCPU sleeps happens when it wakes, if within the catch-up; else it is dropped.
      place: (v) => {
        if (v.cpu.trace) return this.placeTraceWrite(v, v.cpu.trace.nextMs());
        for (;;) {
          const t = v.nextWriteMs;
          const wake = this.slices?.sleepEndAt(t) ?? null;
          if (wake === null) return t;
          const keepFrom = wake - catchUpMs;
          if (t >= keepFrom) return wake;
          const skip = Math.max(1, Math.ceil((keepFrom - t) / this.periodMs));
          v.nextWriteMs += skip * this.periodMs;
        }
      },
    };
  }

  /**
   * When a trace vCPU's write of trace time `traceMs` happens: at the replay's rate from its
   * anchor; one that falls in a throttle sleep waits for its end, and so do the writes after it.
   */
  private placeTraceWrite(v: SimulatedVcpu, traceMs: number): number {
    for (;;) {
      const at =
        traceMs === Infinity || this.traceRate <= 0
          ? Infinity
          : v.anchorWallMs + (traceMs - v.anchorTraceMs) / this.traceRate;
      const wake = at === Infinity ? null : (this.slices?.sleepEndAt(at) ?? null);
      if (wake === null) {
        v.nextWriteMs = at;
        return at;
      }
      v.anchorWallMs += wake - at;
    }
  }

  /** A trace's replay rate changes at `nowMs`: each vCPU's anchor moves there, its trace time kept. */
  private setTraceRate(nowMs: number, rate: number): void {
    for (const v of this.vcpus) {
      v.anchorTraceMs += (nowMs - v.anchorWallMs) * this.traceRate;
      v.anchorWallMs = nowMs;
    }
    this.traceRate = rate;
  }

  protected override onPause(nowMs: number): void {
    endBlocks(this.vcpus, nowMs, this.steps);
    this.pausedAtMs = nowMs;
  }

  protected onResume(nowMs: number): void {
    for (const v of this.vcpus) {
      v.nextWriteMs = Math.max(v.nextWriteMs, nowMs);
      // The program stood still while paused.
      v.anchorWallMs += nowMs - this.pausedAtMs;
    }
  }

  setThrottle(fraction: number, how: ThrottleHow = 'even'): void {
    if (this.replaysTrace) {
      // A trace: slowed evenly, its replay runs at (1 - fraction) of its speed; in slices, it sleeps.
      const even = how === 'slices' ? 0 : Math.min(fraction, 1);
      this.setTraceRate(this.clock.nowMs(), this.traceSpeed * (1 - even));
      this.slices =
        how === 'slices' && fraction > 0 ? new ThrottleSlices(this.clock.nowMs(), Math.min(fraction, 0.999)) : null;
      return;
    }
    if (how === 'slices') {
      // The timer re-arms at the change; writes keep their paced instants, throttle.ts says which run.
      this.periodMs = this.basePeriodMs;
      this.slices = fraction > 0 ? new ThrottleSlices(this.clock.nowMs(), Math.min(fraction, 0.999)) : null;
    } else {
      // Writes already due keep their instants; later ones come at the slowed period.
      this.slices = null;
      this.periodMs = fraction >= 1 ? Infinity : this.basePeriodMs / (1 - fraction);
    }
  }
}
