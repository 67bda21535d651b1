/**
 * The result's rounds: what a pre-copy loop and the stop-and-copy stage send, and the
 * IterationRecord each round leaves, measured the same way in every world. It is the driver's
 * side of the pre-copy port's records and whole rounds (src/precopy/port.ts).
 */
import type { CodecSummary, IterationRecord } from '../result/schema.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { DirtyLog } from '../dirtylog/dirty-log.js';
import type { Transport } from '../channel/transport.js';
import type { Clock } from '../clock/clock.js';
import type { GuestHost } from '../guest/host.js';
import type { AidControls } from '../converge/aid.js';
import type { EventSink } from './events.js';
import type { FrameEncoding } from '../codec/encoding.js';
import type { Sender } from './sender.js';
import {
  addTotals,
  noTotals,
  type RecordCounts,
  type RecordPort,
  type RecordStart,
  type RoundPhase,
} from '../precopy/port.js';
import { diffChainStats, type ChainStats } from '../codec/chain-encoder.js';
import { summarizeCodecs } from '../codec/summary.js';
import { diffRoundCost, snapshotCost, type RoundDirtyCost } from '../dirtylog/cost-meter.js';

export interface RecordParts {
  source: GuestMemory;
  dirtyLog: DirtyLog;
  sender: Sender;
  transport: Transport;
  clock: Clock;
  guest: GuestHost;
  controls: AidControls;
  encoding: FrameEncoding | undefined;
  emit: EventSink;
}

export class RoundRecords implements RecordPort {
  /** Every round so far, in order: pre-copy rounds, then the stop-and-copy round. */
  readonly records: IterationRecord[] = [];
  private codecSnapshot: ChainStats;
  /** Dirty-tracking costs at the last record's end: a record carries what was charged since (enabling the log falls in the first). */
  private costSnapshot: RoundDirtyCost;

  constructor(private readonly p: RecordParts) {
    this.codecSnapshot = p.encoding?.stats() ?? {};
    this.costSnapshot = snapshotCost(p.dirtyLog.costs);
  }

  count(): number {
    return this.records.length;
  }

  /**
   * Waits until everything sent has reached the target, link latency included, after what the
   * dirty log still owes (the last frame's clear or reset): a round ends with its costs paid.
   */
  async delivered(): Promise<void> {
    await this.p.dirtyLog.costs.meter.pay(this.p.clock, true);
    await this.p.clock.sleepUntil(await this.p.transport.drain());
  }

  /** Everything sent is written, not yet arrived (PrecopyPort.send.written), the costs paid. */
  async written(): Promise<void> {
    const { transport, clock } = this.p;
    if (!transport.flushed) return this.delivered();
    await this.p.dirtyLog.costs.meter.pay(clock, true);
    await transport.flushed();
  }

  /** A round starts now: what its record is measured from. */
  begin(phase: RoundPhase): RecordStart {
    const { clock, guest, transport, controls } = this.p;
    return {
      index: this.records.length,
      phase,
      startMs: clock.nowMs(),
      writesAtStart: guest.totalWrites(),
      meteredAtStart: transport.resendMeter?.unchangedPages() ?? 0,
      throttlePercent: controls.throttle * 100,
      rateLimitBitsPerSec: controls.rateBitsPerSec,
    };
  }

  /**
   * The record of the round begun at `start`, ending now: `pendingPages` are left to send after it
   * (its expected downtime), `dirtiedPages` were dirtied during it (its dirty rate): for a round that
   * sends what it found, the same pages.
   */
  end(start: RecordStart, counts: RecordCounts): IterationRecord {
    const { source, dirtyLog, clock, guest, transport, controls } = this.p;
    const { dirtyPages, sent, scanMs, pendingPages, dirtiedPages = pendingPages } = counts;
    const durationMs = Math.max(clock.nowMs() - start.startMs, 1e-3);
    const bandwidthBytesPerSec = (sent.bytes * 1000) / durationMs;
    return {
      index: start.index,
      phase: start.phase,
      startMs: start.startMs,
      dirtyPages,
      pagesSent: sent.pages,
      bytesSent: sent.bytes,
      durationMs,
      scanMs,
      dirtyPagesPerSec: (dirtiedPages * 1000) / durationMs,
      achievedLinkBitsPerSec: bandwidthBytesPerSec * 8,
      expectedDowntimeMs:
        bandwidthBytesPerSec > 0 ? (pendingPages * source.layout.pageSizeBytes * 1000) / bandwidthBytesPerSec : 0,
      pagesResentUnchanged: sent.unchanged + (transport.resendMeter?.unchangedPages() ?? 0) - start.meteredAtStart,
      throttlePercent: start.throttlePercent,
      rateLimitBitsPerSec: start.rateLimitBitsPerSec,
      downtimeLimitMs: controls.downtimeLimitMs,
      guestPageWritesPerSec: ((guest.totalWrites() - start.writesAtStart) * 1000) / durationMs,
      ...dirtyLog.takeRoundStats(),
      ...(dirtyLog.costs.on ? { dirtyCost: this.takeCostRound() } : {}),
      ...(this.p.encoding ? { codec: this.takeCodecRound() } : {}),
    };
  }

  /**
   * Sends one round: every page (`all`, round 0) or what a fresh fetch of the dirty log finds, and
   * waits for it to arrive. Returns its record; keep() keeps it.
   */
  async round(phase: RoundPhase, all: boolean): Promise<IterationRecord> {
    const { source, dirtyLog, sender } = this.p;
    const start = this.begin(phase);
    let dirtyPages = 0;
    const scanStart = performance.now();
    const counts = source.slots.map((_, i) => {
      const n = all ? sender.listAllPages(i) : dirtyLog.fetch(i);
      dirtyPages += n;
      return n;
    });
    // Measured CPU time on either clock: the cost of the strategy is what it is compared on.
    const scanMs = performance.now() - scanStart;
    // The host's side of the fetch (the ioctl, the walk, re-protection): the sender waits it.
    await dirtyLog.costs.meter.pay(this.p.clock, phase === 'stop-and-copy');
    const sent = noTotals();
    for (let i = 0; i < counts.length; i++) addTotals(sent, await sender.sendList(i, counts[i], start.index));
    await this.delivered();
    return this.end(start, { dirtyPages, sent, scanMs, pendingPages: phase === 'precopy' ? dirtyLog.pending() : 0 });
  }

  /**
   * The record of a round that sent no pages, only `bytes` of other frames from `startMs` to now
   * (the post-copy switch-over: `dirtyPages` is what the target lacks).
   */
  pagelessRound(startMs: number, dirtyPages: number, bytes: number): IterationRecord {
    const { clock, controls } = this.p;
    const durationMs = clock.nowMs() - startMs;
    return {
      index: this.records.length,
      phase: 'stop-and-copy',
      startMs,
      dirtyPages,
      pagesSent: 0,
      bytesSent: bytes,
      durationMs,
      scanMs: 0,
      dirtyPagesPerSec: 0,
      achievedLinkBitsPerSec: (bytes * 8000) / Math.max(durationMs, 1e-3),
      expectedDowntimeMs: 0,
      pagesResentUnchanged: 0,
      throttlePercent: controls.throttle * 100,
      rateLimitBitsPerSec: controls.rateBitsPerSec,
      downtimeLimitMs: controls.downtimeLimitMs,
      guestPageWritesPerSec: 0,
    };
  }

  /** Keeps a round's record and tells the listeners, with what was decided after it. */
  keep(record: IterationRecord, why: string): void {
    this.records.push(record);
    this.p.emit({ kind: 'round', iteration: record, policyDecision: why });
  }

  /** The dirty log's costs since the last call. */
  private takeCostRound(): RoundDirtyCost {
    const now = snapshotCost(this.p.dirtyLog.costs);
    const round = diffRoundCost(now, this.costSnapshot);
    this.costSnapshot = now;
    return round;
  }

  /** The codecs' work since the last call. */
  private takeCodecRound(): CodecSummary {
    const now = this.p.encoding?.stats() ?? {};
    const round = summarizeCodecs(diffChainStats(now, this.codecSnapshot));
    this.codecSnapshot = now;
    return round;
  }
}
