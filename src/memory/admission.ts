/**
 * Admission before allocation: what guest memories need, what this machine can give (a run's whole
 * need and its refusal are src/config/admission.ts's), before a byte is allocated. A guest memory commits its pages as they
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
import { TARGET_PAGES_OFFSET_BYTES, planGuestLayout, type GuestLayout } from './layout.js';
import type { MemoryConfig } from './options.js';
import { memoryPool } from './pool.js';

/** Memory the process needs beside its guest memories: Node, worker threads, queues, tables. */
export const RUNTIME_ALLOWANCE_BYTES = 256 * 1024 * 1024;

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

export const layoutBytes = (l: GuestLayout): number => l.memoryBytes.reduce((n, b) => n + b, 0);

/** The source's and the (in-process) target's layouts, as the driver plans them. */
export function runLayouts(config: Pick<MemoryConfig, 'ramBytes' | 'pageSizeBytes' | 'memory'>): {
  source: GuestLayout;
  target: GuestLayout;
} {
  return {
    source: planGuestLayout(
      config.ramBytes,
      config.pageSizeBytes,
      undefined,
      undefined,
      0,
      config.memory === 'procedural',
    ),
    target: planGuestLayout(
      config.ramBytes,
      config.pageSizeBytes,
      undefined,
      undefined,
      TARGET_PAGES_OFFSET_BYTES,
      config.memory === 'procedural',
    ),
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

/** The receiver's side: the target memory for a handshake's guest. */
export function targetNeedBytes(layout: GuestLayout): number {
  return layoutBytes(layout);
}
