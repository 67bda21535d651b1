/** A run's result, assembled from what the stages recorded. */
import { traceFacts, writesDue } from '../trace/options.js';
import type { TraceWorkload } from '../trace/replay.js';
import { addRoundCost, noRoundCost } from '../dirtylog/cost-meter.js';
import type { RunConfig } from '../config/types.js';
import type {
  CodecSummary,
  GuestPerf,
  IntervalRecord,
  IterationRecord,
  MigrationResult,
  PostcopyResult,
  SetupRecord,
  StageRecord,
  QemuStats,
  LimitEvent,
} from '../result/schema.js';
import { RESULT_SCHEMA_VERSION } from '../result/schema.js';
import { describeEnvironment } from '../result/environment.js';
import { resultConfig, type StrategyNames } from '../config/result-config.js';
import type { GuestReport } from '../guest/host.js';

export interface RunRecord {
  config: RunConfig;
  startedAt: string;
  /** Why the run failed; undefined when it completed. */
  failure: string | undefined;
  /** Whether the guest ran on the target (post-copy): past that, it cannot fall back to the source. */
  resumed: boolean;
  verified: boolean;
  switchoverReason: string | undefined;
  totalTimeMs: number;
  downtimeMs: number;
  bytesSent: number;
  wallTimeMs: number;
  setup: SetupRecord;
  codec: CodecSummary | undefined;
  beforePageWritesPerSec: number;
  guest: GuestReport;
  stages: StageRecord[];
  iterations: IterationRecord[];
  series: IntervalRecord[];
  postcopy: PostcopyResult | undefined;
  /** QEMU's statistics, from a loop that models QEMU's. */
  qemu?: QemuStats;
  /** What the run could not do as asked, without failing (a --fault that never fired). */
  warnings?: string[];
  /** The time limits that fired, with what they did. */
  limits?: LimitEvent[];
  /** The names the user's strategies gave themselves. */
  names: StrategyNames;
}

export function buildResult(r: RunRecord): MigrationResult {
  const { config, iterations } = r;
  const sentBytes = iterations.reduce((n, it) => n + it.bytesSent, 0);
  const sentMs = iterations.reduce((n, it) => n + it.durationMs, 0);
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: 'migbench',
    startedAt: r.startedAt,
    status: r.failure === undefined ? 'completed' : 'failed',
    ...(r.failure === undefined ? {} : { reason: r.failure }),
    sourceRunning: r.failure !== undefined && !r.resumed,
    verified: r.verified,
    ...(r.switchoverReason !== undefined && r.failure === undefined ? { switchoverReason: r.switchoverReason } : {}),
    config: resultConfig(config, r.names),
    environment: describeEnvironment(),
    totals: {
      totalTimeMs: r.totalTimeMs,
      downtimeMs: r.downtimeMs,
      bytesSent: r.bytesSent,
      pagesSent: iterations.reduce((n, it) => n + it.pagesSent, 0),
      iterations: iterations.length,
      achievedLinkBitsPerSec: sentMs > 0 ? (sentBytes * 8000) / sentMs : 0,
      achievedDirtyPagesPerSec: r.guest.achievedPageWritesPerSec,
      guestPageWrites: r.guest.pageWrites,
      wallTimeMs: r.wallTimeMs,
      ramMultiplesSent: r.bytesSent / config.ramBytes,
      setup: r.setup,
      ...(r.codec ? { codec: r.codec } : {}),
      ...(iterations.some((i) => i.dirtyCost)
        ? { dirtyCost: iterations.reduce((t, i) => (i.dirtyCost ? addRoundCost(t, i.dirtyCost) : t), noRoundCost()) }
        : {}),
      guestPerf: guestPerf(
        config.pageSizeBytes,
        r.beforePageWritesPerSec,
        iterations,
        r.postcopy?.guestPageWritesPerSec ?? null,
      ),
    },
    stages: r.stages,
    iterations,
    ...(r.series.length > 0 ? { series: r.series } : {}),
    ...(r.postcopy ? { postcopy: r.postcopy } : {}),
    ...(r.qemu ? { qemu: r.qemu } : {}),
    ...(r.warnings && r.warnings.length > 0 ? { warnings: [...r.warnings] } : {}),
    ...(r.limits && r.limits.length > 0 ? { limits: r.limits } : {}),
    ...(config.trace ? { workload: tracePace(config.trace, r.guest) } : {}),
  };
}

/** How a trace's replay kept its pace: the writes due in the time the guest ran, and those done. */
function tracePace(trace: TraceWorkload, guest: GuestReport): NonNullable<MigrationResult['workload']> {
  const recordedWrites = writesDue(traceFacts(trace.file), (guest.liveMs ?? 0) * trace.speed, trace.loop);
  return {
    kind: 'trace',
    recordedWrites,
    writes: guest.pageWrites,
    pacePercent: recordedWrites > 0 ? (100 * guest.pageWrites) / recordedWrites : 100,
  };
}

/**
 * The guest's pace before, during (live pre-copy rounds) and after (post-copy, on the target) the
 * migration, as page writes per second and as guestperf's "ms per GiB": how long the guest takes to
 * update a GiB of its memory at that pace (each write updates one page).
 */
function guestPerf(
  pageSizeBytes: number,
  before: number,
  iterations: readonly IterationRecord[],
  after: number | null,
): GuestPerf {
  const live = iterations.filter((i) => i.phase === 'precopy');
  const liveMs = live.reduce((n, i) => n + i.durationMs, 0);
  const during = liveMs > 0 ? live.reduce((n, i) => n + i.guestPageWritesPerSec * i.durationMs, 0) / liveMs : before;
  const msPerGiB = (rate: number | null): number | null =>
    rate && rate > 0 ? (1000 * 2 ** 30) / (rate * pageSizeBytes) : null;
  return {
    beforePageWritesPerSec: before,
    duringPageWritesPerSec: during,
    afterPageWritesPerSec: after,
    beforeMsPerGiB: msPerGiB(before),
    duringMsPerGiB: msPerGiB(during),
    afterMsPerGiB: msPerGiB(after),
    slowdownDuring: before > 0 ? during / before : null,
  };
}
