/** The MAC of src/wire/mac.ts, computed off the caller's thread: one job per worker. */
import { createHmac, type Hmac } from 'node:crypto';
import { ProceduralMemory, type ProceduralHandle } from '../memory/procedural.js';
import { parentPort, workerData } from 'node:worker_threads';
import type { MacJob } from './mac.js';

export function computeMac(job: MacJob): Buffer {
  const h = createHmac('sha256', job.key);
  const shape = Buffer.alloc(16);
  shape.writeBigUInt64LE(BigInt(job.pageSizeBytes), 0);
  shape.writeBigUInt64LE(BigInt(job.pageCount), 8);
  h.update(shape);
  for (const r of job.ranges) h.update(new Uint8Array(r.buffer, r.offset, r.length));
  if (job.procedural) macProcedural(h, job.procedural);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(job.deviceState.length), 0);
  h.update(length);
  h.update(job.deviceState);
  return h.digest();
}

/** A procedural memory's pages in order, each made from the source's state of it, 256 at a time. */
function macProcedural(h: Hmac, handle: ProceduralHandle): void {
  const memory = new ProceduralMemory(handle);
  const { pageCount, pageSizeBytes } = handle.spec;
  const batch = new Uint8Array(256 * pageSizeBytes);
  for (let first = 0; first < pageCount; first += 256) {
    const n = Math.min(256, pageCount - first);
    for (let i = 0; i < n; i++) memory.generate(first + i, memory.head(first + i), batch, i * pageSizeBytes);
    h.update(batch.subarray(0, n * pageSizeBytes));
  }
}

if (parentPort !== null && workerData !== null && typeof workerData === 'object' && 'ranges' in workerData) {
  parentPort.postMessage(computeMac(workerData as MacJob));
}
