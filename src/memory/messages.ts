/**
 * Messages of the set-up threads (src/memory/setup-worker.ts), keyed on `kind`. Shared memories and compiled
 * modules travel inside them; they are shared, never copied.
 */
import type { SlotHandle } from './layout.js';
import type { ContentMix } from './content.js';

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
