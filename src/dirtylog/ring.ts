/**
 * A per-vCPU dirty ring, as KVM's: the vCPU pushes the number of each page it dirties (only on the
 * page's first write since it was last reset, which the page's bitmap bit stands for, as KVM's
 * write protection does); the driver harvests. A full ring stalls the vCPU until harvested.
 *   Int32 [HEAD] entries pushed (vCPU)    [TAIL] entries harvested (driver)
 *   Int32 [STALLS] ring-full stalls (vCPU) [STALLED] 1 while the vCPU waits on a full ring
 *   Float64 at STALL_MS_BYTE: milliseconds the vCPU spent stalled
 *   Uint32 entries from ENTRIES_BYTE: global page numbers
 */
export const HEAD = 0;
export const TAIL = 1;
export const STALLS = 2;
export const STALLED = 3;
const STALL_MS_BYTE = 16;
const ENTRIES_BYTE = 64;

export interface RingViews {
  i32: Int32Array;
  stallMs: Float64Array;
  entries: Uint32Array;
  size: number;
}

export function createRing(sizeEntries: number): SharedArrayBuffer {
  if (sizeEntries < 1 || (sizeEntries & (sizeEntries - 1)) !== 0)
    throw new RangeError('a dirty ring size is a power of two');
  return new SharedArrayBuffer(ENTRIES_BYTE + sizeEntries * 4);
}

export function ringViews(sab: SharedArrayBuffer): RingViews {
  const size = (sab.byteLength - ENTRIES_BYTE) / 4;
  return {
    i32: new Int32Array(sab, 0, 4),
    stallMs: new Float64Array(sab, STALL_MS_BYTE, 1),
    entries: new Uint32Array(sab, ENTRIES_BYTE, size),
    size,
  };
}

/** Entries waiting to be harvested. */
export function ringFill(r: RingViews): number {
  return Atomics.load(r.i32, HEAD) - Atomics.load(r.i32, TAIL);
}

/** Pushes a global page number (the producer's side: one vCPU); the caller has made sure there is room. */
export function ringPush(r: RingViews, page: number): void {
  const head = r.i32[HEAD];
  r.entries[head & (r.size - 1)] = page;
  Atomics.store(r.i32, HEAD, head + 1);
}

/**
 * Takes every entry pushed so far, in order (the consumer's side), into `visit`, then frees the
 * ring and wakes a producer waiting on it.
 */
export function ringDrain(r: RingViews, visit: (page: number) => void): void {
  const head = Atomics.load(r.i32, HEAD);
  for (let i = Atomics.load(r.i32, TAIL); i !== head; i++) visit(r.entries[i & (r.size - 1)]);
  Atomics.store(r.i32, TAIL, head);
  Atomics.notify(r.i32, TAIL);
}
