/**
 * `--reduce`: a suite shrunk to a smoke test. Each matrix block keeps two configurations (every
 * option at its first value, and every option at its last), once; guests shrink to 16 MiB; link,
 * dirty and adaptive rates shrink by one factor, which keeps the dirty rate / link rate ratio and
 * the share of pages dirtied per round, so a run does what the full one does, about 8 times faster.
 * A recorded workload's guest (--workload trace:FILE) keeps its size and rates: its timeout shrinks.
 */
import type { RunConfig } from '../config/types.js';
import type { MatrixBlock, OptionTexts } from './schema.js';

export const REDUCED_RAM_BYTES = 16 * 1024 * 1024;
/** How much shorter a reduced run is than the full one (when the guest shrinks at least that much). */
export const REDUCED_TIME_FACTOR = 8;
/** A reduced run never takes longer than this, whatever the suite's --timeout. */
export const REDUCED_MAX_TIMEOUT_MS = 15_000;
/** The smallest guest resolveRunConfig accepts, in pages. */
const MIN_PAGES = 16;

/** Each block becomes its first-values and its last-values configuration. */
export function reduceMatrix(blocks: readonly MatrixBlock[]): MatrixBlock[] {
  return blocks.flatMap((b) => [
    { line: b.line, axes: b.axes.map((a) => ({ key: a.key, values: [a.values[0]] })) },
    { line: b.line, axes: b.axes.map((a) => ({ key: a.key, values: [a.values[a.values.length - 1]] })) },
  ]);
}

/** The options of the reduced run, given the full run's options and resolved configuration. */
export function reduceOptions(options: OptionTexts, config: RunConfig): OptionTexts {
  // A trace's guest keeps its RAM and its recorded writes: only the timeout shrinks.
  if (config.trace) {
    const ms = config.timeoutMs === null ? REDUCED_MAX_TIMEOUT_MS : Math.min(REDUCED_MAX_TIMEOUT_MS, config.timeoutMs);
    return { ...options, timeout: `${Math.ceil(ms)}ms` };
  }
  const targetRamBytes = Math.max(REDUCED_RAM_BYTES, MIN_PAGES * config.pageSizeBytes);
  const ramFactor = Math.min(1, targetRamBytes / config.ramBytes);
  // Rates shrink less than RAM, so that each round takes 1/REDUCED_TIME_FACTOR of its full time.
  const rateFactor = Math.min(1, ramFactor * REDUCED_TIME_FACTOR);
  const timeFactor = ramFactor / rateFactor;
  const out: OptionTexts = { ...options, ram: String(Math.min(config.ramBytes, targetRamBytes)) };
  if (config.linkBitsPerSec !== null) out.link = `${Math.max(1, Math.round(config.linkBitsPerSec * rateFactor))}bit/s`;
  if (config.pageWritesPerSec > 0)
    out.dirtyRate = `${Math.max(1, Math.round(config.pageWritesPerSec * rateFactor))}pages/s`;
  if (config.adaptiveMaxBitsPerSec !== null) {
    out.adaptiveMax = `${Math.max(1, Math.round(config.adaptiveMaxBitsPerSec * rateFactor))}bit/s`;
  }
  const timeoutMs =
    config.timeoutMs === null
      ? REDUCED_MAX_TIMEOUT_MS
      : Math.min(REDUCED_MAX_TIMEOUT_MS, config.timeoutMs * timeFactor);
  out.timeout = `${Math.ceil(timeoutMs)}ms`;
  return out;
}
