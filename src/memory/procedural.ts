/**
 * Procedural guest memory (`--memory procedural`): a page's bytes are a pure function of the run's
 * seed, the page and its write history, so no page's bytes are held. A page's state is the index
 * of its last write in a shared write log (0: never written): its bytes are its initial content
 * (the same seeded stream that set-up fills a materialized memory with, src/memory/content.ts)
 * with its writes applied in order. A vCPU's write appends a record (where in the page, and its
 * bytes or the generator state that makes them) and publishes it as the page's state; the target
 * holds, per page, the state it received. Bytes exist only where something reads them: packed into
 * a frame, in a codec, at the receiver's check of a page against the state it must hold.
 *
 * The same write stream drives both kinds of memory (src/guest/write-stream.ts), drawing the same
 * numbers, so a run gives the same result on either, field by field.
 *
 * Layout of the shared buffers (one set per run, shared by every thread that writes or reads):
 *   log:      u32 words; word 0 the next free record, word 1 the capacity in records; record i
 *             (i >= 1) at words [i * W, i * W + W): prev (the page's record before it, 0 none),
 *             offset in the page, then the value: its bytes (W = 4, writes of up to 8 bytes) or
 *             the generator's state before it (W = 6, longer writes)
 *   heads:    u32 per page: the source's state of the page (its last record, 0: initial content)
 *   received: u32 per page: the state the target holds (NOT_RECEIVED before the page arrived)
 *   streams:  per slot, the content stream's state (4 u32) at every STREAM_CHUNK_PAGES pages, and
 *             per slot an i32 that is 1 once they are there: the first thread to need a slot's
 *             walks its stream (a few ns a page) and every thread then reads them
 * The buffers are reserved at their full size and committed by the OS page by page as they are
 * touched, so a page never written costs 8 bytes of address space and nothing resident.
 */
import { Xorshift128 } from '../util/prng.js';
import { RunFailure } from '../util/errors.js';
import {
  PageKind,
  contentStreamStates,
  fillPage,
  pageKind,
  textCorpus,
  writeOfKind,
  writtenKind,
  type ContentMix,
} from './content.js';

/** What a page's content is a function of, beside its write history. */
export interface ProceduralSpec {
  seed: number;
  content: ContentMix;
  pageSizeBytes: number;
  pageCount: number;
  /** Pages per slot: each slot's initial content is its own stream (as set-up fills it). */
  pagesPerSlot: number;
  writeSizeBytes: number;
}

/** The shared state of a run's procedural memory: it crosses to every thread that writes or reads pages. */
export interface ProceduralHandle {
  spec: ProceduralSpec;
  log: SharedArrayBuffer;
  heads: SharedArrayBuffer;
  received: SharedArrayBuffer;
  streams: SharedArrayBuffer;
  streamsReady: SharedArrayBuffer;
}

/** The target's state of a page before it arrived. */
export const NOT_RECEIVED = 0xffff_ffff;
/**
 * The target's state of a page that arrived with bytes that were not its state's (a codec that
 * does not round-trip): no state makes them, so verification finds the page, as it finds a
 * materialized page whose bytes differ.
 */
export const CORRUPT = 0xffff_fffe;

/** Pages between two saved states of a slot's content stream: a page's initial content replays fewer than this. */
const STREAM_CHUNK_PAGES = 64;

/** Log words of one record: a write of up to 8 bytes keeps its bytes, a longer one its generator's state. */
export function recordWords(writeSizeBytes: number): number {
  return writeSizeBytes <= 8 ? 4 : 6;
}

/** The most records a log may hold: record indexes are u32, and a view of u32 words ends at 2^32 words. */
const MAX_LOG_RECORDS = Math.floor((2 ** 32 - 1) / 6);

/** Reserves the shared buffers of a procedural memory for `pageCount` pages and up to `writes` writes. */
export function createProcedural(spec: ProceduralSpec, writes: number): ProceduralHandle {
  const records = Math.min(MAX_LOG_RECORDS, Math.max(1024, Math.ceil(writes) + 1));
  const log = new SharedArrayBuffer(records * recordWords(spec.writeSizeBytes) * 4);
  const words = new Uint32Array(log);
  words[0] = 1;
  words[1] = records;
  const received = new SharedArrayBuffer(spec.pageCount * 4);
  new Uint32Array(received).fill(NOT_RECEIVED);
  const slots = Math.ceil(spec.pageCount / spec.pagesPerSlot);
  return {
    spec,
    log,
    heads: new SharedArrayBuffer(spec.pageCount * 4),
    received,
    streams: new SharedArrayBuffer(slots * chunksPerSlot(spec) * 16),
    streamsReady: new SharedArrayBuffer(slots * 4),
  };
}

const chunksPerSlot = (spec: ProceduralSpec): number => Math.ceil(spec.pagesPerSlot / STREAM_CHUNK_PAGES);

/** The bytes a procedural memory reserves: the log for `writes` writes, two u32 per page and the streams' states. */
export function proceduralBytes(spec: Pick<ProceduralSpec, 'pageCount' | 'writeSizeBytes'>, writes: number): number {
  const streams = Math.ceil(spec.pageCount / STREAM_CHUNK_PAGES) * 16;
  return (Math.ceil(writes) + 1) * recordWords(spec.writeSizeBytes) * 4 + spec.pageCount * 8 + streams;
}

/**
 * A thread's view of a procedural memory: writes (a vCPU's), page states, and pages generated on
 * demand. Every thread builds its own from the handle; they share the buffers.
 */
export class ProceduralMemory {
  readonly spec: ProceduralSpec;
  /** The source's page states, and the target's. */
  readonly heads: Uint32Array;
  readonly received: Uint32Array;
  private readonly log: Uint32Array;
  private readonly words: number;
  private readonly text = textCorpus();
  /** Per slot, the content stream's state every STREAM_CHUNK_PAGES pages (walked when first needed). */
  private readonly streams: Uint32Array;
  private readonly streamsReady: Int32Array;
  /** A write's bytes on their way into the log. */
  private readonly value = new Uint8Array(8);
  private readonly valueWords = new Uint32Array(this.value.buffer);
  /** Records of one page, newest first, while its content is generated. */
  private chain = new Uint32Array(64);
  /**
   * The target is on another host (TCP): no receiver here keeps the target's states, so the sender
   * records each page as sent where the resend meter weighs it.
   */
  remoteTarget = false;

  constructor(readonly handle: ProceduralHandle) {
    this.spec = handle.spec;
    this.heads = new Uint32Array(handle.heads);
    this.received = new Uint32Array(handle.received);
    this.log = new Uint32Array(handle.log);
    this.words = recordWords(handle.spec.writeSizeBytes);
    this.streams = new Uint32Array(handle.streams);
    this.streamsReady = new Int32Array(handle.streamsReady);
  }

  /** Writes so far, over all pages. */
  writes(): number {
    return Atomics.load(this.log, 0) - 1;
  }

  /**
   * One write of `writeSizeBytes` at `offset` into `page`, of the page's written kind, drawn from
   * `rng` exactly as a write into materialized memory draws it; returns its record. `heads` is
   * the state to advance: the source's (a vCPU there), or both the target's and the source's (a
   * post-copy vCPU on the target, whose writes the source mirrors).
   */
  write(page: number, offset: number, rng: Xorshift128, both = false): number {
    const { spec } = this;
    const kind = writtenKind(spec.seed, page, spec.content);
    const index = Atomics.add(this.log, 0, 1);
    if (index >= this.log[1]) {
      throw new RunFailure(
        `the procedural memory's write log is full (${this.log[1] - 1} writes); give a shorter --timeout or use --memory materialized`,
      );
    }
    const at = index * this.words;
    this.log[at + 1] = offset;
    if (this.words === 4) {
      writeOfKind(this.value, 0, spec.writeSizeBytes, kind, rng, this.text);
      this.log[at + 2] = this.valueWords[0];
      this.log[at + 3] = this.valueWords[1];
    } else {
      const state = rng.state();
      for (let k = 0; k < 4; k++) this.log[at + 2 + k] = state[k];
      // Advance the stream as the write would: the bytes are made again from the state.
      writeOfKind(new Uint8Array(spec.writeSizeBytes), 0, spec.writeSizeBytes, kind, rng, this.text);
    }
    // The record is whole; now it becomes the page's state (several writers may race on a page).
    for (;;) {
      const prev = Atomics.load(this.heads, page);
      this.log[at] = prev;
      if (Atomics.compareExchange(this.heads, page, prev, index) === prev) break;
    }
    if (both) Atomics.store(this.received, page, index);
    return index;
  }

  /** The page's state at the source now. */
  head(page: number): number {
    return Atomics.load(this.heads, page);
  }

  /**
   * Writes the bytes of `page` in state `head` (0: its initial content) into `out` (a page long,
   * starting at `at`).
   */
  generate(page: number, head: number, out: Uint8Array, at = 0): void {
    this.initial(page, out, at);
    if (head === 0) return;
    // The page's records, newest first, then applied oldest first.
    let n = 0;
    for (let r = head; r !== 0; r = this.log[r * this.words]) {
      if (n === this.chain.length) {
        const grown = new Uint32Array(this.chain.length * 2);
        grown.set(this.chain);
        this.chain = grown;
      }
      this.chain[n++] = r;
    }
    const { spec } = this;
    const kind = writtenKind(spec.seed, page, spec.content);
    for (let i = n - 1; i >= 0; i--) this.apply(this.chain[i], kind, out, at);
  }

  /** Whether the page's bytes in two states are the same (the states differ: a write may leave them so). */
  sameBytes(page: number, a: number, b: number, scratch: Uint8Array): boolean {
    if (a === b) return true;
    const size = this.spec.pageSizeBytes;
    this.generate(page, a, scratch, 0);
    this.generate(page, b, scratch, size);
    return Buffer.compare(scratch.subarray(0, size), scratch.subarray(size, 2 * size)) === 0;
  }

  /**
   * Packs raw pages into a frame body as the packPages kernel does (descriptors, then each page's
   * bytes), their bytes made from their states now; each page's state goes to `states`. `list`
   * holds slot-local pages of the slot whose first page is `firstPage`. Returns the body's bytes.
   */
  packRaw(list: Uint32Array, firstPage: number, body: Uint8Array, states: Uint32Array): number {
    const size = this.spec.pageSizeBytes;
    const n = list.length;
    const view = new DataView(body.buffer, body.byteOffset, n * 8);
    for (let i = 0; i < n; i++) {
      const page = firstPage + list[i];
      const head = Atomics.load(this.heads, page);
      states[i] = head;
      view.setUint32(i * 8, page, true);
      view.setUint32(i * 8 + 4, size, true); // raw (codec 0), a page long
      this.generate(page, head, body, n * 8 + i * size);
    }
    return n * (8 + size);
  }

  /** Each listed page's state now, into `states` (what a frame handed to another thread will carry). */
  snapshot(list: Uint32Array, firstPage: number, states: Uint32Array): void {
    for (let i = 0; i < list.length; i++) states[i] = Atomics.load(this.heads, firstPage + list[i]);
  }

  /**
   * The resend meter: how many listed pages hold now the bytes the target last got (its received
   * state); with `sent`, the sender stands for the target (over TCP) and records each page as sent.
   */
  countUnchanged(list: Uint32Array, firstPage: number, scratch: Uint8Array, sent = false): number {
    let same = 0;
    for (let i = 0; i < list.length; i++) {
      const page = firstPage + list[i];
      const head = Atomics.load(this.heads, page);
      const last = Atomics.load(this.received, page);
      if (last !== NOT_RECEIVED && last !== CORRUPT && this.sameBytes(page, head, last, scratch)) same++;
      if (sent) Atomics.store(this.received, page, head);
    }
    return same;
  }

  /**
   * The target takes a page in state `state`, whose bytes are `bytes` where a frame carried them
   * (null: by reference, no bytes crossed): they must be that state's, or the page is kept as
   * CORRUPT (`ok` false). With `meter`, `same` says whether the page came with the bytes the
   * target held: its last state's, or zeros (a target's memory starts zero) if it had none.
   */
  accept(
    page: number,
    state: number,
    bytes: Uint8Array | null,
    scratch: Uint8Array,
    meter: boolean,
  ): { ok: boolean; same: boolean } {
    const size = this.spec.pageSizeBytes;
    if (bytes !== null) {
      this.generate(page, state, scratch, 0);
      if (Buffer.compare(bytes, scratch.subarray(0, size)) !== 0) {
        Atomics.store(this.received, page, CORRUPT);
        return { ok: false, same: false };
      }
    }
    let same = false;
    if (meter) {
      const last = Atomics.load(this.received, page);
      if (last !== NOT_RECEIVED && last !== CORRUPT) {
        same = this.sameBytes(page, state, last, scratch);
      } else {
        same = this.isZeroPage(page, state, scratch);
      }
    }
    Atomics.store(this.received, page, state);
    return { ok: true, same };
  }

  /** Whether a page's bytes in `state` are all zero; a page never written is its kind's (no bytes made). */
  private isZeroPage(page: number, state: number, scratch: Uint8Array): boolean {
    const { spec } = this;
    if (state === 0) return pageKind(spec.seed, page, spec.content) === PageKind.Zero;
    this.generate(page, state, scratch, 0);
    return isZero(scratch.subarray(0, spec.pageSizeBytes));
  }

  /** The target's bytes of a page now, into `out` at `at` (what a delta applies to). */
  targetBytes(page: number, out: Uint8Array, at = 0): void {
    const last = Atomics.load(this.received, page);
    if (last === NOT_RECEIVED || last === CORRUPT) out.fill(0, at, at + this.spec.pageSizeBytes);
    else this.generate(page, last, out, at);
  }

  /** One record's bytes into the page at `at`. */
  private apply(record: number, kind: PageKind, out: Uint8Array, at: number): void {
    const base = record * this.words;
    const offset = at + this.log[base + 1];
    const len = this.spec.writeSizeBytes;
    if (this.words === 4) {
      this.valueWords[0] = this.log[base + 2];
      this.valueWords[1] = this.log[base + 3];
      for (let i = 0; i < len; i++) out[offset + i] = this.value[i];
      return;
    }
    const rng = Xorshift128.fromState([this.log[base + 2], this.log[base + 3], this.log[base + 4], this.log[base + 5]]);
    writeOfKind(out, offset, len, kind, rng, this.text);
  }

  /** The page's initial content: its slot's content stream replayed from the nearest saved state. */
  private initial(page: number, out: Uint8Array, at: number): void {
    const { spec } = this;
    const size = spec.pageSizeBytes;
    const kind = pageKind(spec.seed, page, spec.content);
    if (kind === PageKind.Zero) {
      out.fill(0, at, at + size);
      return;
    }
    const slot = Math.floor(page / spec.pagesPerSlot);
    const firstPage = slot * spec.pagesPerSlot;
    const local = page - firstPage;
    const chunk = Math.floor(local / STREAM_CHUNK_PAGES);
    const at4 = (slot * chunksPerSlot(spec) + chunk) * 4;
    this.walkStream(slot);
    const w = this.streams;
    const rng = Xorshift128.fromState([w[at4], w[at4 + 1], w[at4 + 2], w[at4 + 3]]);
    for (let p = chunk * STREAM_CHUNK_PAGES; p < local; p++) {
      fillPage(pageKind(spec.seed, firstPage + p, spec.content), rng, null, 0, size, this.text);
    }
    fillPage(kind, rng, out, at, size, this.text);
  }

  /**
   * The slot's stream states, walked here unless a thread did so already. Two threads may walk the
   * same slot at once: they store the same numbers.
   */
  private walkStream(slot: number): void {
    if (Atomics.load(this.streamsReady, slot) === 1) return;
    const { spec } = this;
    const firstPage = slot * spec.pagesPerSlot;
    const count = Math.min(spec.pagesPerSlot, spec.pageCount - firstPage);
    const states = contentStreamStates(
      firstPage,
      count,
      spec.pageSizeBytes,
      spec.seed,
      spec.content,
      STREAM_CHUNK_PAGES,
    );
    const base = slot * chunksPerSlot(spec) * 4;
    states.forEach((st, k) => this.streams.set(st, base + k * 4));
    Atomics.store(this.streamsReady, slot, 1);
  }
}

/** Whether every byte is zero. */
function isZero(bytes: Uint8Array): boolean {
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
  for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  for (let i = words.length * 4; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
