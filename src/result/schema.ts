/**
 * The result of one migration run: plain data with a versioned schema. Only src/report/ turns it
 * into text. Times are milliseconds from the start of the run (the `connect` stage) on the run's
 * clock; sizes are bytes; rates are per second.
 */
import type { RunConfig } from '../config/types.js';
import type { ModelPrediction } from '../model/precopy.js';
import type { PostcopyRecord } from '../driver/postcopy.js';
import type { CodecRoundStats } from '../codec/summary.js';

export const RESULT_SCHEMA_VERSION = 1;

export type StageName = 'connect' | 'config' | 'precopy' | 'stop-and-copy' | 'resume' | 'announce' | 'postcopy';
/** The six stages of every migration; a post-copy run adds `postcopy` after them. */
export const STAGE_NAMES: readonly StageName[] = ['connect', 'config', 'precopy', 'stop-and-copy', 'resume', 'announce'];

export interface StageRecord {
  name: StageName;
  startMs: number;
  durationMs: number;
}

/** One copy round. Round 0 is the first full copy; the last round is the stop-and-copy round. */
export interface IterationRecord {
  index: number;
  /** `precopy` rounds run with the guest live; the `stop-and-copy` round with it suspended. */
  phase: 'precopy' | 'stop-and-copy';
  startMs: number;
  /** Pages found dirty when the round's scan ran (all pages for round 0). */
  dirtyPages: number;
  pagesSent: number;
  /** Bytes put on the wire in this round, frame headers and descriptors included. */
  bytesSent: number;
  durationMs: number;
  /** CPU time spent fetching the round's dirty pages (scan, or ring harvest), measured in real
   * milliseconds on either clock: it is what dirty-tracking strategies are compared on. */
  scanMs: number;
  /** Distinct pages dirtied per second during the round (dirty pages found after it / its duration). */
  dirtyPagesPerSec: number;
  /** Link bits per second achieved in this round. */
  achievedLinkBitsPerSec: number;
  /** What the downtime would be if the guest stopped now: remaining dirty bytes / bandwidth. */
  expectedDowntimeMs: number;
  /** Pages sent in this round whose bytes had not changed since they were last sent. */
  pagesResentUnchanged: number;
  /** Share of their time the vCPUs were held back during the round (auto-converge, SDPS), percent. */
  throttlePercent: number;
  /** The send rate limit during the round (Xen's adaptive rate), bits/s; null: the link's rate. */
  rateLimitBitsPerSec: number | null;
  /** The downtime limit the policy weighed after the round (it moves with --downtime-ramp). */
  downtimeLimitMs: number;
  /** Page writes per second the guest achieved during the round: its slowdown shows here. */
  guestPageWritesPerSec: number;
  /** With --codec: what encoding did in this round. */
  codec?: CodecRoundStats;
  /** --dirty-log ring: times a vCPU found its ring full and stalled, during the round. */
  ringFullStalls?: number;
  /** --dirty-log ring: milliseconds vCPUs spent stalled on full rings, summed, during the round. */
  ringStallMs?: number;
}

/** The guest's pace around the migration (guestperf's measure): slowdown from throttling and faults shows. */
export interface GuestPerf {
  beforePageWritesPerSec: number;
  /** Over the live pre-copy rounds. */
  duringPageWritesPerSec: number;
  /** On the target during post-copy; null without post-copy. */
  afterPageWritesPerSec: number | null;
  /** Milliseconds to update a GiB of guest memory at each pace (a write updates a page). */
  beforeMsPerGiB: number | null;
  duringMsPerGiB: number | null;
  afterMsPerGiB: number | null;
  /** during / before. */
  slowdownDuring: number | null;
}

export interface Totals {
  totalTimeMs: number;
  downtimeMs: number;
  bytesSent: number;
  pagesSent: number;
  /** Pre-copy rounds plus the stop-and-copy round. */
  iterations: number;
  achievedLinkBitsPerSec: number;
  /** Page writes per second the guest's vCPUs actually performed while live. */
  achievedDirtyPagesPerSec: number;
  /** Total page writes the vCPUs performed. */
  guestPageWrites: number;
  /** bytesSent / guest RAM. */
  ramMultiplesSent: number;
  /** Wall-clock milliseconds the migration took to run (equal to totalTimeMs on the real clock). */
  wallTimeMs: number;
  /** Set-up before the clock started (absent in results of migbench before 0.2). */
  setup?: SetupRecord;
  /** With --codec: what encoding did over the whole run. */
  codec?: CodecRoundStats;
  guestPerf?: GuestPerf;
}

/** The guest memories' set-up, before the clock starts (src/memory/setup.ts). */
export interface SetupRecord {
  /** Wall-clock ms from the start of the run to the clock's start: memories, content, fault-in, the guest's start. */
  wallMs: number;
  /** Wall-clock ms of writing the memories (content, zeroing, fault-in) on `threads` threads. */
  memoryWallMs: number;
  threads: number;
  /** Slot memories allocated new (faulted in) and reused from an earlier run of this process (rewritten). */
  freshSlots: number;
  reusedSlots: number;
}

export interface Environment {
  node: string;
  platform: string;
  arch: string;
  cpu: string;
  cores: number;
  totalMemoryBytes: number;
  wasmSimd: boolean;
}

export interface MigrationResult {
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  tool: 'migbench';
  startedAt: string;
  status: 'completed' | 'failed';
  /** Why the run failed; absent when completed. */
  reason?: string;
  /** After a failure: whether the guest still runs on the source. */
  sourceRunning: boolean;
  /** Target memory equals source memory at suspension, byte for byte. */
  verified: boolean;
  /** What ended pre-copy, in the policy's words (e.g. "pending 1.2 MiB fits 300 ms at 1.2 GB/s"). */
  switchoverReason?: string;
  config: RunConfig;
  environment: Environment;
  totals: Totals;
  stages: StageRecord[];
  iterations: IterationRecord[];
  /** Post-copy runs: requests, blocked time, when the last page arrived, the guest's writes on the target. */
  postcopy?: PostcopyRecord & { guestPageWrites: number };
  /** The analytic model's prediction for the same configuration (`run --model`). */
  model?: ModelPrediction;
}
