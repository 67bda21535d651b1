/**
 * The pre-copy port: everything a pre-copy loop may ask of the migration, and nothing more. The
 * loops (src/precopy/) are written against it; the driver implements it (src/driver/precopy-port.ts)
 * over its sender, its round records, the dirty log and the stop policy, so no loop sees the
 * driver, the memory or the channel. QEMU's loop needs the same handful of things of ram.c's
 * surroundings: migration_bitmap_sync (fetch the dirty log), ram_save_target_page (send pages),
 * the rate limit's clock, and the switch-over decision.
 */
import type { Clock } from '../clock/clock.js';
import type { AidControls, ConvergenceAid, RoundFacts } from '../converge/aid.js';
import type { PolicyDecision, PolicyState } from '../policy/policy.js';
import type { IterationRecord } from '../result/schema.js';
import type { CodecPhase } from '../codec/codec.js';

export type RoundPhase = IterationRecord['phase'];

/** The guest as a loop sees it: pages in slots, slot-local page numbers 0 .. count-1. */
export interface GuestPages {
  readonly pageSizeBytes: number;
  readonly ramBytes: number;
  /** Pages of each slot (a slot is a KVM memslot's worth of guest memory). */
  readonly slotPageCounts: readonly number[];
}

export interface PrecopySettings {
  /** --max-iterations, or null. */
  maxIterations: number | null;
  /** Post-copy may take over: when the policy gives up, or after postcopyAfterRounds rounds. */
  postcopy: boolean;
  postcopyAfterRounds: number | null;
  /** --postcopy-at: migrate-start-postcopy at this time of the run, ms (QEMU's loop); null: not by time. */
  postcopyAtMs: number | null;
  /** --multifd: QEMU's multifd channels (QEMU's loop; over TCP, a connection each); null: off. */
  multifdChannels: number | null;
  /** The rate one stream writes at: the link's, or over an unlimited link the host's copy rate, bits/s. */
  streamBitsPerSec: number;
  /** The link has a rate of its own (streams share it in turn), rather than unlimited (each at streamBitsPerSec). */
  linkLimited: boolean;
  /** QEMU's max-bandwidth, bits/s (null: none): the loop applies it, with limitRate or by its own windows. */
  maxBandwidthBitsPerSec: number | null;
}

/** The dirty log, as QEMU's bitmap sync sees KVM's. */
export interface DirtyPort {
  /** Fetches a slot's dirty pages (clearing them as the strategy does) into its page list; returns them. */
  fetch(slot: number): Uint32Array;
  /** Pages a fetch of every slot would return now, without fetching. */
  pending(): number;
  /**
   * Waits out the host's dirty-tracking costs owed so far (ioctls, walks, clears). On the real
   * clock waits under a millisecond gather until they add up to one, unless `exact` (the guest is
   * suspended: the downtime waits every microsecond).
   */
  pay(exact?: boolean): Promise<void>;
}

/** Pages of one send by the codec that took them. */
export interface CodecCount {
  pages: number;
  /** Of those, pages encoded to nothing (an unchanged page under xbzrle). */
  empty: number;
  /** Their encoded bytes (the page size each for raw pages). */
  bytes: number;
}

/** What a send put on the wire. */
export interface SendTotals {
  pages: number;
  /** Bytes on the wire, frame headers and descriptors included. */
  bytes: number;
  /** Pages whose bytes had not changed since they were last sent. */
  unchanged: number;
  /** By codec id (src/codec/codec.ts, CODEC_IDS): what a loop modelling a hypervisor's wire counts from. */
  byCodec: Record<number, CodecCount>;
}

/** How a page list is sent. */
export interface SendHow {
  /** Goes to the codecs with every frame (QEMU's loop gives it: xbzrle's rules). */
  phase?: CodecPhase;
  /**
   * The list is the first pass over memory with no dirty-log fetch before it (a dirty ring resets
   * nothing then); default: record 0. A loop that fetched before it sends says false.
   */
  firstPass?: boolean;
  /** The channel (SendPort.laneWritten) its frames go on; default: the transport spreads them. */
  lane?: number;
}

export interface SendPort {
  /** The most pages one frame carries. */
  readonly pagesPerFrame: number;
  /** A slot's page list: where a fetch leaves its pages, and where a loop puts the pages it sends next. */
  list(slot: number): Uint32Array;
  /** Sends the first `count` pages of the slot's list as frames of record `record`. */
  pages(slot: number, count: number, record: number, how?: SendHow): Promise<SendTotals>;
  /**
   * One round of the round-based kind: every page (`all`), or what a fresh fetch of the dirty log
   * finds, sent and arrived. Returns its record; keep it with records.keep.
   */
  round(phase: RoundPhase, all: boolean): Promise<IterationRecord>;
  /** Waits until everything sent has arrived at the target (and the dirty log's costs are paid). */
  delivered(): Promise<void>;
  /**
   * Waits until everything sent is written, not arrived (Transport.flushed: into the send buffer,
   * or with none onto the wire), the dirty log's costs paid.
   */
  written(): Promise<void>;
  /**
   * Where frames go on connections written on their own (over TCP, one per --multifd channel):
   * waits until every frame sent on `lane` is written (its socket write completed). Absent where
   * the channels are modelled (the virtual clock) or there is one.
   */
  laneWritten?(lane: number): Promise<void>;
}

/** Where a record starts: what it is measured from. */
export interface RecordStart {
  index: number;
  phase: RoundPhase;
  startMs: number;
  writesAtStart: number;
  meteredAtStart: number;
  throttlePercent: number;
  rateLimitBitsPerSec: number | null;
}

/** What a record counts besides what was sent. */
export interface RecordCounts {
  /** Pages the record's fetch (or sync) found. */
  dirtyPages: number;
  sent: SendTotals;
  /** CPU time of its fetches, ms. */
  scanMs: number;
  /** Pages left to send after it (its expected downtime); 0 for a stop-and-copy record. */
  pendingPages: number;
  /** Pages dirtied during it (its dirty rate); default pendingPages. */
  dirtiedPages?: number;
}

/** The result's rounds: a loop says where each starts and ends and what was decided after it. */
export interface RecordPort {
  begin(phase: RoundPhase): RecordStart;
  end(start: RecordStart, counts: RecordCounts): IterationRecord;
  /** Keeps a record in the result, with the words of what was decided after it. */
  keep(record: IterationRecord, why: string): void;
  /** Records kept so far. */
  count(): number;
}

/** Decisions, aids and limits. */
export interface ControlPort {
  readonly aids: readonly ConvergenceAid[];
  readonly controls: AidControls;
  /** Runs the aids on a round's (or a throttle period's) facts. */
  afterRound(facts: RoundFacts): void;
  /** Asks the stop policy; the answer is the run's last decision (a timeout reports it). */
  decide(state: PolicyState): PolicyDecision;
  /** For a loop with a switch-over rule of its own: its last decision (a timeout reports it). */
  note(decision: PolicyDecision): void;
  /** Throws to end the run: the timeout passed, a time limit cancelled it, or the run was interrupted. */
  checkpoint(): void;
  /** The data still to send, bytes, now (after a sync or a round): a time limit's measure of progress. */
  remaining(bytes: number): void;
  /** A time limit asked for post-copy: a loop that can switches at the end of its round. */
  postcopyRequested(): boolean;
  /** Limits the send rate to `bitsPerSec` (under the aids' rate) until the guest is suspended. */
  limitRate(bitsPerSec: number | null): void;
}

export interface PrecopyPort {
  readonly guest: GuestPages;
  readonly settings: PrecopySettings;
  /** The run's clock: simulated or real time, ms since the migration started. */
  readonly clock: Pick<Clock, 'nowMs' | 'sleepUntil'>;
  readonly dirty: DirtyPort;
  readonly send: SendPort;
  readonly records: RecordPort;
  readonly control: ControlPort;
}

/** Empty totals. */
export function noTotals(): SendTotals {
  return { pages: 0, bytes: 0, unchanged: 0, byCodec: {} };
}

/** Adds one send's totals to another's. */
export function addTotals(into: SendTotals, t: SendTotals): void {
  into.pages += t.pages;
  into.bytes += t.bytes;
  into.unchanged += t.unchanged;
  for (const [id, c] of Object.entries(t.byCodec)) countCodec(into, Number(id), c.pages, c.empty, c.bytes);
}

/** Adds pages of one codec to a send's totals. */
export function countCodec(into: SendTotals, id: number, pages: number, empty: number, bytes: number): void {
  const c = (into.byCodec[id] ??= { pages: 0, empty: 0, bytes: 0 });
  c.pages += pages;
  c.empty += empty;
  c.bytes += bytes;
}
