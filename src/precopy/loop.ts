/**
 * A pre-copy loop: what to send next while the guest runs, when to fetch the dirty log again, and
 * when to hand over to the stop-and-copy stage. It is one strategy beside the stop policy and the
 * convergence aids, which it consults through its port (src/precopy/port.ts): the round-based loop
 * (rounds.ts) sends every dirty page, then fetches; QEMU's (qemu.ts) syncs on its own triggers and
 * sends from a circular cursor; a user's file (user-loop.ts) drives rounds through a small context.
 * Each declares what it takes beyond sending rounds; the option checks ask it (refusal below).
 * Adding one is a file here and a line in registry.ts.
 */
import { RunFailure } from '../util/errors.js';
import type { IterationRecord, QemuStats } from '../result/schema.js';
import type { PolicyDecision } from '../policy/policy.js';
import type { PrecopyPort, SendTotals } from './port.js';

export interface PrecopyOutcome {
  /** Why pre-copy ended (a switch-over: to stop-and-copy, or to post-copy). */
  decision: PolicyDecision;
  /** Pre-copy rounds before a post-copy switch-over; null: no post-copy. */
  postcopyAfter: number | null;
}

export interface PrecopyLoop {
  readonly name: string;
  /** Runs pre-copy to its end; throws PrecopyFailure when the policy gives up without post-copy. */
  run(port: PrecopyPort): Promise<PrecopyOutcome>;
  /**
   * The stop-and-copy copy, the guest suspended: sends every page still to go (what the dirty
   * log holds, and what the loop holds back) and returns the round's record, device state not
   * yet included.
   */
  final(port: PrecopyPort): Promise<IterationRecord>;
  /** A loop that models QEMU's: its statistics as QEMU reports them, the device state's bytes added. */
  qemuStats?(deviceStateBytes: number, maxThrottlePercent: number): QemuStats;
  /**
   * A loop with its own post-copy switch (QEMU's postcopy_start), the guest suspended: its last
   * sync, then every page it still holds to send, ascending, into each slot's list (what the
   * target lacks, in the order its background sweep sends them). Returns the count per slot.
   * Without it, what the dirty log holds is what the target lacks.
   */
  postcopySwitch?(port: PrecopyPort): Promise<number[]>;
  /** The pages sent after the post-copy switch, counted as QEMU counts them (postcopy-bytes). */
  countPostcopy?(sent: SendTotals): void;
}

/** Pre-copy gave up: the run fails with this reason and the guest stays on the source. */
export class PrecopyFailure extends RunFailure {}

/** The options a loop may take beyond sending rounds, by their option keys. */
export type LoopOption =
  | 'maxIterations'
  | 'postcopyAfter'
  | 'postcopy'
  | 'postcopyAt'
  | 'maxPostcopyBandwidth'
  | 'multifd'
  | 'sdps'
  | 'adaptiveRate'
  | 'downtimeRamp';

/** The order in which a configuration's options are checked against its loop. */
const LOOP_OPTIONS: readonly LoopOption[] = [
  'maxIterations',
  'postcopyAfter',
  'postcopy',
  'postcopyAt',
  'maxPostcopyBandwidth',
  'multifd',
  'sdps',
  'adaptiveRate',
  'downtimeRamp',
];

/** What a kind of loop takes, and how it says no. */
export interface LoopDeclaration {
  readonly name: string;
  /** The options it takes; any other present is refused. */
  readonly takes: readonly LoopOption[];
  /** What follows the flag in a refusal: where the option does work. */
  readonly elsewhere: string;
  /** An xbzrle cache of any size, or (as QEMU) a power of two only, with what to say otherwise. */
  readonly xbzrleCache: 'any' | { powerOfTwo: (got: string) => string };
}

/** A kind of loop: its declaration, and how one is made. */
export interface PrecopyLoopKind extends LoopDeclaration {
  create(): PrecopyLoop;
}

/** What a configuration asks of its loop: each option present or not, and xbzrle's cache if xbzrle is on. */
export interface LoopUse {
  options: Record<LoopOption, boolean>;
  /** With xbzrle on, its cache: bytes and as written; null without xbzrle. */
  xbzrleCache: { bytes: number; text: string } | null;
}

/** Why a loop refuses what a configuration asks of it, naming the option; null when it takes it all. */
export function loopRefusal(
  kind: LoopDeclaration,
  use: LoopUse,
): { option: LoopOption | 'xbzrleCache'; why: string } | null {
  const option = LOOP_OPTIONS.find((o) => use.options[o] && !kind.takes.includes(o));
  if (option !== undefined) return { option, why: kind.elsewhere };
  const cache = use.xbzrleCache;
  if (cache !== null && kind.xbzrleCache !== 'any' && !Number.isInteger(Math.log2(cache.bytes))) {
    return { option: 'xbzrleCache', why: kind.xbzrleCache.powerOfTwo(cache.text) };
  }
  return null;
}
