/**
 * Simulated time's rule that a frame stands for its pages' bytes at the instant it is sent, kept
 * while other threads read those pages later in wall time: the receiving thread (page-reference
 * frames) and the encoder threads (--compress-threads). Each registers the pages it has yet to
 * read; the simulated guest, on the driver's thread, asks before every write and waits (in wall
 * time only; simulated time stands still) until the reader is done with that page. The guest and
 * the readers meet here and never call one another.
 */

/** A reader's progress: a counter in shared memory that it raises as it finishes frames. */
export interface ReadProgress {
  /** Whether the reader has finished its frame number `frame`. */
  done(frame: number): boolean;
  /** Blocks this thread until it has (a bounded wait: throws if the reader makes no progress). */
  wait(frame: number): void;
}

interface Held {
  progress: ReadProgress;
  frame: number;
  slot: number;
  min: number;
  max: number;
  pages: Uint32Array;
}

export class WriteGate {
  private readonly held: Held[] = [];

  /** `pages` (slot-local) of `slot` are read by `progress`'s frame number `frame`. */
  hold(progress: ReadProgress, frame: number, slot: number, pages: Uint32Array): void {
    let min = Infinity;
    let max = -1;
    for (const p of pages) {
      if (p < min) min = p;
      if (p > max) max = p;
    }
    this.held.push({ progress, frame, slot, min, max, pages: pages.slice() });
  }

  /** Called before the guest writes page `localPage` of `slot`: waits while a reader has yet to read it. */
  beforeWrite(slot: number, localPage: number): void {
    if (this.held.length === 0) return;
    this.forgetDone();
    for (const h of this.held) {
      if (
        h.slot === slot &&
        localPage >= h.min &&
        localPage <= h.max &&
        !h.progress.done(h.frame) &&
        h.pages.includes(localPage)
      ) {
        h.progress.wait(h.frame);
      }
    }
  }

  /** Drops what readers have finished. */
  private forgetDone(): void {
    let w = 0;
    for (const h of this.held) if (!h.progress.done(h.frame)) this.held[w++] = h;
    this.held.length = w;
  }
}
