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
import { addTotals, noTotals, type SendTotals } from '../precopy/port.js';
import type { RemotePostcopy } from '../channel/transport.js';

/** Requests a vCPU can have outstanding: it blocks on one page at a time. */
const REQUEST_RING_ENTRIES = 16;

export class PostcopyPush {
  readonly requestRings: SharedArrayBuffer[];
  /** Float64 per vCPU: the source's vCPUs' writes at the switch (PostcopyPlacement.sourceWrites). */
  readonly sourceWrites: SharedArrayBuffer;
  private readonly rings: RingViews[];
  /** Per slot: the missing pages in push order, and which pages have been sent. */
  private readonly backlog: Uint32Array[] = [];
  private readonly sent: Uint8Array[];
  private cursor: number[] = [];
  /** The slot the background sweep is in (it goes round the slots from there). */
  private sweepSlot = 0;
  pagesSentOnRequest = 0;
  pagesPushed = 0;
  missingAtResume = 0;
  /** Everything sent after the switch, by codec. */
  readonly sentTotals: SendTotals = noTotals();

  constructor(
    private readonly source: GuestMemory,
    /** The target's memory where it is in this process; null where it is on another host (`remote`). */
    private readonly target: GuestMemory | null,
    vcpus: number,
    /**
     * QEMU's sweep: after a requested page, the background push goes on from just after it ("the
     * guest is likely to want other pages near to the page it just requested", ram.c
     * get_queued_page), round the slots; otherwise it keeps its own order.
     */
    private readonly sweepFollowsRequests = false,
    /** A target on another host: its requests come over the network, its counts in its report. */
    private readonly remote?: RemotePostcopy,
  ) {
    this.requestRings = remote ? [] : Array.from({ length: vcpus }, () => createRing(REQUEST_RING_ENTRIES));
    this.sourceWrites = new SharedArrayBuffer(8 * vcpus);
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
    if (this.target) {
      const t = this.target.slots[slot];
      const missing = new Int32Array(t.memory.buffer, t.layout.bitmapPtr, t.layout.bitmapWords * 2);
      missing.fill(0);
      for (const local of list) Atomics.or(missing, local >>> 5, 1 << (local & 31));
    }
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

  /** The loop has listed what each slot lacks (ascending) in its page list: `counts` per slot. Returns the total. */
  setMissingLists(counts: readonly number[]): number {
    counts.forEach((n, slot) => this.setMissing(slot, n));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** The source's vCPUs' writes when it stopped: the target's vCPUs go on from there. */
  continueFrom(writesPerVcpu: readonly number[]): void {
    new Float64Array(this.sourceWrites).set(writesPerVcpu);
  }

  /** The global numbers of the pages the target lacks (a remote target learns them in discard frames). */
  *missingPages(): Generator<number> {
    const perSlot = this.source.layout.pagesPerSlot;
    for (const [slot, list] of this.backlog.entries()) for (const local of list ?? []) yield slot * perSlot + local;
  }

  /** Where the post-copy guest runs: the target's memory, the source's as its mirror, the request rings. */
  placement(): PostcopyPlacement {
    if (!this.target) throw new Error("the target's guest runs on another host");
    return {
      targetSlots: this.target.slots,
      shadowSlots: this.source.slots,
      requestRings: this.requestRings,
      sourceWrites: this.sourceWrites,
    };
  }

  /**
   * Sends everything missing, requested pages first; `round` labels the frames. `beforeFrame`
   * hears how many pages are left before each background frame (QEMU's end rule).
   */
  async pushAll(sender: Sender, round: number, beforeFrame?: (leftPages: number) => void): Promise<void> {
    let left = this.missingAtResume;
    const slots = this.backlog.length;
    let empty = 0;
    for (;;) {
      const served = await this.serveRequests(sender, round);
      left -= served;
      if (served > 0) continue;
      if (left <= 0) break;
      // The sweep's slot, or the next with pages left in its order (round the slots).
      let slot = this.sweepSlot;
      while (this.backlog[slot] === undefined || this.cursor[slot] >= this.backlog[slot].length) {
        slot = (slot + 1) % slots;
        if (this.cursor[slot] >= (this.backlog[slot]?.length ?? 0)) this.cursor[slot] = 0; // wrapped: from its start
        if (slot === this.sweepSlot) break;
      }
      this.sweepSlot = slot;
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
        beforeFrame?.(left);
        addTotals(this.sentTotals, await sender.sendList(slot, n, round));
        this.pagesPushed += n;
        left -= n;
        empty = 0;
      } else if (++empty > slots) break; // round every slot, nothing unsent: all has gone
    }
  }

  /** Sends the pages vCPUs asked for that have not gone yet; true if it sent any. */
  private async serveRequests(sender: Sender, round: number): Promise<number> {
    const pagesPerSlot = this.source.layout.pagesPerSlot;
    const wanted = new Map<number, number[]>();
    const want = (page: number): void => {
      const slot = Math.floor(page / pagesPerSlot);
      const local = page - slot * pagesPerSlot;
      if (this.sent[slot][local]) return;
      this.sent[slot][local] = 1;
      if (this.sweepFollowsRequests) this.sweepAfter(slot, local);
      const pages = wanted.get(slot) ?? [];
      pages.push(local);
      wanted.set(slot, pages);
    };
    for (const r of this.rings) ringDrain(r, want);
    this.remote?.drainRequests(want);
    let served = 0;
    for (const [slot, pages] of wanted) {
      const l = this.source.slots[slot].layout;
      new Uint32Array(this.source.slots[slot].memory.buffer, l.listPtr, pages.length).set(pages);
      addTotals(this.sentTotals, await sender.sendList(slot, pages.length, round));
      this.pagesSentOnRequest += pages.length;
      served += pages.length;
    }
    return served;
  }

  /** The background sweep goes on from just after `local` in `slot` (its backlog is ascending there). */
  private sweepAfter(slot: number, local: number): void {
    const b = this.backlog[slot];
    if (b === undefined) return;
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (b[mid] <= local) lo = mid + 1;
      else hi = mid;
    }
    this.sweepSlot = slot;
    this.cursor[slot] = lo;
  }

  /** Pages the target lacks that have not been sent yet. */
  pagesLeft(): number {
    return this.missingAtResume - this.pagesPushed - this.pagesSentOnRequest;
  }

  /** Pages the target's vCPUs requested (a remote target's, once its report came). */
  requests(): number {
    if (this.remote) return this.remote.report()?.requests ?? 0;
    return this.rings.reduce((n, r) => n + Atomics.load(r.i32, STALLS), 0);
  }

  blockedMsPerVcpu(): number[] {
    if (this.remote) return this.remote.report()?.blockedMsPerVcpu ?? [];
    return this.rings.map((r) => r.stallMs[0]);
  }
}
