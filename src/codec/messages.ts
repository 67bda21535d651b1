/**
 * Messages of the encoder threads (src/codec/encode-worker.ts), keyed on `kind`. Shared memories and the
 * compiled module travel inside them; they are shared, never copied.
 */
import type { SlotHandle } from '../memory/layout.js';
import type { ChainSettings, ChainStats } from './chain-encoder.js';
import type { CodecPhase } from './codec.js';
import type { ProceduralHandle } from '../memory/procedural.js';

/** What each encoder thread is started with (piscina workerData). */
export interface EncoderWorkerData {
  module: WebAssembly.Module;
  slots: SlotHandle[];
  settings: ChainSettings;
  /** Int32Array, one counter per lane: frames this lane's thread has finished (the write gate reads it). */
  progress: SharedArrayBuffer;
  lane: number;
  /** The pages' procedural memory (src/memory/procedural.ts); null: they are in the slots. */
  procedural: ProceduralHandle | null;
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
