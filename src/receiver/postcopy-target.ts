/**
 * Post-copy on the receiver: after the switch-over the guest runs here. Its vCPUs (worker threads,
 * src/guest/postcopy-vcpu.ts) write the target's memory, continuing the source's write streams;
 * a vCPU that touches a page the discard frames marked missing pushes a request and blocks until
 * the page arrives. This side sends each request to the source at once (the TCP connection's return
 * direction, as QEMU's return path carries a userfaultfd fault), marks pages as they land, and in
 * the end stops the guest, puts back the pages as they arrived before the guest wrote them (the
 * MAC then covers exactly what the source sent) and reports what the guest did.
 */
import type { GuestMemory } from '../memory/guest-memory.js';
import { RunningGuest } from '../guest/guest.js';
import { HEAD, STALLS, TAIL, createRing, ringDrain, ringViews, type RingViews } from '../dirtylog/ring.js';
import type { PostcopyReport } from '../wire/postcopy.js';
import type { AdvisedGuest } from '../channel/postcopy-advise.js';

/** Requests a vCPU can have outstanding: it blocks on one page at a time. */
const REQUEST_RING_ENTRIES = 16;
/** How often a request pump looks again with nothing pushed (it is woken on a push). */
const PUMP_WAKE_MS = 100;

export class PostcopyTarget {
  private readonly rings: RingViews[];
  private readonly guest: RunningGuest;
  /** Per page: 1 while it is missing (marked by a discard frame, not arrived since). */
  private readonly missing: Uint8Array;
  private readonly pristine: SharedArrayBuffer[];
  private missingLeft = 0;
  private resumedAtMs: number | null = null;
  private lastArrival: { atMs: number; writes: number } | null = null;
  private stopped = false;

  constructor(
    private readonly memory: GuestMemory,
    advised: AdvisedGuest,
    /** Sends a request for a global page number to the source. */
    private readonly request: (page: number) => void,
  ) {
    const { layout } = memory;
    for (const s of memory.slots) {
      // The "not arrived" bits and the pristine states start clear (a pooled memory held another guest).
      new Uint8Array(s.memory.buffer, s.layout.bitmapPtr, s.layout.bitmapWords * 8).fill(0);
      new Uint8Array(s.memory.buffer, s.layout.touchedPtr, s.layout.pageCount).fill(0);
    }
    this.missing = new Uint8Array(layout.pageCount);
    // Untouched pages of a fresh buffer are never committed: the room costs what the guest writes.
    this.pristine = memory.slots.map((s) => new SharedArrayBuffer(s.layout.pageCount * layout.pageSizeBytes));
    const requestRings = advised.sourceWrites.map(() => createRing(REQUEST_RING_ENTRIES));
    this.rings = requestRings.map(ringViews);
    const sourceWrites = new SharedArrayBuffer(8 * advised.guest.vcpus);
    new Float64Array(sourceWrites).set(advised.sourceWrites);
    this.guest = new RunningGuest(
      { ...advised.guest, procedural: null, trace: null },
      { targetSlots: memory.slots, shadowSlots: [], pristine: this.pristine, requestRings, sourceWrites },
      { pageCount: layout.pageCount, pagesPerSlot: layout.pagesPerSlot, pageSizeBytes: layout.pageSizeBytes },
    );
    for (const r of this.rings) void this.pump(r);
  }

  /** A discard frame's page: the target's copy is stale, the guest must wait for it. */
  markMissing(page: number): void {
    if (this.missing[page] === 1) return;
    this.missing[page] = 1;
    this.missingLeft++;
    const { pagesPerSlot } = this.memory.layout;
    const slot = this.memory.slots[Math.floor(page / pagesPerSlot)];
    const local = page % pagesPerSlot;
    const bits = new Int32Array(slot.memory.buffer, slot.layout.bitmapPtr, slot.layout.bitmapWords * 2);
    Atomics.or(bits, local >>> 5, 1 << (local & 31));
  }

  /** A page landed (the frame receiver has cleared its bit and woken its waiters). */
  arrived(page: number): void {
    if (this.missing[page] === 0) return;
    this.missing[page] = 0;
    if (--this.missingLeft === 0) this.lastArrival = { atMs: performance.now(), writes: this.guest.totalWrites() };
  }

  get pagesMissing(): number {
    return this.missingLeft;
  }

  started(): Promise<void> {
    return this.guest.started();
  }

  /** The end of migration arrived: the guest runs here from now on. */
  resume(): void {
    this.resumedAtMs = performance.now();
    if (this.missingLeft === 0) this.lastArrival = { atMs: this.resumedAtMs, writes: 0 };
    this.guest.resume();
  }

  get resumed(): boolean {
    return this.resumedAtMs !== null;
  }

  /**
   * Every page is here: stops the guest, puts the pages it wrote back as they arrived, and reports
   * what it did. Memory then holds what the source sent.
   */
  async finish(): Promise<PostcopyReport> {
    const stats = this.stats();
    const report = await this.stop();
    this.restorePristine();
    const resumedAt = this.resumedAtMs ?? performance.now();
    const last = this.lastArrival ?? { atMs: resumedAt, writes: 0 };
    return {
      ...stats,
      postcopyPageWrites: last.writes,
      postcopyMs: Math.max(0, last.atMs - resumedAt),
      pageWrites: report.pageWrites,
      achievedPageWritesPerSec: report.achievedPageWritesPerSec,
    };
  }

  /** Stops the guest for good (a failed migration: it stays where it was, its pages incomplete). */
  async stop(): Promise<{ pageWrites: number; achievedPageWritesPerSec: number }> {
    if (this.stopped) return { pageWrites: 0, achievedPageWritesPerSec: 0 };
    this.stopped = true;
    return this.guest.shutdown();
  }

  private stats(): Pick<PostcopyReport, 'requests' | 'blockedMsPerVcpu'> {
    return {
      requests: this.rings.reduce((n, r) => n + Atomics.load(r.i32, STALLS), 0),
      blockedMsPerVcpu: this.rings.map((r) => r.stallMs[0]),
    };
  }

  private restorePristine(): void {
    const size = this.memory.layout.pageSizeBytes;
    this.memory.slots.forEach((s, i) => {
      const state = new Uint8Array(s.memory.buffer, s.layout.touchedPtr, s.layout.pageCount);
      const pages = new Uint8Array(s.memory.buffer, s.layout.pagesPtr, s.layout.pageCount * size);
      const kept = new Uint8Array(this.pristine[i]);
      for (let local = 0; local < s.layout.pageCount; local++) {
        if (state[local] === 2) pages.set(kept.subarray(local * size, (local + 1) * size), local * size);
      }
    });
  }

  /** Sends each request as a vCPU pushes it (woken by the push, as a fault wakes QEMU's fault thread). */
  private async pump(r: RingViews): Promise<void> {
    while (!this.stopped) {
      const head = Atomics.load(r.i32, HEAD);
      if (head !== Atomics.load(r.i32, TAIL)) {
        ringDrain(r, (page) => this.request(page));
        continue;
      }
      const w = Atomics.waitAsync(r.i32, HEAD, head, PUMP_WAKE_MS);
      if (w.async) await w.value;
    }
  }
}
