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
}

const ring = (v: SimulatedVcpu): NonNullable<Vcpu['ring']> => v.cpu.ring as NonNullable<Vcpu['ring']>;

export class SimulatedGuest extends ClockedGuest<SimulatedVcpu> {
  protected readonly vcpus: SimulatedVcpu[];
  protected readonly steps: VcpuSteps<SimulatedVcpu>;
  /** Milliseconds between two writes of one vCPU, unthrottled (periodMs: as slowed evenly now). */
  private readonly basePeriodMs: number;
  /** The throttle's sleeps, or null while not throttled in slices. */
  private slices: ThrottleSlices | null = null;

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
    const periodMs = config.pageWritesPerSec > 0 ? (1000 * config.vcpus) / config.pageWritesPerSec : Infinity;
    super(clock, periodMs, false);
    this.basePeriodMs = periodMs;
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
        mark,
      }),
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
      write: (v) => v.cpu.write(hold),
      addBlockedMs: (v, ms) => {
        ring(v).stallMs[0] += ms;
        Atomics.store(ring(v).i32, STALLED, 0);
      },
      unblockCostMs: (v) => v.cpu.ringFullExit(),
      // A write due while the vCPU sleeps happens when it wakes, if within the catch-up; else it is dropped.
      place: (v) => {
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

  protected override onPause(nowMs: number): void {
    endBlocks(this.vcpus, nowMs, this.steps);
  }

  protected onResume(nowMs: number): void {
    for (const v of this.vcpus) v.nextWriteMs = Math.max(v.nextWriteMs, nowMs);
  }

  setThrottle(fraction: number, how: ThrottleHow = 'even'): void {
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
