/**
 * A calibration's two sides: the QEMU run (a reference) and migbench on the same scenario, as the
 * fidelity benchmark maps it (scenarioOptions: the writer's measured rate, QEMU's zero pages), with
 * the errors in total time, bytes on QEMU's wire, dirty-log syncs and downtime.
 */
import { runMigration } from '../driver/migrate.js';
import { formatBytes, formatMs } from '../util/format.js';
import { newTable } from '../report/human.js';
import { referenceKind, scenarioOptions, type Reference } from './reference.js';
import type { MigrationResult } from '../result/schema.js';
import { resolveRunConfig, type RawRunOptions } from '../config/options.js';

/** One side of a comparison: QEMU's reference or migbench's run, in QEMU's terms. */
export interface CalibrationSide {
  converged: boolean;
  totalTimeMs: number;
  /** Bytes on QEMU's wire (migbench's QEMU loop counts them as QEMU does). */
  bytes: number;
  syncs: number;
  downtimeMs: number | null;
  maxThrottlePercent: number;
  /** Multifd: multifd-bytes. */
  multifdBytes?: number;
  /** Post-copy: page requests, bytes after the switch, block time (all vCPUs), STOP to RESUME, ms. */
  postcopy?: { requests: number; bytes: number; blocktimeMs: number | null; stopToResumeMs: number | null };
}

/** A reference's side. */
export function qemuSide(ref: Reference): CalibrationSide {
  const s = ref.summary;
  return {
    converged: s.converged,
    totalTimeMs: s.total_time_ms,
    bytes: s.ram_transferred,
    syncs: s.ram_dirty_sync_count,
    downtimeMs: s.converged ? s.downtime_ms : null,
    maxThrottlePercent: s.max_cpu_throttle_percentage,
    ...(referenceKind(ref) === 'multifd' ? { multifdBytes: s.ram_multifd_bytes ?? 0 } : {}),
    ...(referenceKind(ref) === 'postcopy'
      ? {
          postcopy: {
            requests: s.ram_postcopy_requests ?? 0,
            bytes: s.ram_postcopy_bytes ?? 0,
            blocktimeMs: s.postcopy_blocktime_ms ?? null,
            stopToResumeMs: s.observed_downtime_ms ?? null,
          },
        }
      : {}),
  };
}

/**
 * migbench's side: with --policy qemu, QEMU's own statistics of the run (its wire bytes, its sync
 * count); with qemu-rounds, migbench's bytes on its wire and its rounds.
 */
export function migbenchSide(r: MigrationResult): CalibrationSide {
  const converged = r.status === 'completed';
  return {
    converged,
    totalTimeMs: r.totals.totalTimeMs,
    bytes: r.qemu?.transferredBytes ?? r.totals.bytesSent,
    syncs: r.qemu?.dirtySyncCount ?? r.totals.iterations,
    // After a post-copy switch, QEMU's downtime figure (the stop to the package written), as QEMU's side has.
    downtimeMs: converged ? (r.qemu?.downtimeMs ?? r.totals.downtimeMs) : null,
    maxThrottlePercent: Math.max(0, ...r.iterations.map((i) => i.throttlePercent)),
    ...(r.qemu?.multifdBytes !== undefined ? { multifdBytes: r.qemu.multifdBytes } : {}),
    ...(r.qemu?.postcopyBytes !== undefined
      ? {
          postcopy: {
            requests: r.qemu.postcopyRequests ?? 0,
            bytes: r.qemu.postcopyBytes,
            blocktimeMs: r.qemu.postcopyBlocktimeMs ?? null,
            stopToResumeMs: r.qemu.stopToResumeMs ?? null,
          },
        }
      : {}),
  };
}

export interface Calibration {
  name: string;
  qemu: CalibrationSide;
  migbench: CalibrationSide;
  /** (migbench − QEMU) / QEMU; null where one side did not converge (its time and bytes are the timeout's). */
  errors: { totalTime: number | null; bytes: number | null; syncs: number | null; downtime: number | null };
  options: Record<string, unknown>;
}

const relative = (ours: number, theirs: number): number | null => (theirs === 0 ? null : (ours - theirs) / theirs);

export async function sideBySide(ref: Reference, accel: 'kvm' | 'tcg'): Promise<Calibration> {
  // Under TCG the guest's own measured pace already holds what tracking costs it; under KVM, KVM's model.
  const options: RawRunOptions = { ...scenarioOptions(ref), dirtyCost: accel === 'tcg' ? 'none' : 'kvm' };
  const r = await runMigration(resolveRunConfig(options));
  const qemu = qemuSide(ref);
  const migbench = migbenchSide(r);
  const both = qemu.converged && migbench.converged;
  return {
    name: ref.name,
    qemu,
    migbench,
    errors: {
      totalTime: both ? relative(migbench.totalTimeMs, qemu.totalTimeMs) : null,
      bytes: both ? relative(migbench.bytes, qemu.bytes) : null,
      syncs: both ? relative(migbench.syncs, qemu.syncs) : null,
      downtime:
        both && qemu.downtimeMs !== null && migbench.downtimeMs !== null
          ? relative(migbench.downtimeMs, qemu.downtimeMs)
          : null,
    },
    options,
  };
}

export function formatCalibration(c: Calibration): string {
  const pct = (e: number | null): string => (e === null ? '–' : `${e >= 0 ? '+' : ''}${(e * 100).toFixed(1)} %`);
  const t = newTable(['Measure', 'QEMU', 'migbench', 'Error'], ['left', 'right', 'right', 'right']);
  const side = (x: CalibrationSide, f: (s: CalibrationSide) => string): string => f(x);
  const rows: [string, (s: CalibrationSide) => string, number | null][] = [
    ['converged', (s) => (s.converged ? 'yes' : 'no'), null],
    ['total time', (s) => formatMs(s.totalTimeMs), c.errors.totalTime],
    ["bytes on QEMU's wire", (s) => formatBytes(s.bytes), c.errors.bytes],
    ['dirty-log syncs', (s) => String(s.syncs), c.errors.syncs],
    ['downtime', (s) => (s.downtimeMs === null ? '–' : formatMs(s.downtimeMs)), c.errors.downtime],
    ['highest throttle', (s) => `${s.maxThrottlePercent} %`, null],
  ];
  for (const [name, f, e] of rows) t.push([name, side(c.qemu, f), side(c.migbench, f), pct(e)]);
  const verdict =
    c.qemu.converged === c.migbench.converged
      ? ''
      : `\nThe two disagree on convergence: QEMU ${c.qemu.converged ? 'converged' : 'did not'}, migbench ${c.migbench.converged ? 'did' : 'did not'}.`;
  return `${c.name}\n${t.toString(100)}${verdict}`;
}
