/** An evacuation's result, from what each VM's migration came to and the NIC's usage record. */
import type { Link } from '../link/link.js';
import { describeEnvironment } from '../result/environment.js';
import { copiedFields, derive, type Derivation } from '../util/derive.js';
import type { EvacuationConfig } from './config.js';
import {
  EVACUATION_SCHEMA_VERSION,
  type EvacuationResult,
  type EvacuationResultConfig,
  type NicUsage,
  type VmOutcome,
} from './result.js';

/** Points of the NIC's series in a result: buckets are merged down to at most this many. */
const SERIES_POINTS = 400;

/** The evacuation's configuration as a result records it (src/util/derive.ts); its VMs are in the result's own list. */
const FIELDS: Derivation<EvacuationConfig, EvacuationResultConfig> = {
  clock: 'copy',
  nicBitsPerSec: 'copy',
  latencyMs: 'copy',
  backgroundBitsPerSec: 'copy',
  maxConcurrent: 'copy',
  maxPerTarget: 'copy',
  targets: (ev) => ev.targets.map((t) => t.name),
  order: 'copy',
  bandwidthPerMigrationBitsPerSec: 'copy',
  completionTimeoutPerGibMs: 'copy',
  onCompletionTimeout: 'copy',
  progressTimeoutMs: 'copy',
  onProgressTimeout: 'copy',
  seed: 'copy',
};

/** EvacuationConfig fields its result leaves out, with where they are instead. */
export const EVACUATION_LEFT_OUT: Partial<Record<keyof EvacuationConfig, string>> = { vms: "the result's vms" };

/** The fields of an evacuation result's config, each an EvacuationConfig field's own name. */
export const EVACUATION_RECORDED_FIELDS = Object.keys(FIELDS);

/** Of those, the ones copied as they are. */
export const EVACUATION_COPIED_FIELDS = copiedFields(FIELDS);

export function evacuationResultConfig(ev: EvacuationConfig): EvacuationResultConfig {
  return derive(ev, FIELDS, undefined);
}

export interface EvacuationRecord {
  ev: EvacuationConfig;
  startedAt: string;
  wallTimeMs: number;
  /** In the order the VMs were listed; their times on the evacuation's clock (made relative to the first start here). */
  outcomes: VmOutcome[];
  link: Link;
  migrationBits: number | null;
  peakConcurrent: number;
}

export function evacuationResult(r: EvacuationRecord): EvacuationResult {
  const { ev, outcomes } = r;
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
    startedAt: r.startedAt,
    status: migrated.length === outcomes.length ? 'completed' : migrated.length === 0 ? 'failed' : 'partial',
    config: evacuationResultConfig(ev),
    environment: describeEnvironment(),
    host: {
      evacuationTimeMs,
      wallTimeMs: r.wallTimeMs,
      migrated: migrated.length,
      leftBehind: outcomes.length - migrated.length,
      downtimeSumMs: downtimes.reduce((n, d) => n + d.ms, 0),
      downtimeMaxMs: worst?.ms ?? 0,
      downtimeMaxVm: worst?.vm ?? null,
      bytesSent,
      peakConcurrent: r.peakConcurrent,
    },
    vms: outcomes,
    nic: nicUsage(r.link, ev, firstStart, evacuationTimeMs, bytesSent, r.migrationBits),
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
