/**
 * The measures a suite summarises and a comparison can plot, by the name suite files use. Each
 * reads a number from a MigrationResult, or undefined when the result does not carry it.
 */
import type { MigrationResult } from '../result/schema.js';
import { hostCostMs } from '../dirtylog/cost-meter.js';

export interface Metric {
  name: string;
  /** Axis and column title, unit included. */
  label: string;
  /** CSV column stem, unit included (`total_time_ms`). */
  column: string;
  /** Charts and markdown show `value(r) * displayScale` in the label's unit. */
  displayScale: number;
  value(r: MigrationResult): number | undefined;
}

const MIB = 1024 * 1024;

const sumOver = (
  r: MigrationResult,
  f: (i: MigrationResult['iterations'][number]) => number | undefined,
): number | undefined => {
  let sum = 0;
  let seen = false;
  for (const it of r.iterations) {
    const v = f(it);
    if (v !== undefined) {
      sum += v;
      seen = true;
    }
  }
  return seen ? sum : undefined;
};

export const METRICS: readonly Metric[] = [
  {
    name: 'total-time',
    label: 'total time (ms)',
    column: 'total_time_ms',
    displayScale: 1,
    value: (r) => r.totals.totalTimeMs,
  },
  {
    name: 'downtime',
    label: 'downtime (ms)',
    column: 'downtime_ms',
    displayScale: 1,
    value: (r) => r.totals.downtimeMs,
  },
  {
    name: 'bytes-sent',
    label: 'bytes sent (MiB)',
    column: 'bytes_sent_bytes',
    displayScale: 1 / MIB,
    value: (r) => r.totals.bytesSent,
  },
  { name: 'rounds', label: 'rounds', column: 'rounds', displayScale: 1, value: (r) => r.totals.iterations },
  { name: 'pages-sent', label: 'pages sent', column: 'pages_sent', displayScale: 1, value: (r) => r.totals.pagesSent },
  {
    name: 'ram-multiples',
    label: 'bytes sent / RAM',
    column: 'ram_multiples_sent',
    displayScale: 1,
    value: (r) => r.totals.ramMultiplesSent,
  },
  {
    name: 'scan-time',
    label: 'scan time (ms)',
    column: 'scan_ms',
    displayScale: 1,
    value: (r) => sumOver(r, (i) => i.scanMs),
  },
  {
    name: 'link-rate',
    label: 'achieved link rate (Gbit/s)',
    column: 'achieved_link_bits_per_sec',
    displayScale: 1e-9,
    value: (r) => r.totals.achievedLinkBitsPerSec,
  },
  {
    name: 'dirty-rate',
    label: 'achieved dirty rate (page writes/s)',
    column: 'achieved_dirty_pages_per_sec',
    displayScale: 1,
    value: (r) => r.totals.achievedDirtyPagesPerSec,
  },
  {
    name: 'guest-page-writes',
    label: 'guest page writes',
    column: 'guest_page_writes',
    displayScale: 1,
    value: (r) => r.totals.guestPageWrites,
  },
  {
    name: 'max-throttle',
    label: 'highest throttle (%)',
    column: 'max_throttle_percent',
    displayScale: 1,
    value: (r) =>
      r.iterations.some((i) => i.throttlePercent !== undefined)
        ? Math.max(0, ...r.iterations.map((i) => i.throttlePercent ?? 0))
        : undefined,
  },
  {
    name: 'sync-time',
    label: 'host dirty-tracking time (ms)',
    column: 'host_dirty_tracking_ms',
    displayScale: 1,
    value: (r) => (r.totals.dirtyCost ? hostCostMs(r.totals.dirtyCost) : undefined),
  },
  {
    name: 'guest-slowdown',
    label: 'guest slowdown during pre-copy (%)',
    column: 'guest_slowdown_percent',
    displayScale: 1,
    value: (r) =>
      r.totals.guestPerf?.slowdownDuring == null ? undefined : (1 - r.totals.guestPerf.slowdownDuring) * 100,
  },
  {
    name: 'ring-stalls',
    label: 'dirty-ring full stalls',
    column: 'ring_full_stalls',
    displayScale: 1,
    value: (r) => sumOver(r, (i) => i.ringFullStalls),
  },
  {
    name: 'wall-time',
    label: 'wall time (ms)',
    column: 'wall_time_ms',
    displayScale: 1,
    value: (r) => r.totals.wallTimeMs,
  },
];

/** The four every summary shows. */
export const SUMMARY_METRICS: readonly string[] = ['total-time', 'downtime', 'bytes-sent', 'rounds'];

/** Accepts `scan-time` and `scanTime`. */
export function findMetric(name: string): Metric | undefined {
  const kebab = name.trim().replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return METRICS.find((m) => m.name === kebab);
}

export function metricByName(name: string): Metric {
  const m = findMetric(name);
  if (m === undefined) throw new Error(`unknown metric ${JSON.stringify(name)}`);
  return m;
}
