/**
 * One emulated vCPU's writes, the same code whether a worker thread paces them in real time
 * (writer-worker.ts) or the driver advances them in simulated time (simulated-guest.ts). A write
 * stores its bytes first and logs the page after: bitmap bit, then a summary bit (two-level) or a
 * push into the vCPU's dirty ring on the page's first write since it was reset (ring).
 */
import type { SlotHandle } from '../memory/layout.js';
import type { MarkMode } from '../dirtylog/dirty-log.js';
import { HEAD, TAIL, ringPush, ringViews, type RingViews } from '../dirtylog/ring.js';
import { WriteStream, type WriteStreamSpec } from './write-stream.js';
import { ProceduralMemory } from '../memory/procedural.js';
import { TraceCursor, type TraceWorkload } from '../trace/replay.js';
import { FAULTS, FAULT_MS, RING_EXITS, RING_EXIT_MS, loggingFlag, vcpuCounters } from '../dirtylog/cost-meter.js';

/** A write stream's spec, plus where the vCPU writes and how it logs a write. */
export interface VcpuSpec extends WriteStreamSpec {
  slots: SlotHandle[];
  mark: MarkMode;
  /** A recorded trace whose share this vCPU replays in place of its write stream; null: none. */
  trace: TraceWorkload | null;
}

export class Vcpu {
  /** This vCPU's dirty ring (--dirty-log ring), else undefined. */
  readonly ring: RingViews | undefined;
  private readonly pages: Uint8Array[];
  /** Where a write goes when the pages are procedural (src/memory/procedural.ts); null: into `pages`. */
  private readonly procedural: ProceduralMemory | null;
  private readonly bitmaps: Int32Array[];
  private readonly summaries: Int32Array[];
  /** Per slot, a byte per page: written since set-up filled it (SlotLayout.touchedPtr). */
  private readonly touched: Uint8Array[];
  private readonly stream: WriteStream;
  /** With a trace workload: this vCPU's share of it (pages and bytes as recorded); null: the stream's writes. */
  readonly trace: TraceCursor | null;
  /** This vCPU's dirty-tracking cost counters (src/dirtylog/cost.ts), or null: it pays nothing. */
  private readonly costCounters: Float64Array | null;
  private readonly logging: Float64Array | null;
  private readonly faultMs: number;
  private readonly ringFullExitMs: number;

  constructor(private readonly spec: VcpuSpec) {
    const size = spec.guest.pageSizeBytes;
    this.procedural = spec.procedural ? new ProceduralMemory(spec.procedural) : null;
    this.pages = this.procedural
      ? []
      : spec.slots.map((s) => new Uint8Array(s.memory.buffer, s.layout.pagesPtr, s.layout.pageCount * size));
    this.bitmaps = spec.slots.map((s) => new Int32Array(s.memory.buffer, s.layout.bitmapPtr, s.layout.bitmapWords * 2));
    this.summaries = spec.slots.map(
      (s) => new Int32Array(s.memory.buffer, s.layout.summaryPtr, s.layout.summaryWords * 2),
    );
    this.touched = this.procedural
      ? []
      : spec.slots.map((s) => new Uint8Array(s.memory.buffer, s.layout.touchedPtr, s.layout.pageCount));
    this.ring = spec.mark.kind === 'ring' ? ringViews(spec.mark.rings[spec.vcpu]) : undefined;
    this.stream = new WriteStream(spec, 1000);
    this.trace = spec.trace ? new TraceCursor(spec.trace, spec.vcpu, spec.vcpus) : null;
    const cost = spec.mark.cost;
    this.costCounters = cost ? vcpuCounters(cost, spec.vcpu) : null;
    this.logging = cost ? loggingFlag(cost) : null;
    this.faultMs = cost?.faultMs ?? 0;
    this.ringFullExitMs = cost?.ringFullExitMs ?? 0;
  }

  /** A ring-full exit to userspace and back (the wait for the harvest apart): counts it, returns its ms. */
  ringFullExit(): number {
    const c = this.costCounters;
    if (c === null || this.ringFullExitMs === 0) return 0;
    c[RING_EXITS]++;
    c[RING_EXIT_MS] += this.ringFullExitMs;
    return this.ringFullExitMs;
  }

  /** Whether the next write may have to push into a full ring: the vCPU must stall first. */
  ringFull(): boolean {
    const r = this.ring;
    return r !== undefined && Atomics.load(r.i32, HEAD) - Atomics.load(r.i32, TAIL) >= r.size;
  }

  /**
   * One write; the caller has made sure the ring (if any) has room. `hold`, when given, runs once
   * the page is chosen and before its bytes change (another thread may still have to read that
   * page: src/memory/write-gate.ts). Returns the milliseconds the write cost the vCPU beyond its
   * pace: a write-protect fault when the page's bit was clear (src/dirtylog/cost.ts), else 0.
   */
  write(hold?: (slot: number, localPage: number) => void): number {
    const trace = this.trace;
    const page = trace ? trace.page() : this.stream.choose();
    const { slot, local } = this.stream.place(page);
    hold?.(slot, local);
    if (this.procedural) {
      this.stream.writeLogged(this.procedural, page);
    } else {
      this.touched[slot][local] = 1; // a plain store: every writer stores the same value
      if (trace) trace.writeInto(this.pages[slot], local * this.spec.guest.pageSizeBytes);
      else this.stream.write(this.pages[slot], page, local);
    }
    // The bytes are stored; now log the write.
    const bit = 1 << (local & 31);
    const old = Atomics.or(this.bitmaps[slot], local >>> 5, bit);
    if (this.spec.mark.kind === 'two-level') {
      const word = local >>> 6;
      Atomics.or(this.summaries[slot], word >>> 5, 1 << (word & 31));
    } else if (this.ring !== undefined && (old & bit) === 0) {
      ringPush(this.ring, page);
    }
    // The page was write-protected (its bit clear since the last fetch, clear or reset): a fault.
    const c = this.costCounters;
    if (c === null || this.faultMs === 0 || (old & bit) !== 0 || (this.logging as Float64Array)[0] !== 1) return 0;
    c[FAULTS]++;
    c[FAULT_MS] += this.faultMs;
    return this.faultMs;
  }
}
