import type { ContentMix } from '../memory/content.js';
import type { WritePattern } from './pattern.js';
/**
 * A running guest as the driver sees it: vCPUs on worker threads (real clock) or advanced by the
 * clock (virtual), on the source before the switch-over or on the target after a post-copy one.
 */
export interface GuestReport {
  pageWrites: number;
  /** Page writes per second while the vCPUs ran, summed over vCPUs. */
  achievedPageWritesPerSec: number;
  /** How long the vCPUs ran (not paused), ms. */
  liveMs?: number;
  /** A post-copy guest's time with every vCPU blocked at once, ms (QEMU's postcopy-blocktime), where measured. */
  allBlockedMs?: number;
}

import type { ThrottleHow } from './throttle.js';
import type { ProceduralHandle } from '../memory/procedural.js';
import type { TraceWorkload } from '../trace/replay.js';

export interface GuestHost {
  /** Resolves once every vCPU runs. */
  started(): Promise<void>;
  /** Suspends the guest: resolves when no vCPU is mid-write (the barrier before the final scan). */
  pause(whileWaiting: () => void): Promise<void>;
  resume(): void;
  /** Holds every vCPU back `fraction` of its time (auto-converge, SDPS), as `how` says (throttle.ts). */
  setThrottle(fraction: number, how?: ThrottleHow): void;
  /** Page writes all vCPUs have done so far. */
  totalWrites(): number;
  /** Page writes each vCPU has done so far. */
  writesPerVcpu(): number[];
  /** Stops the vCPUs for good and reports what they did. */
  shutdown(): Promise<GuestReport>;
}

/** What a guest is built from: its vCPUs and how they write. */
export interface GuestOptions {
  vcpus: number;
  /** Page writes per second over all vCPUs. */
  pageWritesPerSec: number;
  pattern: WritePattern;
  /** Bytes changed by one write. */
  writeSizeBytes: number;
  /** After a throttle sleep, the writes due in its last catchUpMs are made up, the rest dropped. */
  catchUpMs: number;
  /** Seed of the content the writes keep (what a written zero page becomes). */
  seed: number;
  /** Seed of the write streams: the seed, or a suite repeat's own (RunConfig.writeSeed). */
  writeSeed: number;
  content: ContentMix;
  /** The procedural memory the pages are (src/memory/procedural.ts); null: they are in the slots. */
  procedural: ProceduralHandle | null;
  /** A recorded trace the vCPUs replay (src/trace/replay.ts) in place of the write streams; null: none. */
  trace: TraceWorkload | null;
}
