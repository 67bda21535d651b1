/**
 * How both simulated guests advance their vCPUs with the virtual clock: each vCPU writes at exact
 * instants of simulated time, a period apart, vCPUs in order. A vCPU that may not write yet (its
 * dirty ring is full; the page it writes has not arrived) blocks at the instant of that write and
 * goes on at a later step of the clock, once it may; the clock stood still at that step's start
 * meanwhile, so that is where its blocked time ends.
 */
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
  write(v: V): void;
  /** Adds `ms` of blocked time to v's count. */
  addBlockedMs(v: V, ms: number): void;
}

/** Does every write due in (fromMs, toMs], `periodMs` apart per vCPU. */
export function advanceVcpus<V extends ClockedVcpu>(vcpus: readonly V[], fromMs: number, toMs: number, periodMs: number, steps: VcpuSteps<V>): void {
  for (const v of vcpus) {
    if (v.blockedSinceMs !== null) {
      if (!steps.mayWrite(v)) continue;
      steps.addBlockedMs(v, fromMs - v.blockedSinceMs);
      v.nextWriteMs = Math.max(v.nextWriteMs, fromMs);
      v.blockedSinceMs = null;
    }
    while (v.nextWriteMs <= toMs) {
      if (!steps.mayWrite(v)) {
        steps.block(v);
        v.blockedSinceMs = v.nextWriteMs;
        break;
      }
      steps.write(v);
      v.writes++;
      v.nextWriteMs += periodMs;
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
