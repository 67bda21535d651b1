/**
 * Admission before allocation: what a migration needs in memory, what this machine can give, and
 * a refusal that says both, before a byte is allocated. A guest memory commits its pages as they
 * are first touched, so a run that does not fit would otherwise grow until the kernel's
 * out-of-memory killer ends the process, with no message and no result.
 *
 * Need (bytes), every figure from the layouts the run will allocate (src/memory/layout.ts):
 *   source  = sum over slots of memoryBytes (pages + dirty bitmaps + scan list + page hashes + touched map + frame buffers)
 *   target  = the same for the target's layout, when the target is in this process (no --target)
 *   xbzrle  = cache region (the cache rounded to pages, plus one) per encoding lane, with --codec xbzrle
 *   runtime = RUNTIME_ALLOWANCE_BYTES (Node, worker threads, frame queues: a 256 MiB guest's run peaked at
 *             632 MiB here with 530 MiB of guest memories, so about 100 MiB, and 256 MiB leaves room)
 * Available = min(MemAvailable, cgroup limit - cgroup usage) + what this process's memory pool holds
 * idle (it is resident, and is reused or released before anything new is allocated).
 */
import { readFileSync } from 'node:fs';
import type { RunConfig } from '../config/types.js';
import { XbzrleCache } from '../codec/xbzrle-cache.js';
import { TARGET_PAGES_OFFSET_BYTES, planGuestLayout, type GuestLayout } from './layout.js';
import { memoryPool } from './pool.js';

/** Memory the process needs beside its guest memories: Node, worker threads, queues, tables. */
export const RUNTIME_ALLOWANCE_BYTES = 256 * 1024 * 1024;

export interface MemoryNeed {
  sourceBytes: number;
  /** 0 when the target is on another host. */
  targetBytes: number;
  scratchBytes: number;
  runtimeBytes: number;
  totalBytes: number;
}

export interface MemoryAvailable {
  bytes: number;
  /** Where the figure comes from, for the message. */
  memAvailableBytes: number;
  cgroupFreeBytes: number | null;
  poolIdleBytes: number;
}

/** A migration that cannot fit in this machine's memory; the message says what to do. */
export class AdmissionError extends Error {
  override readonly name = 'AdmissionError';
}

const layoutBytes = (l: GuestLayout): number => l.slots.reduce((n, s) => n + s.memoryBytes, 0);

/** The source's and the (in-process) target's layouts, as the driver plans them. */
export function runLayouts(config: Pick<RunConfig, 'ramBytes' | 'pageSizeBytes'>): {
  source: GuestLayout;
  target: GuestLayout;
} {
  return {
    source: planGuestLayout(config.ramBytes, config.pageSizeBytes),
    target: planGuestLayout(config.ramBytes, config.pageSizeBytes, undefined, undefined, TARGET_PAGES_OFFSET_BYTES),
  };
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

/** `key: value kB` lines of /proc/meminfo; null where there is none (not Linux). */
function memInfoBytes(key: string): number | null {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

function readNumber(file: string): number | null {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

/**
 * Limit minus usage of this process's memory cgroup (v2 memory.max / memory.current, or v1
 * memory.limit_in_bytes / memory.usage_in_bytes); null when no limit is set or none can be read.
 */
export function cgroupFreeBytes(procSelfCgroup = '/proc/self/cgroup', root = '/sys/fs/cgroup'): number | null {
  let lines: string[];
  try {
    lines = readFileSync(procSelfCgroup, 'utf8').split('\n');
  } catch {
    return null;
  }
  const candidates: Array<[string, string]> = [];
  for (const line of lines) {
    const [, controllers, path] = line.split(':');
    if (path === undefined) continue;
    if (controllers === '')
      candidates.push(
        [`${root}${path}/memory.max`, `${root}${path}/memory.current`],
        [`${root}/unified${path}/memory.max`, `${root}/unified${path}/memory.current`],
      );
    if (controllers.split(',').includes('memory'))
      candidates.push([`${root}/memory${path}/memory.limit_in_bytes`, `${root}/memory${path}/memory.usage_in_bytes`]);
  }
  let free: number | null = null;
  for (const [limitFile, usageFile] of candidates) {
    const limit = readNumber(limitFile); // "max" (no limit) reads as null
    const usage = readNumber(usageFile);
    // v1 says "no limit" with a huge number (PAGE_COUNTER_MAX pages).
    if (limit === null || usage === null || limit >= 2 ** 62) continue;
    free = Math.min(free ?? Infinity, Math.max(0, limit - usage));
  }
  return free;
}

export function memoryAvailable(): MemoryAvailable {
  const memAvailableBytes = memInfoBytes('MemAvailable') ?? Infinity;
  const cgroupFree = cgroupFreeBytes();
  const poolIdleBytes = memoryPool.idleBytes();
  return {
    bytes: Math.min(memAvailableBytes, cgroupFree ?? Infinity) + poolIdleBytes,
    memAvailableBytes,
    cgroupFreeBytes: cgroupFree,
    poolIdleBytes,
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

/** The receiver's side: the target memory for a handshake's guest. */
export function targetNeedBytes(layout: GuestLayout): number {
  return layoutBytes(layout);
}
