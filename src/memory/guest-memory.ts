/**
 * A guest's RAM as slots of shared wasm memory, each with its kernels instantiated on this thread.
 * The source and the target each have one, taken from the process's memory pool (src/memory/pool.ts)
 * during set-up. A slot's memory may be a reused one, longer than its layout needs: everything
 * here addresses it through the layout.
 */
import type { Kernels } from '../kernel/types.js';
import { kernelsOfSlots } from '../kernel/loader.js';
import type { SlotHandle } from './layout.js';
import { type GuestLayout, createSlotMemory } from './layout.js';
import type { ProceduralMemory } from './procedural.js';

export class GuestMemory {
  readonly slots: SlotHandle[];
  readonly kernels: Kernels[];

  /** The wasm memories the slots lie in (GuestLayout.memoryBytes): one per slot, or several slots to one. */
  readonly memories: WebAssembly.Memory[];

  /**
   * Per slot: whether its memory is new (never touched: every byte zero, nothing resident) rather
   * than reused from an earlier run, whose bytes must all be rewritten before use.
   */
  readonly fresh: boolean[];

  /**
   * Where the pages are when the layout says procedural: the run's procedural memory (the source
   * reads its page states, the target its received states). Null for pages in the slots.
   */
  procedural: ProceduralMemory | null = null;

  /** `memories[i]` is the layout's memory i (at least memoryBytes[i] long); a new one where absent. */
  constructor(
    readonly layout: GuestLayout,
    module: WebAssembly.Module,
    memories: ReadonlyArray<WebAssembly.Memory | undefined> = [],
  ) {
    this.memories = layout.memoryBytes.map((bytes, i) => {
      const memory = memories[i] ?? createSlotMemory(bytes);
      if (memory.buffer.byteLength < bytes)
        throw new RangeError(`memory ${i} needs ${bytes} bytes, got ${memory.buffer.byteLength}`);
      return memory;
    });
    this.fresh = layout.slots.map((l) => memories[l.memory] === undefined);
    this.slots = layout.slots.map((l) => ({ memory: this.memories[l.memory], layout: l }));
    this.kernels = kernelsOfSlots(module, this.slots);
  }

  /** A guest memory of new memories, outside any pool (tests, tools). */
  static allocate(layout: GuestLayout, module: WebAssembly.Module): GuestMemory {
    return new GuestMemory(layout, module);
  }

  /** The page area of a slot as bytes. */
  pages(slot: number): Uint8Array {
    const s = this.slots[slot];
    return new Uint8Array(s.memory.buffer, s.layout.pagesPtr, s.layout.pageCount * s.layout.pageSizeBytes);
  }

  /** Clears every slot's dirty bitmap: dirty logging starts from here. */
  clearDirtyLog(): void {
    for (const s of this.slots) new Uint8Array(s.memory.buffer, s.layout.bitmapPtr, s.layout.bitmapWords * 8).fill(0);
  }

  /** Dirty pages over all slots, without clearing. */
  countDirty(): number {
    let n = 0;
    this.slots.forEach((s, i) => {
      n += this.kernels[i].countDirty(s.layout.bitmapPtr, 0, s.layout.bitmapWords);
    });
    return n;
  }

  /**
   * Compares this memory with another of the same layout, byte for byte (procedural: the target's
   * received state of every page with the source's, which make the same bytes). Returns the first
   * global page that differs, or -1 when they are equal.
   */
  firstDifferentPage(other: GuestMemory): number {
    if (this.procedural !== null) return firstDifferentState(this.procedural.heads, this.procedural.received);
    const chunk = 64 * 1024 * 1024;
    for (let i = 0; i < this.slots.length; i++) {
      const a = this.pages(i);
      const b = other.pages(i);
      for (let at = 0; at < a.length; at += chunk) {
        const end = Math.min(a.length, at + chunk);
        if (Buffer.compare(a.subarray(at, end), b.subarray(at, end)) !== 0) {
          const size = this.layout.pageSizeBytes;
          for (let p = at; p < end; p += size) {
            if (Buffer.compare(a.subarray(p, p + size), b.subarray(p, p + size)) !== 0) {
              return this.slots[i].layout.firstPage + p / size;
            }
          }
        }
      }
    }
    return -1;
  }
}

/** The first page whose received state is not the source's, or -1. */
function firstDifferentState(heads: Uint32Array, received: Uint32Array): number {
  const chunk = 16 * 1024 * 1024;
  const a = Buffer.from(heads.buffer, heads.byteOffset, heads.byteLength);
  const b = Buffer.from(received.buffer, received.byteOffset, received.byteLength);
  for (let at = 0; at < a.length; at += chunk) {
    const end = Math.min(a.length, at + chunk);
    if (Buffer.compare(a.subarray(at, end), b.subarray(at, end)) === 0) continue;
    for (let p = at / 4; p < end / 4; p++) if (heads[p] !== received[p]) return p;
  }
  return -1;
}
