/**
 * Post-copy: after the switch-over the guest runs on the target while the pages it lacks are
 * pushed in the background; a page a vCPU blocks on is requested and goes first (QEMU's urgent
 * queue). The driver's half: the missing set, the push loop, and what it counts.
 */
import type { GuestMemory } from '../memory/guest-memory.js';
import type { Sender } from './sender.js';
import type { DirtyLog } from '../dirtylog/dirty-log.js';
import type { PostcopyPlacement } from '../guest/guest.js';
import { STALLS, createRing, ringDrain, ringViews, type RingViews } from '../dirtylog/ring.js';

/** Requests a vCPU can have outstanding: it blocks on one page at a time. */
const REQUEST_RING_ENTRIES = 16;

export class PostcopyPush {
  readonly requestRings: SharedArrayBuffer[];
  private readonly rings: RingViews[];
  /** Per slot: the missing pages in push order, and which pages have been sent. */
  private readonly backlog: Uint32Array[] = [];
  private readonly sent: Uint8Array[];
  private cursor: number[] = [];
  pagesSentOnRequest = 0;
  pagesPushed = 0;
  missingAtResume = 0;

  constructor(
    private readonly source: GuestMemory,
    private readonly target: GuestMemory,
    vcpus: number,
  ) {
    this.requestRings = Array.from({ length: vcpus }, () => createRing(REQUEST_RING_ENTRIES));
    this.rings = this.requestRings.map(ringViews);
    this.sent = source.slots.map((s) => new Uint8Array(s.layout.pageCount));
  }

  /**
   * The guest is suspended: `count` pages of each slot's list (the final dirty fetch) are what the
   * target lacks. Marks them missing on the target before its guest runs.
   */
  private setMissing(slot: number, count: number): void {
    const s = this.source.slots[slot];
    const list = new Uint32Array(s.memory.buffer, s.layout.listPtr, count).slice();
    const t = this.target.slots[slot];
    const missing = new Int32Array(t.memory.buffer, t.layout.bitmapPtr, t.layout.bitmapWords * 2);
    missing.fill(0);
    for (const local of list) Atomics.or(missing, local >>> 5, 1 << (local & 31));
    this.backlog[slot] = list;
    this.cursor[slot] = 0;
    this.missingAtResume += count;
  }

  /** Marks what each slot's dirty log holds now (or every page, after no pre-copy round) missing; returns how many. */
  markMissing(sender: Sender, dirtyLog: DirtyLog, noPrecopy: boolean): number {
    let missing = 0;
    this.source.slots.forEach((_, i) => {
      const n = noPrecopy ? sender.listAllPages(i) : dirtyLog.fetch(i);
      this.setMissing(i, n);
      missing += n;
    });
    return missing;
  }

  /** Where the post-copy guest runs: the target's memory, the source's as its mirror, the request rings. */
  placement(): PostcopyPlacement {
    return { targetSlots: this.target.slots, shadowSlots: this.source.slots, requestRings: this.requestRings };
  }

  /** Sends everything missing, requested pages first; `round` labels the frames. */
  async pushAll(sender: Sender, round: number): Promise<void> {
    for (;;) {
      if (await this.serveRequests(sender, round)) continue;
      const slot = this.backlog.findIndex((b, i) => b !== undefined && this.cursor[i] < b.length);
      if (slot < 0) break;
      const l = this.source.slots[slot].layout;
      const list = new Uint32Array(this.source.slots[slot].memory.buffer, l.listPtr, l.pagesPerFrame);
      let n = 0;
      const b = this.backlog[slot];
      while (n < l.pagesPerFrame && this.cursor[slot] < b.length) {
        const page = b[this.cursor[slot]++];
        if (this.sent[slot][page]) continue;
        this.sent[slot][page] = 1;
        list[n++] = page;
      }
      if (n > 0) {
        await sender.sendList(slot, n, round);
        this.pagesPushed += n;
      }
    }
  }

  /** Sends the pages vCPUs asked for that have not gone yet; true if it sent any. */
  private async serveRequests(sender: Sender, round: number): Promise<boolean> {
    const pagesPerSlot = this.source.layout.pagesPerSlot;
    const wanted = new Map<number, number[]>();
    for (const r of this.rings) {
      ringDrain(r, (page) => {
        const slot = Math.floor(page / pagesPerSlot);
        const local = page - slot * pagesPerSlot;
        if (this.sent[slot][local]) return;
        this.sent[slot][local] = 1;
        const pages = wanted.get(slot) ?? [];
        pages.push(local);
        wanted.set(slot, pages);
      });
    }
    for (const [slot, pages] of wanted) {
      const l = this.source.slots[slot].layout;
      new Uint32Array(this.source.slots[slot].memory.buffer, l.listPtr, pages.length).set(pages);
      await sender.sendList(slot, pages.length, round);
      this.pagesSentOnRequest += pages.length;
    }
    return wanted.size > 0;
  }

  requests(): number {
    return this.rings.reduce((n, r) => n + Atomics.load(r.i32, STALLS), 0);
  }

  blockedMsPerVcpu(): number[] {
    return this.rings.map((r) => r.stallMs[0]);
  }
}
