/**
 * The result of an evacuation: plain data with a versioned schema, like a run's (src/result/schema.ts),
 * whose MigrationResult each VM's entry holds. Times are ms on the evacuation's clock, from the
 * first migration's start; sizes are bytes; rates bits/s.
 */
import type { Environment, MigrationResult } from '../result/schema.js';

export const EVACUATION_SCHEMA_VERSION = 1;

export interface EvacuationResult {
  schemaVersion: typeof EVACUATION_SCHEMA_VERSION;
  tool: 'migbench';
  kind: 'evacuation';
  startedAt: string;
  /** completed: every VM migrated and verified; partial: some left behind; failed: none migrated. */
  status: 'completed' | 'partial' | 'failed';
  config: EvacuationResultConfig;
  environment: Environment;
  host: HostTotals;
  /** In the order the VMs were listed. */
  vms: VmOutcome[];
  /** The NIC's throughput over time, by VM. */
  nic: NicUsage;
}

export interface EvacuationResultConfig {
  clock: 'real' | 'virtual';
  nicBitsPerSec: number | null;
  latencyMs: number;
  backgroundBitsPerSec: number;
  maxConcurrent: number;
  maxPerTarget: number | null;
  targets: string[];
  order: string;
  bandwidthPerMigrationBitsPerSec: number | null;
  completionTimeoutPerGibMs: number | null;
  onCompletionTimeout: string;
  progressTimeoutMs: number | null;
  onProgressTimeout: string;
  seed: number;
}

export interface VmOutcome {
  name: string;
  /** Place in the list as given (0-based) and in the order they started (0-based; null: never started). */
  index: number;
  startOrder: number | null;
  target: string | null;
  ramBytes: number;
  /** Bytes per second the guest writes (its dirty rate). */
  dirtyBytesPerSec: number;
  /** The run options given for it. */
  options: Record<string, string>;
  status: 'migrated' | 'left-behind';
  /** Why it was left behind. */
  reason?: string;
  /** Targets it could not connect to before the one it went to (or gave up on), each with why. */
  tried?: string[];
  /** On the evacuation's clock: when its migration started, and when it ended (announced, or gave up). */
  startMs: number | null;
  endMs: number | null;
  /** The migration's own result (absent only for a VM that never started). */
  result?: MigrationResult;
}

export interface HostTotals {
  /** From the first migration's start to the last migrated VM's announce, ms. */
  evacuationTimeMs: number;
  /** Real time the whole evacuation took, set-ups included, ms. */
  wallTimeMs: number;
  migrated: number;
  leftBehind: number;
  downtimeSumMs: number;
  downtimeMaxMs: number;
  /** The VM with the longest downtime. */
  downtimeMaxVm: string | null;
  bytesSent: number;
  /** Most migrations running at once. */
  peakConcurrent: number;
}

export interface NicUsage {
  /** Migrations' share of the NIC (its rate less the background). */
  availableBitsPerSec: number | null;
  bucketMs: number;
  /** Bits per second each VM's migration put on the NIC, per bucket from time 0. */
  series: { vm: string; bitsPerSec: number[] }[];
  /** Highest bucket, all migrations summed, bits/s. */
  peakBitsPerSec: number;
  /** Migration bytes over the evacuation time, bits/s. */
  meanBitsPerSec: number;
  /** Mean migration throughput over the evacuation time / what migrations could use. */
  utilisation: number | null;
}
