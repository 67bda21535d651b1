/**
 * What two hosts compare to agree that target memory equals source memory over TCP: HMAC-SHA256
 * (node:crypto) over every page of guest memory in order, then the device state, under a fresh
 * 32-byte key the source draws only once every frame is in and acknowledged; the verify frame
 * carries it. A peer that alters pages or the device state on the way cannot make both MACs agree
 * without the key, which did not exist while the data travelled (an unkeyed hash, such as the
 * frames' XXH64, can be matched by changing a page so its hash stays the same). The frames' XXH64
 * stays what it is: a fast detector of accidents.
 *
 * The MAC is computed on a worker thread (mac-worker.ts) reading the wasm memories in place
 * (they are shared), so a receiver's event loop keeps serving its other migrations meanwhile.
 * Cost: about 0.69 s per GiB on each host here, both at once (docs/two-hosts.md).
 */
import { Worker } from 'node:worker_threads';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { ProceduralHandle } from '../memory/procedural.js';

export const MAC_KEY_BYTES = 32;
export const MAC_BYTES = 32;
export const MAC_NAME = 'HMAC-SHA256';

/** What the worker MACs: byte ranges of shared memories, in order, then the device state. */
export interface MacJob {
  key: Uint8Array;
  /** Page size and page count, MACed first: memories of another shape never agree. */
  pageSizeBytes: number;
  pageCount: number;
  ranges: { buffer: SharedArrayBuffer; offset: number; length: number }[];
  /** A procedural memory's pages instead of ranges: each made from its state now (src/memory/procedural.ts). */
  procedural?: ProceduralHandle | null;
  deviceState: Uint8Array;
}

export function macJob(memory: GuestMemory, key: Uint8Array, deviceState: Uint8Array): MacJob {
  return {
    key,
    pageSizeBytes: memory.layout.pageSizeBytes,
    pageCount: memory.layout.pageCount,
    deviceState,
    procedural: memory.procedural?.handle ?? null,
    ranges: memory.procedural
      ? []
      : memory.slots.map((s) => ({
          buffer: s.memory.buffer as SharedArrayBuffer,
          offset: s.layout.pagesPtr,
          length: s.layout.pageCount * s.layout.pageSizeBytes,
        })),
  };
}

/** The MAC of `memory` and `deviceState` under `key`, computed on a worker thread. */
export function memoryMac(memory: GuestMemory, key: Uint8Array, deviceState: Uint8Array): Promise<Buffer> {
  const worker = new Worker(new URL('./mac-worker.js', import.meta.url), {
    workerData: macJob(memory, key, deviceState),
  });
  return new Promise<Buffer>((resolve, reject) => {
    worker.once('message', (mac: Uint8Array) => resolve(Buffer.from(mac)));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the MAC worker exited with code ${code}`));
    });
  });
}
