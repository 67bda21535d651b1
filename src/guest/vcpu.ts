/**
 * One emulated vCPU's writes, the same code whether a worker thread paces them in real time
 * (writer-worker.ts) or the driver advances them in simulated time (simulated-guest.ts). A write
 * stores its bytes first and logs the page after: bitmap bit, then a summary bit (two-level) or a
 * push into the vCPU's dirty ring on the page's first write since it was reset (ring).
 */
import type { ContentMix, WritePattern } from '../config/types.js';
import type { GuestShape, SlotHandle } from '../protocol.js';
import type { MarkMode } from '../dirtylog/dirty-log.js';
import { pageChooser, type PageChooser } from './pattern.js';
import { pageKind, textCorpus, writeOfKind } from './content.js';
import { Xorshift128, deriveSeed } from '../util/prng.js';
import { HEAD, TAIL, ringViews, type RingViews } from '../dirtylog/ring.js';

export interface VcpuSpec {
  vcpu: number;
  vcpus: number;
  slots: SlotHandle[];
  guest: GuestShape;
  pattern: WritePattern;
  writeSizeBytes: number;
  seed: number;
  content: ContentMix;
  mark: MarkMode;
}

export class Vcpu {
  /** This vCPU's dirty ring (--dirty-log ring), else undefined. */
  readonly ring: RingViews | undefined;
  private readonly pages: Uint8Array[];
  private readonly bitmaps: Int32Array[];
  private readonly summaries: Int32Array[];
  /** Per slot, a byte per page: written since set-up filled it (SlotLayout.touchedPtr). */
  private readonly touched: Uint8Array[];
  private readonly rng: Xorshift128;
  private readonly choose: PageChooser;
  private readonly text = textCorpus();
  private readonly maxOffset: number;

  constructor(private readonly spec: VcpuSpec) {
    const size = spec.guest.pageSizeBytes;
    this.pages = spec.slots.map((s) => new Uint8Array(s.memory.buffer, s.layout.pagesPtr, s.layout.pageCount * size));
    this.bitmaps = spec.slots.map((s) => new Int32Array(s.memory.buffer, s.layout.bitmapPtr, s.layout.bitmapWords * 2));
    this.summaries = spec.slots.map((s) => new Int32Array(s.memory.buffer, s.layout.summaryPtr, s.layout.summaryWords * 2));
    this.touched = spec.slots.map((s) => new Uint8Array(s.memory.buffer, s.layout.touchedPtr, s.layout.pageCount));
    this.ring = spec.mark.kind === 'ring' ? ringViews(spec.mark.rings[spec.vcpu]) : undefined;
    this.rng = new Xorshift128(deriveSeed(spec.seed, 1000 + spec.vcpu));
    this.choose = pageChooser(spec.pattern, spec.guest.pageCount, spec.vcpu, spec.vcpus, this.rng);
    this.maxOffset = size - spec.writeSizeBytes;
  }

  /** Whether the next write may have to push into a full ring: the vCPU must stall first. */
  ringFull(): boolean {
    const r = this.ring;
    return r !== undefined && Atomics.load(r.i32, HEAD) - Atomics.load(r.i32, TAIL) >= r.size;
  }

  /**
   * One write; the caller has made sure the ring (if any) has room. `hold`, when given, runs once
   * the page is chosen and before its bytes change (another thread may still have to read that
   * page: src/guest/write-gate.ts).
   */
  write(hold?: (slot: number, localPage: number) => void): void {
    const { pageSizeBytes, pagesPerSlot } = this.spec.guest;
    const page = this.choose();
    const slot = Math.floor(page / pagesPerSlot);
    const local = page - slot * pagesPerSlot;
    hold?.(slot, local);
    const at = local * pageSizeBytes + (this.maxOffset > 0 ? this.rng.below(this.maxOffset + 1) : 0);
    this.touched[slot][local] = 1; // a plain store: every writer stores the same value
    writeOfKind(this.pages[slot], at, this.spec.writeSizeBytes, pageKind(this.spec.seed, page, this.spec.content), this.rng, this.text);
    // The bytes are stored; now log the write.
    const bit = 1 << (local & 31);
    const old = Atomics.or(this.bitmaps[slot], local >>> 5, bit);
    if (this.spec.mark.kind === 'two-level') {
      const word = local >>> 6;
      Atomics.or(this.summaries[slot], word >>> 5, 1 << (word & 31));
    } else if (this.ring !== undefined && (old & bit) === 0) {
      const r = this.ring;
      const head = r.i32[HEAD];
      r.entries[head & (r.size - 1)] = page;
      Atomics.store(r.i32, HEAD, head + 1);
    }
  }
}
