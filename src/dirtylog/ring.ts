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
  if (sizeEntries < 1 || (sizeEntries & (sizeEntries - 1)) !== 0) throw new RangeError('a dirty ring size is a power of two');
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
