/**
 * How both simulated guests advance their vCPUs with the virtual clock: each vCPU writes at exact
 * instants of simulated time, a period apart, vCPUs in order. A vCPU that may not write yet (its
 * dirty ring is full; the page it writes has not arrived) blocks at the instant of that write and
 * goes on at a later step of the clock, once it may; the clock stood still at that step's start
 * meanwhile, so that is where its blocked time ends.
 */
import type { VirtualClock } from '../clock/virtual.js';
import type { GuestHost, GuestReport } from './host.js';
import type { ThrottleHow } from './throttle.js';

export interface ClockedVcpu {
  /** Simulated time of its next write, ms. */
  nextWriteMs: number;
  writes: number;
  /** When it blocked, or null while it runs. */
  blockedSinceMs: number | null;
}

export interface VcpuSteps<V extends ClockedVcpu> {
  /** Whether v's next write may happen now. */
  mayWrite(v: V): boolean;
  /** v blocks before its next write: what that does (counts a ring stall, requests the page). */
  block(v: V): void;
  /** Does v's write; returns the ms it cost v beyond its pace (a write-protect fault), if any. */
  write(v: V): number | void;
  /** What v pays on its way back from a block (a ring-full exit's re-entry), ms. */
  unblockCostMs?(v: V): number;
  /** Adds `ms` of blocked time to v's count. */
  addBlockedMs(v: V, ms: number): void;
  /**
   * When v's next write happens, if not at v.nextWriteMs (a throttled vCPU sleeps); it may move
   * v.nextWriteMs on past writes its workload drops.
   */
  place?(v: V): number;
}

/** Does every write due in (fromMs, toMs], `periodMs` apart per vCPU (where steps.place puts them). */
export function advanceVcpus<V extends ClockedVcpu>(
  vcpus: readonly V[],
  fromMs: number,
  toMs: number,
  periodMs: number,
  steps: VcpuSteps<V>,
): void {
  for (const v of vcpus) {
    if (v.blockedSinceMs !== null) {
      if (!steps.mayWrite(v)) continue;
      steps.addBlockedMs(v, fromMs - v.blockedSinceMs);
      v.nextWriteMs = Math.max(v.nextWriteMs, fromMs) + (steps.unblockCostMs?.(v) ?? 0);
      v.blockedSinceMs = null;
    }
    for (;;) {
      const at = steps.place ? steps.place(v) : v.nextWriteMs;
      if (at > toMs) break;
      if (!steps.mayWrite(v)) {
        steps.block(v);
        v.blockedSinceMs = at;
        break;
      }
      const lostMs = steps.write(v) ?? 0;
      v.writes++;
      // Time the write lost in the hypervisor delays the vCPU's later writes.
      v.nextWriteMs += periodMs + lostMs;
    }
  }
}

/** Ends every block at `nowMs` (the guest pauses or shuts down), counting the time blocked. */
export function endBlocks<V extends ClockedVcpu>(vcpus: readonly V[], nowMs: number, steps: VcpuSteps<V>): void {
  for (const v of vcpus) {
    if (v.blockedSinceMs !== null) steps.addBlockedMs(v, nowMs - v.blockedSinceMs);
    v.blockedSinceMs = null;
  }
}

/**
 * A guest of vCPUs advanced by the virtual clock: the source's (simulated-guest.ts) and the one
 * that runs on the target after a post-copy switch-over (simulated-postcopy-guest.ts). Counts the
 * time it ran, for its achieved rate.
 */
export abstract class ClockedGuest<V extends ClockedVcpu> implements GuestHost {
  protected abstract readonly vcpus: V[];
  protected abstract readonly steps: VcpuSteps<V>;
  private liveMs = 0;
  private liveSinceMs = 0;

  /** `periodMs`: between two writes of one vCPU; `paused`: parked until resume(). */
  constructor(
    protected readonly clock: VirtualClock,
    protected periodMs: number,
    protected paused: boolean,
  ) {
    clock.onAdvance((fromMs, toMs) => {
      if (!this.paused) advanceVcpus(this.vcpus, fromMs, toMs, this.periodMs, this.steps);
    });
  }

  async started(): Promise<void> {}

  async pause(): Promise<void> {
    if (this.paused) return;
    this.paused = true;
    const now = this.clock.nowMs();
    this.liveMs += now - this.liveSinceMs;
    this.onPause(now);
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const now = this.clock.nowMs();
    this.liveSinceMs = now;
    this.onResume(now);
  }

  abstract setThrottle(fraction: number, how?: ThrottleHow): void;

  totalWrites(): number {
    return this.vcpus.reduce((n, v) => n + v.writes, 0);
  }

  writesPerVcpu(): number[] {
    return this.vcpus.map((v) => v.writes);
  }

  async shutdown(): Promise<GuestReport> {
    const now = this.clock.nowMs();
    this.onShutdown(now);
    const liveMs = this.liveMs + (this.paused ? 0 : now - this.liveSinceMs);
    const pageWrites = this.totalWrites();
    return { pageWrites, achievedPageWritesPerSec: liveMs > 0 ? (pageWrites * 1000) / liveMs : 0, liveMs };
  }

  /** What else pausing does, at `nowMs`. */
  protected onPause(_nowMs: number): void {}
  /** What else resuming does, at `nowMs`: when the vCPUs write next. */
  protected abstract onResume(nowMs: number): void;
  /** What else shutting down does, at `nowMs`. */
  protected onShutdown(_nowMs: number): void {}
}
