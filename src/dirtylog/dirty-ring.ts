/**
 * KVM's dirty ring: each vCPU pushes the pages it dirties into its own ring (src/dirtylog/ring.ts);
 * the driver harvests every ring into per-slot pending lists, at each fetch and whenever a vCPU is
 * stalled on a full ring. Between those, with --dirty-cost none every ring three-quarters full is
 * harvested too (an eager reaper: ring-full stalls are rare); with the KVM cost model, QEMU's reaper
 * thread harvests once a second (kvm_dirty_ring_reaper_thread), so a vCPU that dirties more than
 * its ring holds in that time exits on a full ring (KVM_EXIT_DIRTY_RING_FULL) and waits for the
 * harvest. QEMU resets the rings at each reap; here a harvested page stays write-protected
 * (its bitmap bit set: no second push) until it is reset just before its copy, as
 * KVM_RESET_DIRTY_RINGS does, so pending lists hold each page once.
 */
import type { GuestMemory } from '../memory/guest-memory.js';
import type { DirtyLog, DirtyLogRoundStats, MarkMode } from './dirty-log.js';
import type { DirtyCosts } from './cost-meter.js';
import { chargeEnable } from './bitmap.js';
import { HEAD, STALLED, STALLS, TAIL, createRing, ringDrain, ringFill, ringViews, type RingViews } from './ring.js';

/** QEMU's reaper thread sleeps this long between reaps, ms (kvm_dirty_ring_reaper_thread). */
const REAPER_PERIOD_MS = 1000;

export class DirtyRingLog implements DirtyLog {
  readonly name: DirtyLog['name'] = 'ring';
  readonly markMode: MarkMode;
  private readonly rings: RingViews[];
  /** Harvested pages per slot, slot-local, waiting for the next fetch. */
  private readonly pendingLists: Uint32Array[];
  private readonly pendingCounts: number[];
  /** Per slot, one byte per page: scratch for dropping duplicates. */
  private readonly seen: Uint8Array[];
  private lastStalls = 0;
  /** QEMU's reaper (the KVM cost model): when it last harvested, on the run's clock; null: the eager reaper. */
  private lastReapMs: number | null;
  private lastStallMs = 0;

  constructor(
    private readonly memory: GuestMemory,
    vcpus: number,
    ringSizeEntries: number,
    readonly costs: DirtyCosts,
  ) {
    const sabs = Array.from({ length: vcpus }, () => createRing(ringSizeEntries));
    this.markMode = { kind: 'ring', rings: sabs, cost: costs.vcpu };
    this.lastReapMs = costs.on ? 0 : null;
    this.rings = sabs.map(ringViews);
    // Each page is pending at most once, but for the duplicates start() may let through.
    this.pendingLists = memory.slots.map((s) => new Uint32Array(s.layout.pageCount + vcpus * ringSizeEntries));
    this.pendingCounts = memory.slots.map(() => 0);
    this.seen = memory.slots.map((s) => new Uint8Array(s.layout.pageCount));
  }

  start(): void {
    // Drop what the rings hold, then write-protect every page (clear its bit): logging starts
    // now. In this order a page pushed between the two may be pushed again after its bit is
    // cleared, a duplicate the lists have room for; the other order could lose a page.
    for (const r of this.rings) {
      Atomics.store(r.i32, TAIL, Atomics.load(r.i32, HEAD));
      Atomics.notify(r.i32, TAIL);
    }
    this.memory.clearDirtyLog();
    chargeEnable(this.memory, this.costs);
    this.pendingCounts.fill(0);
    this.takeRoundStats();
  }

  fetch(slot: number): number {
    if (slot === 0) this.harvest();
    const s = this.memory.slots[slot];
    const n = this.compact(slot);
    new Uint32Array(s.memory.buffer, s.layout.listPtr, n).set(this.pendingLists[slot].subarray(0, n));
    this.pendingCounts[slot] = 0;
    return n;
  }

  /**
   * Drops duplicates from a slot's pending list (a page pushed again around start(), or reset
   * and pushed again before it was fetched): a list names each page once, so it never holds more
   * than the slot's pages. Returns the new count.
   */
  private compact(slot: number): number {
    const pending = this.pendingLists[slot];
    const seen = this.seen[slot];
    let n = 0;
    for (let i = 0; i < this.pendingCounts[slot]; i++) {
      const page = pending[i];
      if (seen[page] === 0) {
        seen[page] = 1;
        pending[n++] = page;
      }
    }
    for (let i = 0; i < n; i++) seen[pending[i]] = 0;
    this.pendingCounts[slot] = n;
    return n;
  }

  beforeSend(slot: number, offset: number, count: number, firstRound: boolean): void {
    // Round 0 sends every page regardless of the rings; its list is not theirs to reset.
    if (firstRound) return;
    const l = this.memory.slots[slot].layout;
    const cleared = this.memory.kernels[slot].clearPages(l.bitmapPtr, l.listPtr + offset * 4, count);
    // KVM_RESET_DIRTY_RINGS's work on these pages: each harvested one write-protected again.
    this.costs.meter.charge('resetMs', cleared * this.costs.params.protectPerPageUs);
  }

  pending(): number {
    return this.pendingCounts.reduce((a, b) => a + b, 0) + this.rings.reduce((n, r) => n + ringFill(r), 0);
  }

  service(nowMs: number): void {
    const eager = this.lastReapMs === null;
    if (!eager && nowMs - (this.lastReapMs as number) >= REAPER_PERIOD_MS) {
      this.reap(nowMs);
      return;
    }
    for (const r of this.rings) {
      if (Atomics.load(r.i32, STALLED) === 1 || (eager && ringFill(r) * 4 >= r.size * 3)) {
        this.reap(nowMs);
        return;
      }
    }
  }

  /** A harvest outside a fetch (the reaper's, or a full ring's). */
  private reap(nowMs: number): void {
    if (this.lastReapMs !== null) this.lastReapMs = nowMs;
    this.harvest();
  }

  takeRoundStats(): DirtyLogRoundStats {
    const stalls = this.rings.reduce((n, r) => n + Atomics.load(r.i32, STALLS), 0);
    const stallMs = this.rings.reduce((n, r) => n + r.stallMs[0], 0);
    const stats = { ringFullStalls: stalls - this.lastStalls, ringStallMs: stallMs - this.lastStallMs };
    this.lastStalls = stalls;
    this.lastStallMs = stallMs;
    return stats;
  }

  /**
   * A reap: moves every ring's entries to the pending lists and frees the rings (unstalling vCPUs).
   * Charged as QEMU's kvm_dirty_ring_reap costs: its entry, each entry collected, and one
   * KVM_RESET_DIRTY_RINGS (whose per-page re-protection is charged before each copy, beforeSend).
   */
  private harvest(): void {
    this.costs.meter.charge('syncMs', this.costs.params.syncUs);
    this.costs.meter.charge('resetMs', this.costs.params.resetUs);
    const pagesPerSlot = this.memory.layout.pagesPerSlot;
    let entries = 0;
    for (const r of this.rings) {
      ringDrain(r, (page) => {
        entries++;
        const slot = Math.floor(page / pagesPerSlot);
        if (this.pendingCounts[slot] === this.pendingLists[slot].length) this.compact(slot);
        this.pendingLists[slot][this.pendingCounts[slot]++] = page - slot * pagesPerSlot;
      });
    }
    this.costs.meter.charge('harvestMs', entries * this.costs.params.harvestPerEntryUs);
  }
}
