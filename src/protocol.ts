/**
 * Every message that crosses between threads, as unions keyed on `kind`. Shared memories and
 * compiled modules travel inside these messages; they are shared, never copied.
 */
import type { UserStrategyConfig } from './config/types.js';
import type { SlotHandle } from './memory/layout.js';
import type { ContentMix, WritePattern } from './config/types.js';
import type { MarkMode } from './dirtylog/dirty-log.js';
import type { ChainSettings, ChainStats } from './codec/chain-encoder.js';
import type { CodecPhase } from './codec/codec.js';

export type { SlotHandle } from './memory/layout.js';

export interface GuestShape {
  pageCount: number;
  pagesPerSlot: number;
  pageSizeBytes: number;
}

/** Starts one emulated vCPU: it writes until the control block says stop. */
export interface WriterTask {
  kind: 'writer';
  vcpu: number;
  slots: SlotHandle[];
  guest: GuestShape;
  /** The guest control block (src/guest/control.ts). */
  control: SharedArrayBuffer;
  /** This vCPU's share of the configured page writes per second. */
  pageWritesPerSec: number;
  /** How many vCPUs share the pattern (a sequential walk is interleaved across them). */
  vcpus: number;
  pattern: WritePattern;
  writeSizeBytes: number;
  /** After a throttle sleep, the writes due in its last catchUpMs are made up, the rest dropped. */
  catchUpMs: number;
  seed: number;
  writeSeed: number;
  content: ContentMix;
  /** How a write is logged: bitmap bit, plus summary bit, or a push into this vCPU's ring. */
  mark: MarkMode;
}

/** Starts one vCPU on the target after a post-copy switch-over (src/guest/postcopy-vcpu.ts). */
export interface PostcopyWriterTask {
  kind: 'postcopy-writer';
  vcpu: number;
  vcpus: number;
  guest: GuestShape;
  control: SharedArrayBuffer;
  pageWritesPerSec: number;
  pattern: WritePattern;
  writeSizeBytes: number;
  seed: number;
  writeSeed: number;
  content: ContentMix;
  targetSlots: SlotHandle[];
  shadowSlots: SlotHandle[];
  requests: SharedArrayBuffer;
}

export interface WriterReport {
  kind: 'writer-report';
  vcpu: number;
  pageWrites: number;
  /** Milliseconds the vCPU was running (not paused). */
  liveMs: number;
}

/** Starts a receiving thread (src/channel/receive-thread.ts): it takes frames from the queue, paces them on the link, receives them into the target. */
export interface ChannelTask {
  kind: 'channel';
  module: WebAssembly.Module;
  sourceSlots: SlotHandle[];
  targetSlots: SlotHandle[];
  guest: GuestShape;
  /** The frame queue (src/channel/queue.ts). */
  queue: SharedArrayBuffer;
  /** The link to pace on (src/link/link.ts); null: unpaced. */
  link: SharedArrayBuffer | null;
  /** Whose frames these are in the link's usage record (Link.forUser); -1: none. */
  linkUser: number;
  /** Page codecs are on: the receiver decodes frames with every codec's decoder. */
  codecs: boolean;
  /** The user's codec files of the run, in chain order: the thread imports them before it starts. */
  userCodecs: UserStrategyConfig[];
  /** This thread runs the resend meter over raw frames (src/channel/channel-worker.ts). */
  meter: boolean;
}

export interface ChannelReport {
  kind: 'channel-report';
  /** Set when a frame was rejected: the receiver writes nothing of a rejected frame. */
  error?: string;
}

/**
 * One piece of a guest memory's set-up (src/memory/setup.ts), in bytes of one slot's memory:
 * `fill` writes the initial content of pages [fromPage, toPage) from the slot's content stream as
 * it stands at fromPage, and clears those pages' touched bytes; `clear` makes [from, to) zero (a fresh memory is zero already, so it is only
 * touched, one byte per 4 KiB, to fault it in; a reused one is cleared).
 */
export type SetupItem =
  | {
      kind: 'fill';
      memory: number;
      slot: number;
      fromPage: number;
      toPage: number;
      rng: [number, number, number, number];
      /** Rewrite only the pages a vCPU wrote since this content was last filled (SlotLayout.touchedPtr). */
      touchedOnly: boolean;
    }
  | { kind: 'clear'; memory: number; slot: number; from: number; to: number };

/** Set-up work shared by every thread: each takes the next item (an Atomics counter) until none is left. */
export interface SetupTask {
  kind: 'setup';
  module: WebAssembly.Module;
  /** memories[m][slot] */
  memories: SlotHandle[][];
  /** memories[m]'s slots: new (zero, untouched) or reused. */
  fresh: boolean[][];
  items: SetupItem[];
  /** Int32Array: [next item]. */
  counter: SharedArrayBuffer;
  seed: number;
  content: ContentMix;
}

/** What each encoder thread is started with (piscina workerData). */
export interface EncoderWorkerData {
  module: WebAssembly.Module;
  slots: SlotHandle[];
  settings: ChainSettings;
  /** Int32Array, one counter per lane: frames this lane's thread has finished (the write gate reads it). */
  progress: SharedArrayBuffer;
  lane: number;
}

/** Encode one frame: the slot's pages listed at listPtr into the body at bodyPtr. */
export interface EncodeTask {
  kind: 'encode';
  slot: number;
  listPtr: number;
  count: number;
  bodyPtr: number;
  capacityBytes: number;
  /** The migration's phase, for codecs with QEMU's rules (the qemu pre-copy loop gives it). */
  phase?: CodecPhase;
}

export interface EncodeResult {
  kind: 'encoded';
  bodyLength: number;
  /** Time the encoding took on its thread, ms. */
  cpuMs: number;
  /** The thread's cumulative statistics. */
  stats: ChainStats;
}
