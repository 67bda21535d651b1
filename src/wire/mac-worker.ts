/** The MAC of src/wire/mac.ts, computed off the caller's thread: one job per worker. */
import { createHmac } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import type { MacJob } from './mac.js';

export function computeMac(job: MacJob): Buffer {
  const h = createHmac('sha256', job.key);
  const shape = Buffer.alloc(16);
  shape.writeBigUInt64LE(BigInt(job.pageSizeBytes), 0);
  shape.writeBigUInt64LE(BigInt(job.pageCount), 8);
  h.update(shape);
  for (const r of job.ranges) h.update(new Uint8Array(r.buffer, r.offset, r.length));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(job.deviceState.length), 0);
  h.update(length);
  h.update(job.deviceState);
  return h.digest();
}

if (parentPort !== null && workerData !== null && typeof workerData === 'object' && 'ranges' in workerData) {
  parentPort.postMessage(computeMac(workerData as MacJob));
}
