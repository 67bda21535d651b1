/**
 * What a migration run needs in memory (src/memory/admission.ts says what this machine can give), and
 * the refusal that says both, before a byte is allocated:
 *   source  = sum over slots of memoryBytes (pages + dirty bitmaps + scan list + page hashes + touched map + frame buffers)
 *   target  = the same for the target's layout, when the target is in this process (no --target)
 *   xbzrle  = cache region (the cache rounded to pages, plus one) per encoding lane, with --codec xbzrle
 *   runtime = RUNTIME_ALLOWANCE_BYTES
 */
import type { RunConfig } from './types.js';
import { XbzrleCache } from '../codec/xbzrle-cache.js';
import { proceduralBytes } from '../memory/procedural.js';
import {
  AdmissionError,
  RUNTIME_ALLOWANCE_BYTES,
  layoutBytes,
  memoryAvailable,
  runLayouts,
} from '../memory/admission.js';

export interface MemoryNeed {
  sourceBytes: number;
  /** 0 when the target is on another host. */
  targetBytes: number;
  scratchBytes: number;
  runtimeBytes: number;
  totalBytes: number;
}

/** Writes the guest may make in a run: its rate over the run's bound (ten minutes at most, for memory reckoning). */
export function expectedWrites(config: RunConfig, boundMs = Math.min(config.timeoutMs ?? Infinity, 600_000)): number {
  // A post-copy guest writes on the target too, into the same log.
  return (config.pageWritesPerSec * boundMs * (config.postcopy ? 2 : 1)) / 1000;
}

/** Writes a procedural memory's log is reserved for: the rate over the whole timeout, and a margin. */
export function logWritesFor(config: RunConfig): number {
  return Math.ceil(expectedWrites(config, config.timeoutMs ?? Infinity) * 1.25) + 1_000_000;
}

/**
 * What a procedural run's slots hold resident: bitmaps, lists and scratch, and frame buffers as
 * far as frames fill them (page-reference frames, the virtual clock's raw frames, fill a few KiB).
 */
function proceduralSlotBytes(config: RunConfig, slots: ReturnType<typeof runLayouts>['source']['slots']): number {
  const byReference = config.clock === 'virtual' && config.codecs.length === 0 && !config.chargeCpu && !config.postcopy;
  return slots.reduce((n, l) => {
    const frames = l.frameBuffers * l.frameBytes;
    const used = byReference ? l.frameBuffers * Math.min(l.frameBytes, 2 * l.pagesPerFrame * 4 + 4096) : frames;
    return n + l.endBytes - l.startBytes - frames + used;
  }, 0);
}

export function memoryNeed(config: RunConfig): MemoryNeed {
  const { source, target } = runLayouts(config);
  const procedural = config.memory === 'procedural';
  const pages = config.ramBytes / config.pageSizeBytes;
  // A procedural memory: a state per page on each side, and the write log as far as writes fill it.
  const sourceBytes = procedural
    ? proceduralSlotBytes(config, source.slots) +
      proceduralBytes({ pageCount: pages, writeSizeBytes: config.writeSizeBytes }, expectedWrites(config)) -
      pages * 4
    : layoutBytes(source);
  const local = config.target === null;
  const targetBytes = !local
    ? 0
    : procedural
      ? proceduralSlotBytes(config, target.slots) + pages * 4
      : layoutBytes(target);
  const lanes = Math.max(1, config.compressThreads);
  const scratchBytes = config.codecs.includes('xbzrle')
    ? lanes * XbzrleCache.regionBytes(config.xbzrleCacheBytes, config.pageSizeBytes)
    : 0;
  const runtimeBytes = RUNTIME_ALLOWANCE_BYTES;
  return {
    sourceBytes,
    targetBytes,
    scratchBytes,
    runtimeBytes,
    totalBytes: sourceBytes + targetBytes + scratchBytes + runtimeBytes,
  };
}

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/** "--ram 20GiB" as the user would write it. */
function ramOption(ramBytes: number): string {
  const units: Array<[string, number]> = [
    ['TiB', 2 ** 40],
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ];
  for (const [unit, size] of units) if (ramBytes % size === 0) return `--ram ${ramBytes / size}${unit}`;
  return `--ram ${ramBytes}`;
}

/** The one-line refusal, or null when the run fits. */
export function admissionRefusal(
  config: RunConfig,
  need = memoryNeed(config),
  available = memoryAvailable(),
): string | null {
  if (need.totalBytes <= available.bytes) return null;
  const parts = [need.targetBytes > 0 ? 'source and target memory' : 'source memory'];
  if (need.scratchBytes > 0) parts.push('xbzrle caches');
  const where =
    available.cgroupFreeBytes !== null && available.cgroupFreeBytes < available.memAvailableBytes
      ? " (under this cgroup's limit)"
      : '';
  const proceduralFits =
    config.memory === 'materialized' && memoryNeed({ ...config, memory: 'procedural' }).totalBytes <= available.bytes;
  const wayOut = proceduralFits
    ? 'use --memory procedural, which holds no page bytes and fits'
    : need.targetBytes > 0 && need.sourceBytes + need.scratchBytes + need.runtimeBytes <= available.bytes
      ? 'put the target on another host with migbench receive and --target'
      : `use a smaller --ram${need.scratchBytes > 0 ? ' or --xbzrle-cache' : ''}, or a host with more memory`;
  return `${ramOption(config.ramBytes)} needs about ${gib(need.totalBytes)} (${parts.join(', ')}) but ${gib(available.bytes)} is available${where}; ${wayOut}`;
}

/** Throws AdmissionError when the run cannot fit. */
export function admit(config: RunConfig): void {
  const why = admissionRefusal(config);
  if (why !== null) throw new AdmissionError(why);
}

export { AdmissionError } from '../memory/admission.js';
