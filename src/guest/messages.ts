/**
 * Messages of the vCPU threads (src/guest/writer-worker.ts), keyed on `kind`. Shared memories travel inside
 * them; they are shared, never copied.
 */
import type { GuestShape, SlotHandle } from '../memory/layout.js';
import type { ContentMix } from '../memory/content.js';
import type { WritePattern } from './pattern.js';
import type { MarkMode } from '../dirtylog/dirty-log.js';
import type { ProceduralHandle } from '../memory/procedural.js';
import type { TraceWorkload } from '../trace/replay.js';

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
  /** The procedural memory the pages are (src/memory/procedural.ts); null: they are in the slots. */
  procedural: ProceduralHandle | null;
  /** A recorded trace this vCPU replays its share of (src/trace/replay.ts); null: its write stream. */
  trace: TraceWorkload | null;
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
  /** Per target slot, where shadowSlots is empty (a target on another host): pages as they arrived (PostcopyPlacement.pristine). */
  pristine?: SharedArrayBuffer[];
  /** Float64 per vCPU: the source vCPU's writes before the switch (PostcopyPlacement.sourceWrites). */
  sourceWrites: SharedArrayBuffer;
  requests: SharedArrayBuffer;
  procedural: ProceduralHandle | null;
}

export interface WriterReport {
  kind: 'writer-report';
  vcpu: number;
  pageWrites: number;
  /** Milliseconds the vCPU was running (not paused). */
  liveMs: number;
}
