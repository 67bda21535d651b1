/**
 * The frame queue between the driver (producer) and the channel worker (consumer): a
 * single-producer single-consumer ring over a SharedArrayBuffer. Frames themselves stay in the
 * source slot's frame buffers; an entry names (slot, buffer, length). The channel releases a
 * buffer as soon as the frame has left it, so the driver can pack the next one.
 *
 * Int32 layout: [HEAD] entries pushed, [TAIL] entries consumed, [CLOSED], [ERROR], the ring's
 *   capacity and the slot count, [RELEASED + slot] buffers of that slot released so far, then the
 *   ring of 4-int entries.
 * Float64 stats, written by the receiving thread: bytes delivered, the epoch time (ms) at which
 * the last frame reaches the target (its send end plus link latency), pages found unchanged; and
 * one written by the driver: the migration's rate cap.
 */
export const HEAD = 0;
export const TAIL = 1;
export const CLOSED = 2;
export const ERROR = 3;
/** Set by the driver when post-copy begins: the receiver tracks arrivals from then on. */
export const POSTCOPY = 4;
/** Set by the receiving thread once its task runs (ReceiveThread.open waits for it). */
export const STARTED = 5;
/** Where the ring's capacity and the slot count are stored, so both sides agree on them. */
const CAPACITY_AT = 6;
const SLOTS_AT = 7;
export const RELEASED = 16;
const ENTRY_INTS = 4;

export const STAT_BYTES = 0;
export const STAT_LAST_DELIVERY_EPOCH_MS = 3;
/** Written by the driver: the rate to pace at now, bits/s; 0 means the link's configured rate. */
export const STAT_RATE_BITS_PER_SEC = 5;
/** Pages the channel's resend meter found unchanged since their last send (task.meter). */
export const STAT_UNCHANGED = 6;
const STATS = 8;

export interface QueueEntry {
  slot: number;
  buffer: number;
  lengthBytes: number;
}

export interface QueueViews {
  i32: Int32Array;
  stats: Float64Array;
  capacity: number;
  /** Where the ring starts: past one RELEASED counter per slot. */
  ring: number;
}

/** A queue of `capacity` entries for frames of `slots` slots. */
export function createQueue(capacity: number, slots: number): SharedArrayBuffer {
  const ints = RELEASED + slots + capacity * ENTRY_INTS;
  const sab = new SharedArrayBuffer(Math.ceil((ints * 4) / 8) * 8 + STATS * 8);
  const i32 = new Int32Array(sab);
  i32[CAPACITY_AT] = capacity;
  i32[SLOTS_AT] = slots;
  return sab;
}

export function queueViews(sab: SharedArrayBuffer): QueueViews {
  const head = new Int32Array(sab, 0, RELEASED);
  const capacity = head[CAPACITY_AT];
  const ring = RELEASED + head[SLOTS_AT];
  const ints = ring + capacity * ENTRY_INTS;
  const statsOffset = Math.ceil((ints * 4) / 8) * 8;
  return { i32: new Int32Array(sab, 0, ints), stats: new Float64Array(sab, statsOffset, STATS), capacity, ring };
}

export function entryAt(q: QueueViews, index: number): QueueEntry {
  const at = q.ring + (index % q.capacity) * ENTRY_INTS;
  return { slot: q.i32[at], buffer: q.i32[at + 1], lengthBytes: q.i32[at + 2] };
}

/** Producer side: push an entry; the caller has made sure a ring place is free. */
export function pushEntry(q: QueueViews, e: QueueEntry): void {
  const head = Atomics.load(q.i32, HEAD);
  const at = q.ring + (head % q.capacity) * ENTRY_INTS;
  q.i32[at] = e.slot;
  q.i32[at + 1] = e.buffer;
  q.i32[at + 2] = e.lengthBytes;
  Atomics.store(q.i32, HEAD, head + 1);
  Atomics.notify(q.i32, HEAD);
}
