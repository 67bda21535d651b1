/**
 * QEMU 10.0's pre-copy loop (docs/qemu-precopy.md, sections 1-3, read from migration/migration.c
 * and migration/ram.c): not "send every dirty page, then sync".
 * - QEMU keeps its own bitmap of pages to send, all set at set-up. A sync (migration_bitmap_sync)
 *   fetches the dirty log and sets the bits of pages written since; only newly set bits count.
 * - A sync happens when the estimate of what remains (set bits x page size) is below the
 *   threshold (migration_iteration_run); then, if what remains is still below it, or is nothing,
 *   the guest is stopped. Both comparisons are strict.
 * - Pages go from a circular cursor that no sync resets (ram_find_and_save_block): pages dirty at a
 *   sync and not yet sent wait for the cursor; a full circle that finds nothing ends an iteration.
 * - An iteration (ram_save_iterate) sends until the rate limit's window budget is spent, or for at
 *   most 50 ms. The rate limit allows max-bandwidth / 10 bytes per 100 ms window; past it the
 *   migration sleeps to the window's end. When a window of at least 100 ms closes, its bandwidth
 *   (all bytes on the wire / its length, no smoothing) sets threshold = bandwidth x downtime limit.
 * - The threshold starts at 0, so no sync happens until the first window has closed.
 * - Completion (ram_save_complete) syncs a last time and sends every set bit, unthrottled.
 * The switch-over rule is QEMU's own; --policy does not apply (the resolver says so).
 */
import type { PrecopyContext, PrecopyLoop, PrecopyOutcome } from './loop.js';
import type { IterationRecord } from '../result/schema.js';
import type { SendTotals } from '../driver/sender.js';
import type { RoundProbe } from '../driver/rounds.js';
import { addTotals } from '../driver/rounds.js';
import { formatBytes } from '../util/format.js';

/** BUFFER_DELAY: the rate limit's and the bandwidth's window, ms (migration-stats.h). */
const WINDOW_MS = 100;
/** MAX_WAIT: the longest one iteration sends, ms (ram.c). */
const MAX_WAIT_MS = 50;
/** Pages packed into one frame while iterating: small, so a window's budget is overshot by little (QEMU checks before every page). */
const ITERATE_FRAME_PAGES = 32;

export class QemuLoop implements PrecopyLoop {
  readonly name = 'qemu';
  /** Per slot, a byte per page: 1 while QEMU's bitmap says it is to be sent. */
  private bmap: Uint8Array[] = [];
  private toSend = 0;
  private cursorSlot = 0;
  private cursorPage = 0;
  private syncs = 0;

  async run(ctx: PrecopyContext): Promise<PrecopyOutcome> {
    const { source, sender, clock, rounds, settings, controls } = ctx;
    const pageBytes = settings.pageSizeBytes;
    // Set-up: every page to send; the set-up sync (dirty logging has just started).
    this.bmap = source.slots.map((s) => new Uint8Array(s.layout.pageCount).fill(1));
    this.toSend = source.layout.pageCount;
    this.sync(ctx);
    const windowBudget = settings.maxBandwidthBitsPerSec === null ? Infinity : settings.maxBandwidthBitsPerSec / 8 / 10;
    let threshold = 0;
    let sentBytes = 0;
    let windowStartMs = clock.nowMs();
    let windowStartBytes = 0;
    let budgetUsed = 0;
    // A record per sync interval: from one sync to the next.
    let probe = rounds.begin('precopy');
    let found = this.toSend;
    let sent: SendTotals = { pages: 0, bytes: 0, unchanged: 0 };
    let scanMs = 0;
    const closeRecord = async (why: string): Promise<void> => {
      await rounds.delivered();
      rounds.add(rounds.end(probe, found, sent, scanMs, this.toSend), why);
    };
    for (;;) {
      ctx.checkpoint();
      // migration_iteration_run
      let pending = this.toSend * pageBytes;
      if (pending < threshold) {
        await closeRecord(`estimate ${formatBytes(pending)} < threshold ${formatBytes(threshold)}: sync`);
        probe = rounds.begin('precopy');
        const t0 = performance.now();
        found = this.sync(ctx);
        scanMs = performance.now() - t0;
        sent = { pages: 0, bytes: 0, unchanged: 0 };
        pending = this.toSend * pageBytes;
      }
      if (pending === 0 || pending < threshold) {
        const decision = {
          action: 'switchover' as const,
          why: `pending ${formatBytes(pending)} < threshold ${formatBytes(threshold)} (${controls.downtimeLimitMs} ms at the last window's bandwidth), after ${this.syncs} syncs`,
        };
        ctx.note(decision);
        await closeRecord(decision.why);
        return { decision, postcopyAfter: null };
      }
      // ram_save_iterate: until the window's budget is spent, for at most 50 ms.
      const iterateStartMs = clock.nowMs();
      while (budgetUsed <= windowBudget) {
        const maxPages = windowBudget === Infinity ? ITERATE_FRAME_PAGES : Math.min(ITERATE_FRAME_PAGES, Math.floor((windowBudget - budgetUsed) / pageBytes) + 1);
        const { slot, n } = this.gather(ctx, maxPages);
        if (n === 0) break; // a full circle found nothing
        const t = await sender.sendList(slot, n, probe.index);
        addTotals(sent, t);
        sentBytes += t.bytes;
        budgetUsed += t.bytes;
        if (clock.nowMs() - iterateStartMs > MAX_WAIT_MS) break;
      }
      // migration_rate_limit: past the budget, sleep to the window's end; a window of 100 ms closes.
      if (budgetUsed > windowBudget) await clock.sleepUntil(windowStartMs + WINDOW_MS);
      const now = clock.nowMs();
      if (now >= windowStartMs + WINDOW_MS) {
        threshold = ((sentBytes - windowStartBytes) / (now - windowStartMs)) * controls.downtimeLimitMs;
        windowStartMs = now;
        windowStartBytes = sentBytes;
        budgetUsed = 0;
      } else if (this.toSend === 0) {
        // Nothing to send before the window closes: the thread waits for it (the next check is then due).
        await clock.sleepUntil(windowStartMs + WINDOW_MS);
      }
    }
  }

  /** The last sync, the guest suspended, and every page still set, unthrottled. */
  async final(ctx: PrecopyContext): Promise<IterationRecord> {
    const { rounds, sender, source } = ctx;
    const probe: RoundProbe = rounds.begin('stop-and-copy');
    const t0 = performance.now();
    this.sync(ctx);
    const scanMs = performance.now() - t0;
    const found = this.toSend;
    const sent: SendTotals = { pages: 0, bytes: 0, unchanged: 0 };
    for (;;) {
      const { slot, n } = this.gather(ctx, source.slots[this.cursorSlot].layout.pagesPerFrame);
      if (n === 0) break;
      addTotals(sent, await sender.sendList(slot, n, probe.index));
    }
    await rounds.delivered();
    return rounds.end(probe, found, sent, scanMs, 0);
  }

  /** migration_bitmap_sync: the dirty log's pages into the bitmap; returns how many bits it set. */
  private sync(ctx: PrecopyContext): number {
    this.syncs++;
    let added = 0;
    ctx.source.slots.forEach((s, slot) => {
      const n = ctx.dirtyLog.fetch(slot);
      const list = new Uint32Array(s.memory.buffer, s.layout.listPtr, n);
      const bmap = this.bmap[slot];
      for (let i = 0; i < n; i++) {
        if (bmap[list[i]] === 0) {
          bmap[list[i]] = 1;
          added++;
        }
      }
    });
    this.toSend += added;
    return added;
  }

  /**
   * Takes up to `max` set pages of one slot from the cursor on, clearing their bits, into that
   * slot's list, and moves the cursor past them (circularly over the slots). Returns the slot and
   * how many; n is 0 only when no bit is set anywhere.
   */
  private gather(ctx: PrecopyContext, max: number): { slot: number; n: number } {
    if (this.toSend === 0) return { slot: this.cursorSlot, n: 0 };
    const slots = ctx.source.slots;
    for (;;) {
      const slot = this.cursorSlot;
      const s = slots[slot];
      const bmap = this.bmap[slot];
      const list = new Uint32Array(s.memory.buffer, s.layout.listPtr, s.layout.pageCount);
      let n = 0;
      let p = this.cursorPage;
      for (; p < bmap.length && n < max; p++) {
        if (bmap[p] === 1) {
          bmap[p] = 0;
          list[n++] = p;
        }
      }
      this.cursorPage = p;
      if (p >= bmap.length) {
        this.cursorSlot = (slot + 1) % slots.length;
        this.cursorPage = 0;
      }
      if (n > 0) {
        this.toSend -= n;
        return { slot, n };
      }
    }
  }
}
