/**
 * A trace as a guest's workload (`--workload trace:FILE`): the recorded changes, replayed at their
 * recorded times. Interval k's n pages are written one after another, spread evenly over it
 * (page j at start + (j + 0.5) x duration / n), each write XORing the recorded change into the
 * page (format.ts): from the recorded initial content, the page then holds the bytes recorded, so
 * every codec and dirty log sees the true pages and the true bytes. (Nothing else writes a trace
 * guest's pages, and a page's changes stay in order on its vCPU.) With several vCPUs,
 * page p is vCPU (p mod vCPUs)'s: the writes of one page stay in order on one vCPU, and the
 * vCPUs together write the trace's pages at the trace's instants. `--trace-loop` starts over after
 * the last interval (the recorded changes applied again); without it the guest goes idle then.
 *
 * A cursor reads one record at a time (at most 16 MiB of pages): memory stays bounded whatever the
 * trace's length.
 */
import { TraceFile, type TraceInterval } from './reader.js';

export interface TraceWorkload {
  /** The trace file, an absolute path. */
  file: string;
  /** Replay speed: 2 plays the recorded writes in half the time. */
  speed: number;
  /** Start over after the last interval. */
  loop: boolean;
}

/** One vCPU's share of a trace, in order: when its next write is, which page, what bytes. */
export class TraceCursor {
  private readonly trace: TraceFile;
  private readonly intervals: readonly TraceInterval[];
  private readonly pageSizeBytes: number;
  /** Where the cursor is: the pass over the trace (loops), the interval, its record, and in it. */
  private pass = 0;
  private interval = 0;
  private record = 0;
  private index = -1;
  private pages: Uint32Array = new Uint32Array(0);
  private bytes: Uint8Array = new Uint8Array(0);
  /** The next write's place in the record, or -1 when the trace is done. */
  private next = -1;
  /** A write of this vCPU's was found in the current pass (a looped trace with none for it ends). */
  private foundInPass = false;
  private readonly hasWrites: boolean;

  constructor(
    workload: TraceWorkload,
    private readonly vcpu: number,
    private readonly vcpus: number,
  ) {
    this.trace = TraceFile.open(workload.file);
    this.loop = workload.loop;
    this.intervals = this.trace.intervals;
    this.pageSizeBytes = this.trace.pageSizeBytes;
    this.hasWrites = this.intervals.some((iv) => iv.pages > 0);
    this.advance();
  }

  private readonly loop: boolean;

  /** Trace time of the next write (ms since the trace began, loops included); Infinity when none is left. */
  nextMs(): number {
    if (this.next < 0) return Infinity;
    const iv = this.intervals[this.interval];
    const rec = iv.records[this.record].meta;
    const ordinal = rec.from + this.next;
    return this.pass * this.trace.durationMs + iv.startMs + ((ordinal + 0.5) * iv.durationMs) / iv.pages;
  }

  /** The next write's global page. */
  page(): number {
    return this.pages[this.next];
  }

  /** Applies the next write's change to the page at `offset` of `into` (its place), and moves on. */
  writeInto(into: Uint8Array, offset: number): void {
    const size = this.pageSizeBytes;
    const delta = this.bytes.subarray(this.next * size, (this.next + 1) * size);
    // In words where the page's place allows (it does for guest pages): 4 bytes at a time.
    if ((into.byteOffset + offset) % 4 === 0 && delta.byteOffset % 4 === 0) {
      const to = new Uint32Array(into.buffer, into.byteOffset + offset, size / 4);
      const d = new Uint32Array(delta.buffer, delta.byteOffset, size / 4);
      for (let w = 0; w < d.length; w++) to[w] ^= d[w];
    } else {
      for (let i = 0; i < size; i++) into[offset + i] ^= delta[i];
    }
    this.advance();
  }

  close(): void {
    this.trace.close();
  }

  /** Moves to this vCPU's next write: in the record, or in the next records and intervals. */
  private advance(): void {
    if (!this.hasWrites) {
      this.next = -1;
      return;
    }
    for (;;) {
      for (let i = this.next + 1; i < this.pages.length; i++) {
        if (this.pages[i] % this.vcpus === this.vcpu) {
          this.next = i;
          this.foundInPass = true;
          return;
        }
      }
      // The record is done: the next one, of this interval or the next, or the trace's next pass.
      if (this.index >= 0) {
        this.record++;
        if (this.record >= this.intervals[this.interval].records.length) {
          this.record = 0;
          this.interval++;
        }
        if (this.interval >= this.intervals.length) {
          if (!this.loop || !this.foundInPass) {
            this.next = -1;
            this.pages = new Uint32Array(0);
            this.bytes = new Uint8Array(0);
            return;
          }
          this.interval = 0;
          this.pass++;
          this.foundInPass = false;
        }
      }
      this.index = 0;
      const { pages, bytes } = this.trace.changedPages(this.intervals[this.interval].records[this.record]);
      this.pages = pages;
      this.bytes = bytes;
      this.next = -1;
    }
  }
}

/** Writes a trace's initial content into a guest's pages: `place(page)` gives the page's bytes to fill. */
export function loadInitialContent(file: string, place: (page: number) => Uint8Array): void {
  const trace = TraceFile.open(file);
  try {
    const size = trace.pageSizeBytes;
    for (const record of trace.content) {
      const { pages, bytes } = trace.contentPages(record);
      for (let i = 0; i < pages.length; i++) place(pages[i]).set(bytes.subarray(i * size, (i + 1) * size));
    }
  } finally {
    trace.close();
  }
}
