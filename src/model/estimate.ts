/**
 * What a run will cost before it runs (`run --dry-run`, `suite --dry-run`): the memory it needs
 * (admission's reckoning) and an estimate of its wall time. The migration's own time comes from the
 * analytic model (capped at the timeout when the model says it will not converge); the wall time
 * adds the set-up of the guests' memory and, on the virtual clock, the emulator's own speed. Those
 * two rates were measured on a 2-core AMD EPYC (Node 20): a faster host finishes sooner. An
 * estimate, said as one: a policy from a file, an aid or a trace move it in ways the model does not
 * know.
 */
import type { RunConfig } from '../config/types.js';
import { memoryNeed, type MemoryNeed } from '../config/admission.js';
import { predictPrecopy } from './precopy.js';
import { formatBytes, formatMs } from '../util/format.js';

/** Set-up of materialized guest memory (content written, faulted in, on two threads): ms per GiB held (bench:e2e: 6.4-10 s for 8.1 GiB). */
const SETUP_MS_PER_GIB = 1000;
/**
 * Pages the virtual clock moves per wall second, materialized pages copied or procedural ones by
 * state, and wall microseconds per page write it emulates (its dirty log and KVM's costs included):
 * fitted to bench:e2e's virtual-clock, size-64gib and size-1tib cases.
 */
const VIRTUAL_PAGES_PER_SEC = { materialized: 3.6e6, procedural: 11e6 };
const VIRTUAL_US_PER_WRITE = 0.78;
/** Node's start, the kernels' compilation and the worker pools, ms. */
const START_MS = 400;

export interface RunEstimate {
  need: MemoryNeed;
  /** The migration's time on its own clock, ms; null when the model cannot say (a policy from a file). */
  migrationMs: number | null;
  /** Whether the model expects it to converge; null when it cannot say. */
  converges: boolean | null;
  /** Wall time of the whole run, set-up included, ms; null when the migration's time is unknown. */
  wallMs: number | null;
}

export function estimateRun(config: RunConfig): RunEstimate {
  const need = memoryNeed(config);
  let migrationMs: number | null = null;
  let converges: boolean | null = null;
  let bytesSent = 0;
  const timeout = config.timeoutMs ?? Infinity;
  if (!config.userPolicy && !config.userLoop) {
    try {
      const p = predictPrecopy(config);
      converges = p.converges && p.totalTimeMs <= timeout;
      // Not converging, a run sends at the link's (or the limit's) rate until its timeout.
      migrationMs = converges || !Number.isFinite(timeout) ? p.totalTimeMs : timeout;
      const rateBitsPerSec = Math.min(config.linkBitsPerSec ?? Infinity, config.maxBandwidthBitsPerSec ?? Infinity);
      bytesSent =
        converges || !Number.isFinite(rateBitsPerSec) ? p.bytesSent : (rateBitsPerSec / 8 / 1000) * migrationMs;
    } catch {
      // An option the model does not take: no estimate.
    }
  }
  if (migrationMs === null) return { need, migrationMs, converges, wallMs: null };
  const setupMs =
    config.memory === 'materialized' ? ((need.sourceBytes + need.targetBytes) / 2 ** 30) * SETUP_MS_PER_GIB : 0;
  const writes = (config.pageWritesPerSec * migrationMs) / 1000;
  const pagesPerSec = VIRTUAL_PAGES_PER_SEC[config.memory === 'procedural' ? 'procedural' : 'materialized'];
  const runMs =
    config.clock === 'virtual'
      ? (bytesSent / config.pageSizeBytes / pagesPerSec) * 1000 + (writes * VIRTUAL_US_PER_WRITE) / 1000
      : migrationMs;
  return { need, migrationMs, converges, wallMs: START_MS + setupMs + runMs };
}

/** The estimate as rows of a label and a value (`run --dry-run`). */
export function formatEstimate(
  config: RunConfig,
  e: RunEstimate,
  refusal: string | null,
  runs = 1,
): [string, string][] {
  const n = e.need;
  const parts = [`source ${formatBytes(n.sourceBytes)}`];
  if (n.targetBytes > 0) parts.push(`target ${formatBytes(n.targetBytes)}`);
  if (n.scratchBytes > 0) parts.push(`xbzrle caches ${formatBytes(n.scratchBytes)}`);
  parts.push(`runtime ${formatBytes(n.runtimeBytes)}`);
  const rows: [string, string][] = [
    ['dry run', 'nothing was run'],
    [
      'memory',
      `about ${formatBytes(n.totalBytes)} (${parts.join(', ')}): ${refusal === null ? 'fits in this machine now' : `WILL NOT RUN: ${refusal}`}`,
    ],
  ];
  if (e.migrationMs === null) {
    rows.push(['time', 'no estimate: the analytic model does not know a policy or loop from a file']);
    return rows;
  }
  const clock = config.clock === 'virtual' ? 'simulated time' : 'the real clock';
  rows.push([
    'migration',
    `about ${formatMs(e.migrationMs)} on ${clock}: the analytic model expects it ${e.converges === true ? 'to converge' : `not to converge${config.timeoutMs === null ? '' : `, so it runs to its timeout of ${formatMs(config.timeoutMs)}`}`}`,
  ]);
  if (e.wallMs !== null)
    rows.push([
      'wall time',
      `about ${formatMs(e.wallMs * runs)}${runs > 1 ? ` for ${runs} runs` : ''}, set-up included (rates of a 2-core AMD EPYC)`,
    ]);
  return rows;
}
