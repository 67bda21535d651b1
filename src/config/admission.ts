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

export function memoryNeed(config: RunConfig): MemoryNeed {
  const { source, target } = runLayouts(config);
  const sourceBytes = layoutBytes(source);
  const targetBytes = config.target === null ? layoutBytes(target) : 0;
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
  const wayOut =
    need.targetBytes > 0 && need.sourceBytes + need.scratchBytes + need.runtimeBytes <= available.bytes
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
