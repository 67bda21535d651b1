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
 * - Post-copy (QEMU-POSTCOPY.md, part A): once migrate-start-postcopy is issued (--postcopy-after N
 *   syncs, --postcopy-at, a time limit), the next iteration that does not complete switches
 *   (postcopySwitch: one last sync; what is still set is what the target lacks, swept from page 0).
 * - Multifd (--multifd N, QEMU-POSTCOPY.md part B): pages in packets to the first idle channel,
 *   counted once the channel has written them; a sync of every channel at each wrap of the scan.
 *   Over TCP the channels are the connections (multifd.ts, SocketChannels).
 * It takes none of the round-based aids or --max-iterations, and only a power-of-two xbzrle cache,
 * as QEMU (QEMU_LOOP below; the option checks ask it).
 */
import type { PrecopyLoop, PrecopyLoopKind, PrecopyOutcome } from './loop.js';
import type { IterationRecord, QemuStats } from '../result/schema.js';
import { addTotals, noTotals, type PrecopyPort, type RecordStart, type SendTotals } from './port.js';
import { formatBytes, formatMs } from '../util/format.js';
import { CODEC_IDS, type CodecPhase } from '../codec/codec.js';
import {
  MULTIFD_FLUSH_BYTES,
  MULTIFD_INIT_BYTES,
  ModelledChannels,
  SocketChannels,
  type MultifdChannels,
} from './multifd.js';

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
 * QEMUFile counts its bytes in `transferred` only when it flushes (qemu-file.c qemu_fflush), and it
 * flushes once it holds MAX_IOV_SIZE (64) iovecs: a normal page takes two (its header in the copy
 * buffer, the page itself by reference, qemu_put_buffer_async), zero pages' headers coalesce with
 * the next header. So the rate limit, checked before every page, sees the window's bytes in steps of
 * 32 normal pages, and a window sends whole steps: at 32 MiB/s 26 x 32 = 832 pages where the budget
 * is 818 (1.8 % over max-bandwidth, what the references show: 3,414,546 bytes every 100 ms).
 */
const FLUSH_IOVECS = 64;
/** IO_BUF_SIZE: the copy buffer (headers, zero pages, xbzrle deltas) also flushes once 32 KiB are in it. */
const FLUSH_BUFFER_BYTES = 32 * 1024;

/** The record being kept: from one sync to the next. */
interface OpenRecord {
  start: RecordStart;
  /** Pages the sync that opened it found (all of them for the first). */
  found: number;
  sent: SendTotals;
  scanMs: number;
}

/** A sync's outcome: the pages it newly set, and its CPU time. */
interface Sync {
  added: number;
  syncMs: number;
}

/** QEMU's wire bytes of a send (docs/qemu-precopy.md section 6), with its normal and zero ("duplicate") pages. */
function qemuWire(t: SendTotals): { bytes: number; normal: number; duplicate: number } {
  let bytes = 0;
  let normal = 0;
  let duplicate = 0;
  for (const [key, c] of Object.entries(t.byCodec)) {
    const id = Number(key);
    if (id === CODEC_IDS.zero) {
      bytes += c.pages * QEMU_ZERO_PAGE_BYTES;
      duplicate += c.pages;
    } else if (id === CODEC_IDS.xbzrle) {
      // An unchanged page (an empty delta) puts nothing on the wire.
      bytes += (c.pages - c.empty) * QEMU_XBZRLE_OVERHEAD_BYTES + c.bytes;
    } else {
      // A page of another codec: its header and its bytes (QEMU has none of them on this path).
      bytes += c.pages * QEMU_PAGE_HEADER_BYTES + c.bytes;
      if (id === CODEC_IDS.raw) normal += c.pages;
    }
  }
  return { bytes, normal, duplicate };
}

/**
 * A multifd packet's payload (QEMU-POSTCOPY B1, B3): the normal pages' bytes; a zero page, found in
 * the channel, costs nothing beyond its offset in the header. Normal and duplicate as qemuWire's.
 */
function multifdWire(t: SendTotals): { bytes: number; normal: number; duplicate: number } {
  let bytes = 0;
  let normal = 0;
  let duplicate = 0;
  for (const [key, c] of Object.entries(t.byCodec)) {
    if (Number(key) === CODEC_IDS.zero) duplicate += c.pages;
    else {
      normal += c.pages;
      bytes += c.bytes;
    }
  }
  return { bytes, normal, duplicate };
}

/** QEMU's wire bytes per page by codec: a normal page 8 + page size, a zero page 9, an xbzrle page 11 + its delta. */
const QEMU_PAGE_HEADER_BYTES = 8;
const QEMU_ZERO_PAGE_BYTES = 9;
const QEMU_XBZRLE_OVERHEAD_BYTES = 11;

/** postcopy_discard_send_range: ranges per MIG_CMD_POSTCOPY_RAM_DISCARD (MAX_DISCARDS_PER_COMMAND). */
const DISCARDS_PER_COMMAND = 12;
/** A command's framing: QEMU_VM_COMMAND, be16 command, be16 length (savevm.c). */
const COMMAND_HEADER_BYTES = 5;
/** A discard command's version, name length and NUL; 16 bytes per range (start, length). */
const DISCARD_FIXED_BYTES = 3;
const DISCARD_RANGE_BYTES = 16;
/** The guest RAM block's id string on the wire (a pc machine's "pc.ram"). */
const RAM_BLOCK_ID = 'pc.ram';
/** The switch's other commands: SWITCHOVER_START 5, pings 2-4 of 9, LISTEN 5 and RUN 5, the PACKAGED header 9. */
const POSTCOPY_SWITCH_COMMAND_BYTES = 5 + 3 * 9 + 5 + 5 + 9;

/** A bitmap of `pages` bits, all set. */
function allSet(pages: number): Uint32Array {
  const words = new Uint32Array(Math.ceil(pages / 32)).fill(0xffff_ffff);
  if (pages % 32 !== 0) words[words.length - 1] = 2 ** (pages % 32) - 1;
  return words;
}

export class QemuLoop implements PrecopyLoop {
  readonly name = 'qemu';
  /** Per slot, QEMU's bitmap (ram_list's bmap), a bit per page: set while the page is to be sent. */
  private bmap: Uint32Array[] = [];
  private slotPages: readonly number[] = [];
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
  /** The forced-sync timer (armed with an aid): its next tick, and the syncs at the last one. */
  private nextTickMs = Infinity;
  private syncsAtTick = 0;
  /** The rate limit's window: its start, the bytes on the wire then, the budget used in it, the budget. */
  private windowStartMs = 0;
  private windowStartBytes = 0;
  private budgetUsed = 0;
  private windowBudget = Infinity;
  /** Bandwidth x downtime limit, bytes, as the last closed window measured it (0 before one closed). */
  private threshold = 0;
  /** After a post-copy switch: its commands' bytes (discards, pings, the package's), and the pages' since (postcopy-bytes). */
  private postcopySwitchBytes: number | null = null;
  private postcopyBytes = 0;
  /** --multifd: the channels; null: every page on the main channel. */
  private mf: MultifdChannels | null = null;
  /** Times the scan cursor went past the last page (a multifd sync each, per-round mode). */
  private cursorWraps = 0;
  private record!: OpenRecord;

  async run(port: PrecopyPort): Promise<PrecopyOutcome> {
    const { clock, settings, guest } = port;
    // Set-up: every page to send; the set-up sync (dirty logging has just started).
    this.slotPages = guest.slotPageCounts;
    this.bmap = guest.slotPageCounts.map(allSet);
    this.toSend = guest.slotPageCounts.reduce((n, c) => n + c, 0);
    this.periodStartMs = clock.nowMs();
    this.sync(port);
    await port.dirty.pay();
    // The forced-sync timer, armed with auto-converge (any aid here): a tick every 5 s.
    this.nextTickMs = port.control.aids.length > 0 ? clock.nowMs() + FORCED_SYNC_TICK_MS : Infinity;
    this.syncsAtTick = this.syncs;
    this.windowBudget = settings.maxBandwidthBitsPerSec === null ? Infinity : settings.maxBandwidthBitsPerSec / 8 / 10;
    if (settings.multifdChannels !== null) await this.startMultifd(port, settings.multifdChannels);
    this.windowStartMs = clock.nowMs();
    // A record per sync interval: from one sync to the next (the record ends with the sync).
    this.record = { start: port.records.begin('precopy'), found: this.toSend, sent: noTotals(), scanMs: 0 };
    for (;;) {
      port.control.checkpoint();
      await this.timerTick(port);
      const outcome = await this.iterationRun(port);
      if (outcome !== null) return outcome;
      await this.saveIterate(port);
      await this.rateLimit(port);
    }
  }

  /** cpu_throttle_dirty_sync_timer_tick: no sync since the last tick (set-up's aside) forces one. */
  private async timerTick(port: PrecopyPort): Promise<void> {
    const now = port.clock.nowMs();
    // An aid turned on during the run (a time limit's auto-converge) arms the timer then.
    if (this.nextTickMs === Infinity && port.control.aids.length > 0) {
      this.nextTickMs = now + FORCED_SYNC_TICK_MS;
      this.syncsAtTick = this.syncs;
    }
    if (port.clock.nowMs() < this.nextTickMs) return;
    if (this.syncs > 1 && this.syncs === this.syncsAtTick) {
      const s = this.timedSync(port);
      await port.dirty.pay();
      await this.endRecord(
        port,
        `no sync for ${FORCED_SYNC_TICK_MS / 1000} s: the throttle timer's sync found ${s.added} pages`,
        s,
      );
    }
    this.syncsAtTick = this.syncs;
    this.nextTickMs += FORCED_SYNC_TICK_MS;
  }

  /**
   * migration_iteration_run: the estimate; below the threshold, the exact figure (a sync); below it
   * still, or nothing left, the switch-over. Returns the outcome then, else null.
   */
  private async iterationRun(port: PrecopyPort): Promise<PrecopyOutcome | null> {
    const pageBytes = port.guest.pageSizeBytes;
    const { controls } = port.control;
    const estimate = this.toSend * pageBytes;
    const synced = estimate < this.threshold ? this.timedSync(port) : null;
    if (synced !== null) await port.dirty.pay(); // the sync's host cost
    const pending = this.toSend * pageBytes;
    // expected_downtime: what the last sync left, at the last window's bandwidth.
    if (synced !== null) this.expectedDowntimeMs = (pending / this.threshold) * controls.downtimeLimitMs;
    if (pending === 0 || pending < this.threshold) {
      // Nothing pending is QEMU's estimate without a sync: the guest's writes since the last are not in it.
      const why =
        pending === 0
          ? `nothing pending by QEMU's estimate (its bitmap, without a sync: the writes since the last are not counted), after ${this.syncs} syncs`
          : `pending ${formatBytes(pending)} < threshold ${formatBytes(this.threshold)} (${controls.downtimeLimitMs} ms at the last window's bandwidth), after ${this.syncs} syncs`;
      const decision = { action: 'switchover' as const, why };
      port.control.note(decision);
      await this.endRecord(port, decision.why, synced, false);
      return { decision, postcopyAfter: null };
    }
    // Still a significant amount to transfer: post-copy, if asked for (must_precopy is 0 for a
    // RAM-only guest, so the switch comes at the first iteration after the request).
    const asked = this.postcopyAsked(port);
    if (asked !== null) {
      const decision = {
        action: 'switchover' as const,
        why: `post-copy: migrate-start-postcopy ${asked}, taken after ${this.syncs} syncs with ${formatBytes(pending)} pending`,
      };
      port.control.note(decision);
      await this.endRecord(port, decision.why, synced, false);
      return { decision, postcopyAfter: this.syncs };
    }
    if (synced !== null) {
      const why = `estimate ${formatBytes(estimate)} < threshold ${formatBytes(this.threshold)}: the sync found ${synced.added} pages`;
      await this.endRecord(port, why, synced);
    }
    return null;
  }

  /** Whether migrate-start-postcopy has been issued (and how), or null. */
  private postcopyAsked(port: PrecopyPort): string | null {
    const { settings, control, clock } = port;
    if (!settings.postcopy) return null;
    const after = settings.postcopyAfterRounds;
    if (after !== null && this.syncs >= after) return `once dirty-sync-count reached ${after}`;
    const at = settings.postcopyAtMs;
    if (at !== null && clock.nowMs() >= at) return `at ${formatMs(at)}`;
    if (control.postcopyRequested()) return 'as a time limit asked';
    return null;
  }

  /**
   * postcopy_start, the guest stopped: the last sync (dirty-sync-count + 1), then every set bit
   * is what the target lacks (ram_postcopy_send_discard_bitmap: one discard range per run of set
   * bits, 12 to a command), listed ascending per slot for the background sweep, which restarts at
   * block 0, page 0. Counts the switch's commands on QEMU's wire (docs: QEMU-POSTCOPY C2).
   */
  async postcopySwitch(port: PrecopyPort): Promise<number[]> {
    this.sync(port, true);
    await port.dirty.pay(true);
    let ranges = 0;
    const counts = this.bmap.map((bmap, slot) => {
      const list = port.send.list(slot);
      let n = 0;
      let inRun = false;
      for (let w = 0; w < bmap.length; w++) {
        let word = bmap[w];
        if (word === 0) {
          inRun = false;
          continue;
        }
        for (let b = 0; b < 32; b++, word >>>= 1) {
          if ((word & 1) === 0) {
            inRun = false;
            continue;
          }
          if (!inRun) ranges++;
          inRun = true;
          list[n++] = (w << 5) + b;
        }
      }
      bmap.fill(0);
      return n;
    });
    this.toSend = 0;
    const commands = Math.ceil(ranges / DISCARDS_PER_COMMAND);
    this.postcopySwitchBytes =
      commands * (COMMAND_HEADER_BYTES + DISCARD_FIXED_BYTES + RAM_BLOCK_ID.length) +
      ranges * DISCARD_RANGE_BYTES +
      POSTCOPY_SWITCH_COMMAND_BYTES;
    return counts;
  }

  /** Pages sent after the switch: postcopy-bytes at QEMU's cost per page (no xbzrle then). */
  countPostcopy(sent: SendTotals): void {
    this.postcopyBytes += this.count(sent);
  }

  /**
   * ram_save_iterate: until the window's budget is spent, for at most 50 ms; 18 bytes of section
   * framing each time (QEMU's wire, docs/qemu-precopy.md section 6).
   */
  private async saveIterate(port: PrecopyPort): Promise<void> {
    if (this.mf) return this.saveIterateMultifd(port, this.mf);
    const pageBytes = port.guest.pageSizeBytes;
    this.iterations++;
    const iterateStartMs = port.clock.nowMs();
    // What the QEMUFile holds since its last flush: not yet counted against the budget.
    let unflushedBytes = 0;
    let iovecs = 0;
    let bufferBytes = 0;
    while (this.budgetUsed <= this.windowBudget) {
      // Under a rate limit, a frame goes no further than the next flush, where QEMU's count moves;
      // without one frames are full (QEMU's 50 ms check every 64 pages then ends an iteration).
      const maxPages =
        this.windowBudget === Infinity ? port.send.pagesPerFrame : Math.max(1, (FLUSH_IOVECS - iovecs) >> 1);
      const { slot, n } = this.gather(port, maxPages);
      if (n === 0) break; // a full circle found nothing
      const t = await port.send.pages(slot, n, this.record.start.index, { phase: this.phase(false), firstPass: false });
      addTotals(this.record.sent, t);
      const normal = this.normal;
      const bytes = this.count(t);
      const normalPages = this.normal - normal;
      unflushedBytes += bytes;
      iovecs += 2 * normalPages;
      bufferBytes += bytes - normalPages * pageBytes;
      if (iovecs >= FLUSH_IOVECS || bufferBytes >= FLUSH_BUFFER_BYTES) {
        this.budgetUsed += unflushedBytes;
        unflushedBytes = iovecs = bufferBytes = 0;
      }
      if (port.clock.nowMs() - iterateStartMs > MAX_WAIT_MS) break;
    }
    // The section's end (RAM_SAVE_FLAG_EOS) and ram_save_iterate's own flush: everything counts now.
    this.transferred += ITERATE_FRAMING_BYTES;
    this.budgetUsed += unflushedBytes + ITERATE_FRAMING_BYTES;
  }

  /**
   * ram_save_iterate with multifd: packets to the channels, a channel's bytes counted once it has
   * written them (the rate limit lags by what is under way); a sync at each wrap of the scan,
   * and one when there is nothing to send (find_dirty_block wraps to find nothing).
   */
  private async saveIterateMultifd(port: PrecopyPort, mf: MultifdChannels): Promise<void> {
    this.iterations++;
    const iterateStartMs = port.clock.nowMs();
    if (this.toSend === 0) await this.multifdSync(port, mf);
    for (;;) {
      this.settle(mf, port.clock.nowMs());
      if (this.budgetUsed > this.windowBudget) break;
      const wraps = this.cursorWraps;
      const { slot, n } = this.gather(port, mf.pagesPerPacket);
      if (n === 0) break;
      await this.sendPacket(port, mf, slot, n, this.record.start.index, false, this.record.sent);
      if (this.cursorWraps > wraps) await this.multifdSync(port, mf);
      if (port.clock.nowMs() - iterateStartMs > MAX_WAIT_MS) break;
    }
    this.transferred += ITERATE_FRAMING_BYTES;
    this.budgetUsed += ITERATE_FRAMING_BYTES;
  }

  /**
   * multifd_send_setup and ram_save_setup's flush: each channel's init message, then a sync. The
   * channels are connections where the port has them (TCP), else modelled in simulated time.
   */
  private async startMultifd(port: PrecopyPort, channels: number): Promise<void> {
    const { settings, guest, clock, send } = port;
    const mf = send.laneWritten
      ? new SocketChannels(channels, guest.pageSizeBytes, (c) => send.laneWritten!(c))
      : new ModelledChannels(
          channels,
          guest.pageSizeBytes,
          settings.streamBitsPerSec / 8 / 1000,
          settings.linkLimited,
          clock.nowMs(),
          (ms) => clock.sleepUntil(ms),
        );
    this.mf = mf;
    mf.writeAll(clock.nowMs(), MULTIFD_INIT_BYTES);
    await this.multifdSync(port, mf);
  }

  /** Counts the channels' writes completed by `nowMs`: QEMU's transferred and the window's budget. */
  private settle(mf: MultifdChannels, nowMs: number): void {
    const bytes = mf.settle(nowMs);
    this.transferred += bytes;
    this.budgetUsed += bytes;
  }

  /**
   * multifd_send: the first idle channel after the last used takes the packet (the migration
   * thread waits for one when all are busy); zero pages are found in the channel and cost no
   * payload (zero-page-detection=multifd); normal and duplicate count as the packet is prepared.
   */
  private async sendPacket(
    port: PrecopyPort,
    mf: MultifdChannels,
    slot: number,
    n: number,
    record: number,
    lastStage: boolean,
    into: SendTotals,
  ): Promise<void> {
    let channel = mf.idle(port.clock.nowMs());
    if (channel < 0) {
      await mf.waitIdle();
      this.settle(mf, port.clock.nowMs());
      channel = mf.idle(port.clock.nowMs());
    }
    const at = port.clock.nowMs();
    mf.take(channel);
    const t = await port.send.pages(slot, n, record, { phase: this.phase(lastStage), firstPass: false, lane: channel });
    addTotals(into, t);
    const wire = multifdWire(t);
    this.normal += wire.normal;
    this.duplicate += wire.duplicate;
    mf.write(channel, at, mf.headerBytes + wire.bytes);
  }

  /**
   * multifd_ram_flush_and_sync: every channel writes a SYNC packet once its packet under way is
   * written, the migration thread waits for all of them, then puts the FLUSH flag on the main channel.
   */
  private async multifdSync(port: PrecopyPort, mf: MultifdChannels): Promise<void> {
    mf.writeAll(port.clock.nowMs(), mf.headerBytes);
    await mf.waitAllIdle();
    this.settle(mf, port.clock.nowMs());
    this.transferred += MULTIFD_FLUSH_BYTES;
    this.budgetUsed += MULTIFD_FLUSH_BYTES;
  }

  /** migration_rate_limit: past the budget, sleep to the window's end; a window of 100 ms closes and sets the threshold. */
  private async rateLimit(port: PrecopyPort): Promise<void> {
    const { clock } = port;
    if (this.mf) this.settle(this.mf, clock.nowMs());
    if (this.budgetUsed > this.windowBudget) await clock.sleepUntil(this.windowStartMs + WINDOW_MS);
    const now = clock.nowMs();
    // The channels' writes that completed while the thread slept count in the window closing now.
    if (this.mf) this.settle(this.mf, now);
    if (now >= this.windowStartMs + WINDOW_MS) {
      this.threshold =
        ((this.transferred - this.windowStartBytes) / (now - this.windowStartMs)) *
        port.control.controls.downtimeLimitMs;
      this.windowStartMs = now;
      this.windowStartBytes = this.transferred;
      this.budgetUsed = 0;
    } else if (this.toSend === 0) {
      // Nothing to send before the window closes: the thread waits for it (the next check is then due).
      await clock.sleepUntil(this.windowStartMs + WINDOW_MS);
    }
  }

  /** A sync, timed. */
  private timedSync(port: PrecopyPort): Sync {
    const t0 = performance.now();
    const added = this.sync(port);
    return { added, syncMs: performance.now() - t0 };
  }

  /** Ends the record at a sync (or at the switch-over: `next` false); the next starts with what the sync found. */
  private async endRecord(port: PrecopyPort, why: string, sync: Sync | null, next = true): Promise<void> {
    // QEMU's sync does not wait for what is written to arrive: the record ends now, its last
    // frames maybe still on the wire (or in a send buffer).
    await port.send.written();
    const r = this.record;
    // Dirtied during the record: what the sync that ends it newly found; with none at its end (a
    // switch-over without a sync), what the dirty log holds since the last (not 0: the guest wrote).
    const counts = {
      dirtyPages: r.found,
      sent: r.sent,
      scanMs: r.scanMs,
      pendingPages: this.toSend,
      dirtiedPages: sync?.added ?? port.dirty.pending(),
    };
    port.records.keep(port.records.end(r.start, counts), why);
    port.control.remaining(this.toSend * port.guest.pageSizeBytes);
    if (sync === null || !next) return;
    // After the sync: the record starts with what its aids set (the throttle).
    this.record = { start: port.records.begin('precopy'), found: sync.added, sent: noTotals(), scanMs: sync.syncMs };
  }

  /** The last sync, the guest suspended, and every page still set, unthrottled. */
  async final(port: PrecopyPort): Promise<IterationRecord> {
    const start = port.records.begin('stop-and-copy');
    const t0 = performance.now();
    this.sync(port, true);
    const scanMs = performance.now() - t0;
    await port.dirty.pay(true); // the guest is suspended: the downtime waits it
    const found = this.toSend;
    const sent = noTotals();
    const mf = this.mf;
    for (;;) {
      const { slot, n } = this.gather(port, mf ? mf.pagesPerPacket : port.send.pagesPerFrame);
      if (n === 0) break;
      if (mf) {
        await this.sendPacket(port, mf, slot, n, start.index, true, sent);
        continue;
      }
      const t = await port.send.pages(slot, n, start.index, { phase: this.phase(true), firstPass: false });
      addTotals(sent, t);
      this.count(t);
    }
    // The complete's scan wraps: a multifd sync in the downtime, every channel's writes done.
    if (mf) await this.multifdSync(port, mf);
    this.transferred += ITERATE_FRAMING_BYTES; // ram_save_complete's section framing
    // Written, not yet arrived (a send buffer may hold some): the device state follows at once.
    await port.send.written();
    return port.records.end(start, { dirtyPages: found, sent, scanMs, pendingPages: 0 });
  }

  /** QEMU's statistics of the run (query-migrate's names), the device state's bytes added. */
  qemuStats(deviceStateBytes: number, maxThrottlePercent: number): QemuStats {
    // After a post-copy switch the package (the device state) is counted twice: written into a
    // buffer QEMUFile, then to the socket (QEMU-POSTCOPY A2).
    const postcopy =
      this.postcopySwitchBytes === null
        ? {}
        : { postcopyBytes: this.postcopyBytes, postcopySwitchBytes: this.postcopySwitchBytes + deviceStateBytes };
    return {
      dirtySyncCount: this.syncs,
      pagesPerSync: [...this.pagesPerSync],
      iterations: this.iterations,
      transferredBytes:
        this.transferred +
        deviceStateBytes +
        (this.postcopySwitchBytes === null ? 0 : this.postcopySwitchBytes + deviceStateBytes),
      ...postcopy,
      ...(this.mf ? { multifdBytes: this.mf.bytes } : {}),
      normalPages: this.normal,
      duplicatePages: this.duplicate,
      expectedDowntimeMs: this.expectedDowntimeMs,
      maxThrottlePercent,
    };
  }

  /** Counts a send on QEMU's wire; returns its bytes there. */
  private count(t: SendTotals): number {
    const wire = qemuWire(t);
    this.transferred += wire.bytes;
    this.normal += wire.normal;
    this.duplicate += wire.duplicate;
    return wire.bytes;
  }

  private phase(lastStage: boolean): CodecPhase {
    return { generation: this.syncs, started: this.wrapped, lastStage };
  }

  /**
   * migration_bitmap_sync: the dirty log's pages into the bitmap; returns how many bits it set.
   * The last (the guest stopped) leaves the aids alone.
   */
  private sync(port: PrecopyPort, last = false): number {
    this.syncs++;
    let added = 0;
    port.guest.slotPageCounts.forEach((_, slot) => {
      const list = port.dirty.fetch(slot);
      const bmap = this.bmap[slot];
      for (let i = 0; i < list.length; i++) {
        const w = list[i] >>> 5;
        const bit = 1 << (list[i] & 31);
        if ((bmap[w] & bit) === 0) {
          bmap[w] |= bit;
          added++;
        }
      }
    });
    this.toSend += added;
    this.pagesPerSync.push(added);
    this.periodDirtyPages += added;
    const now = port.clock.nowMs();
    if (!last && now > this.periodStartMs + PERIOD_MS) {
      // migration_trigger_throttle: the aids weigh the period just ended.
      port.control.afterRound({
        round: this.periods++,
        durationMs: now - this.periodStartMs,
        bytesSent: this.transferred - this.periodStartBytes,
        pagesDirtied: this.periodDirtyPages,
        pageSizeBytes: port.guest.pageSizeBytes,
      });
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
  private gather(port: PrecopyPort, max: number): { slot: number; n: number } {
    if (this.toSend === 0) return { slot: this.cursorSlot, n: 0 };
    const slots = this.bmap.length;
    for (;;) {
      const slot = this.cursorSlot;
      const bmap = this.bmap[slot];
      const pages = this.slotPages[slot];
      const list = port.send.list(slot);
      let n = 0;
      let p = this.cursorPage;
      while (p < pages && n < max) {
        const w = p >>> 5;
        const bits = bmap[w] >>> (p & 31); // this page's bit and the word's after it
        if (bits === 0) {
          p = (w + 1) << 5;
          continue;
        }
        p += 31 - Math.clz32(bits & -bits); // the next set bit
        bmap[w] &= ~(1 << (p & 31));
        list[n++] = p++;
      }
      p = Math.min(p, pages);
      this.cursorPage = p;
      if (p >= pages) {
        this.cursorSlot = (slot + 1) % slots;
        this.cursorPage = 0;
        if (this.cursorSlot === 0) {
          this.wrapped = true;
          this.cursorWraps++;
        }
      }
      if (n > 0) {
        this.toSend -= n;
        return { slot, n };
      }
    }
  }
}

export const QEMU_LOOP: PrecopyLoopKind = {
  name: 'qemu',
  takes: ['postcopyAfter', 'postcopy', 'postcopyAt', 'maxPostcopyBandwidth', 'multifd'],
  elsewhere:
    "works with the round-based policies: --policy qemu-rounds (QEMU's switch-over rule after each round), hyperv or xen; --policy qemu is QEMU's own loop, which has no such setting",
  xbzrleCache: {
    powerOfTwo: (got) =>
      `--policy qemu takes a power-of-two --xbzrle-cache, as QEMU does, such as 64MiB (got ${got}); --policy qemu-rounds takes any size`,
  },
  create: () => new QemuLoop(),
};
