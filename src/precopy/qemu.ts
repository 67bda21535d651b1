/**
 * QEMU 10.0's pre-copy loop, `--policy qemu` (docs/qemu-precopy.md, sections 1-6, read from
 * migration/migration.c and migration/ram.c): not "send every dirty page, then sync".
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
 *   Bytes are QEMU's wire bytes (section 6): 8 + page for a normal page, 9 for a zero page, 11 +
 *   delta for an xbzrle page, nothing for an unchanged one, 18 per ram_save_iterate call.
 * - The threshold starts at 0, so no sync happens until the first window has closed.
 * - Completion (ram_save_complete) syncs a last time and sends every set bit, unthrottled.
 * - Convergence aids (auto-converge) act inside a sync, once per period of more than 1 s
 *   (migration_bitmap_sync -> migration_trigger_throttle): the period's facts are the pages newly
 *   set by its syncs and the bytes sent in it. With an aid on, a sync is forced every 5 s if none
 *   happened since the last tick (cpu_throttle_dirty_sync_timer_tick), once a sync past set-up has.
 * - The set-up sync fetches the dirty log before any page is sent: no send is a first pass in the
 *   dirty log's sense (a dirty ring resets every page it sends).
 * - Codecs get the phase with every frame (CodecPhase): xbzrle starts when the cursor first wraps
 *   (find_dirty_block), its cache ages by sync count, and the last stage inserts nothing.
 * - A record runs from one sync to the next; the one that decides the switch-over ends the last.
 *   qemuStats() gives QEMU's own figures of the run (dirty-sync-count, transferred, ...).
 * Options QEMU's loop does not take are refused by checkPolicyLoop (src/config/options.ts).
 */
import type { PrecopyContext, PrecopyLoop, PrecopyOutcome } from './loop.js';
import type { IterationRecord, QemuStats } from '../result/schema.js';
import { noTotals, type SendTotals } from '../driver/sender.js';
import type { RoundProbe } from '../driver/rounds.js';
import { addTotals } from '../driver/rounds.js';
import { formatBytes } from '../util/format.js';
import type { CodecPhase } from '../codec/codec.js';

/** BUFFER_DELAY: the rate limit's and the bandwidth's window, ms (migration-stats.h). */
const WINDOW_MS = 100;
/** A ram_save_iterate call's section framing on QEMU's wire: PART header 5, EOS 8, footer 5 (savevm.c). */
const ITERATE_FRAMING_BYTES = 18;
/** MAX_WAIT: the longest one iteration sends, ms (ram.c). */
const MAX_WAIT_MS = 50;
/** A throttle period is longer than this, ms (migration_bitmap_sync). */
const PERIOD_MS = 1000;
/** CPU_THROTTLE_DIRTY_SYNC_TIMESLICE_MS: the forced-sync timer's tick, ms (cpu-throttle.c). */
const FORCED_SYNC_TICK_MS = 5000;
/**
 * Pages packed into one frame while a rate limit holds: small, so a window's budget is overshot by
 * little (QEMU checks before every page). Without one, frames are full: QEMU's 50 ms check every
 * 64 pages is then what ends an iteration, and a full frame takes far less than that.
 */
const ITERATE_FRAME_PAGES = 32;

export class QemuLoop implements PrecopyLoop {
  readonly name = 'qemu';
  /** Per slot, a byte per page: 1 while QEMU's bitmap says it is to be sent. */
  private bmap: Uint8Array[] = [];
  private toSend = 0;
  private cursorSlot = 0;
  private cursorPage = 0;
  private syncs = 0;
  /** The cursor has wrapped once (QEMU's xbzrle_started). */
  private wrapped = false;
  /** Bytes on QEMU's wire so far (migration_transferred_bytes), by its costs per page and call. */
  private transferred = 0;
  /** ram_save_iterate calls; pages sent whole and as zero pages; pages each sync newly set. */
  private iterations = 0;
  private normal = 0;
  private duplicate = 0;
  private readonly pagesPerSync: number[] = [];
  /** QEMU's expected downtime after the last pre-copy sync, ms (null before a window closed). */
  private expectedDowntimeMs: number | null = null;
  /** The throttle period: its start, the pages its syncs newly set, the bytes sent before it. */
  private periodStartMs = 0;
  private periodDirtyPages = 0;
  private periodStartBytes = 0;
  private periods = 0;

  async run(ctx: PrecopyContext): Promise<PrecopyOutcome> {
    const { source, sender, clock, rounds, settings, controls } = ctx;
    const pageBytes = settings.pageSizeBytes;
    // Set-up: every page to send; the set-up sync (dirty logging has just started).
    this.bmap = source.slots.map((s) => new Uint8Array(s.layout.pageCount).fill(1));
    this.toSend = source.layout.pageCount;
    this.periodStartMs = clock.nowMs();
    this.sync(ctx);
    await ctx.dirtyLog.costs.meter.pay(clock);
    // The forced-sync timer, armed with auto-converge (any aid here): a tick every 5 s.
    let nextTickMs = ctx.aids.length > 0 ? clock.nowMs() + FORCED_SYNC_TICK_MS : Infinity;
    let syncsAtTick = this.syncs;
    const windowBudget = settings.maxBandwidthBitsPerSec === null ? Infinity : settings.maxBandwidthBitsPerSec / 8 / 10;
    let threshold = 0;
    let windowStartMs = clock.nowMs();
    let windowStartBytes = 0;
    let budgetUsed = 0;
    // A record per sync interval: from one sync to the next (the record ends with the sync).
    let probe = rounds.begin('precopy');
    let found = this.toSend;
    let sent = noTotals();
    let scanMs = 0;
    /** A sync (timed), which ends the record. */
    const timedSync = (): { added: number; syncMs: number } => {
      const t0 = performance.now();
      const added = this.sync(ctx);
      return { added, syncMs: performance.now() - t0 };
    };
    /** Ends the record at a sync (or at the switch-over: `next` false); the next starts with what the sync found. */
    const endRecord = async (
      why: string,
      sync: { added: number; syncMs: number } | null,
      next = true,
    ): Promise<void> => {
      await rounds.delivered();
      // Dirtied during the record: what the sync that ends it newly found.
      rounds.add(rounds.end(probe, found, sent, scanMs, this.toSend, sync?.added ?? 0), why);
      ctx.remaining(this.toSend * pageBytes);
      if (sync === null || !next) return;
      // After the sync: the record starts with what its aids set (the throttle).
      probe = rounds.begin('precopy');
      [found, scanMs, sent] = [sync.added, sync.syncMs, noTotals()];
    };
    for (;;) {
      ctx.checkpoint();
      // An aid turned on during the run (a time limit's auto-converge) arms the timer then.
      if (nextTickMs === Infinity && ctx.aids.length > 0) {
        nextTickMs = clock.nowMs() + FORCED_SYNC_TICK_MS;
        syncsAtTick = this.syncs;
      }
      if (clock.nowMs() >= nextTickMs) {
        // cpu_throttle_dirty_sync_timer_tick: no sync since the last tick (set-up's aside): force one.
        if (this.syncs > 1 && this.syncs === syncsAtTick) {
          const s = timedSync();
          await ctx.dirtyLog.costs.meter.pay(clock);
          await endRecord(
            `no sync for ${FORCED_SYNC_TICK_MS / 1000} s: the throttle timer's sync found ${s.added} pages`,
            s,
          );
        }
        syncsAtTick = this.syncs;
        nextTickMs += FORCED_SYNC_TICK_MS;
      }
      // migration_iteration_run: the estimate; below the threshold, the exact figure (a sync).
      const estimate = this.toSend * pageBytes;
      const synced = estimate < threshold ? timedSync() : null;
      if (synced !== null) await ctx.dirtyLog.costs.meter.pay(clock); // the sync's host cost
      const pending = this.toSend * pageBytes;
      // expected_downtime: what the last sync left, at the last window's bandwidth.
      if (synced !== null) this.expectedDowntimeMs = (pending / threshold) * controls.downtimeLimitMs;
      if (pending === 0 || pending < threshold) {
        const decision = {
          action: 'switchover' as const,
          why: `pending ${formatBytes(pending)} < threshold ${formatBytes(threshold)} (${controls.downtimeLimitMs} ms at the last window's bandwidth), after ${this.syncs} syncs`,
        };
        ctx.note(decision);
        await endRecord(decision.why, synced, false);
        return { decision, postcopyAfter: null };
      }
      if (synced !== null)
        await endRecord(
          `estimate ${formatBytes(estimate)} < threshold ${formatBytes(threshold)}: the sync found ${synced.added} pages`,
          synced,
        );
      // ram_save_iterate: until the window's budget is spent, for at most 50 ms; 18 bytes of
      // section framing each time (QEMU's wire, docs/qemu-precopy.md section 6).
      this.iterations++;
      const iterateStartMs = clock.nowMs();
      while (budgetUsed <= windowBudget) {
        const maxPages =
          windowBudget === Infinity
            ? source.slots[this.cursorSlot].layout.pagesPerFrame
            : Math.min(ITERATE_FRAME_PAGES, Math.floor((windowBudget - budgetUsed) / pageBytes) + 1);
        const { slot, n } = this.gather(ctx, maxPages);
        if (n === 0) break; // a full circle found nothing
        const t = await sender.sendList(slot, n, probe.index, { phase: this.phase(false), firstPass: false });
        addTotals(sent, t);
        this.count(t);
        budgetUsed += t.qemuBytes;
        if (clock.nowMs() - iterateStartMs > MAX_WAIT_MS) break;
      }
      this.transferred += ITERATE_FRAMING_BYTES;
      budgetUsed += ITERATE_FRAMING_BYTES;
      // migration_rate_limit: past the budget, sleep to the window's end; a window of 100 ms closes.
      if (budgetUsed > windowBudget) await clock.sleepUntil(windowStartMs + WINDOW_MS);
      const now = clock.nowMs();
      if (now >= windowStartMs + WINDOW_MS) {
        threshold = ((this.transferred - windowStartBytes) / (now - windowStartMs)) * controls.downtimeLimitMs;
        windowStartMs = now;
        windowStartBytes = this.transferred;
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
    this.sync(ctx, true);
    const scanMs = performance.now() - t0;
    await ctx.dirtyLog.costs.meter.pay(ctx.clock, true); // the guest is suspended: the downtime waits it
    const found = this.toSend;
    const sent = noTotals();
    for (;;) {
      const { slot, n } = this.gather(ctx, source.slots[this.cursorSlot].layout.pagesPerFrame);
      if (n === 0) break;
      const t = await sender.sendList(slot, n, probe.index, { phase: this.phase(true), firstPass: false });
      addTotals(sent, t);
      this.count(t);
    }
    this.transferred += ITERATE_FRAMING_BYTES; // ram_save_complete's section framing
    await rounds.delivered();
    return rounds.end(probe, found, sent, scanMs, 0);
  }

  /** QEMU's statistics of the run (query-migrate's names), the device state's bytes added. */
  qemuStats(deviceStateBytes: number, maxThrottlePercent: number): QemuStats {
    return {
      dirtySyncCount: this.syncs,
      pagesPerSync: [...this.pagesPerSync],
      iterations: this.iterations,
      transferredBytes: this.transferred + deviceStateBytes,
      normalPages: this.normal,
      duplicatePages: this.duplicate,
      expectedDowntimeMs: this.expectedDowntimeMs,
      maxThrottlePercent,
    };
  }

  private count(t: SendTotals): void {
    this.transferred += t.qemuBytes;
    this.normal += t.qemuNormal;
    this.duplicate += t.qemuDuplicate;
  }

  private phase(lastStage: boolean): CodecPhase {
    return { generation: this.syncs, started: this.wrapped, lastStage };
  }

  /**
   * migration_bitmap_sync: the dirty log's pages into the bitmap; returns how many bits it set.
   * The last (the guest stopped) leaves the aids alone.
   */
  private sync(ctx: PrecopyContext, last = false): number {
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
    this.pagesPerSync.push(added);
    this.periodDirtyPages += added;
    const now = ctx.clock.nowMs();
    if (!last && now > this.periodStartMs + PERIOD_MS) {
      // migration_trigger_throttle: the aids weigh the period just ended.
      const facts = {
        round: this.periods++,
        durationMs: now - this.periodStartMs,
        bytesSent: this.transferred - this.periodStartBytes,
        pagesDirtied: this.periodDirtyPages,
        pageSizeBytes: ctx.settings.pageSizeBytes,
      };
      for (const aid of ctx.aids) aid.afterRound(facts, ctx.controls);
      this.periodStartMs = now;
      this.periodDirtyPages = 0;
      this.periodStartBytes = this.transferred;
    }
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
        if (this.cursorSlot === 0) this.wrapped = true;
      }
      if (n > 0) {
        this.toSend -= n;
        return { slot, n };
      }
    }
  }
}
