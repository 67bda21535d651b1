/**
 * A world is where a migration runs: in this process on threads in real time, in simulated time,
 * or over TCP to another host. Each is a factory (one file here, one line in registry.ts) that
 * returns the same small set of parts; the driver sequences stages over them and never asks which
 * world it is in.
 */
import type { TraceConfig } from '../trace/options.js';
import type { MemoryConfig } from '../memory/options.js';
import type { GuestConfig } from '../guest/options.js';
import type { CodecConfig } from '../codec/options.js';
import type { ClockConfig } from '../clock/options.js';
import type { LinkConfig } from '../link/options.js';
import type { RemoteConfig } from '../channel/options.js';
import type { PrecopyConfig } from '../precopy/options.js';
import type { Clock } from '../clock/clock.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { Transport } from '../channel/transport.js';
import type { GuestHost, GuestOptions } from '../guest/host.js';
import type { PostcopyPlacement } from '../guest/guest.js';
import type { MarkMode } from '../dirtylog/dirty-log.js';
import type { FrameEncoding } from '../codec/encoding.js';
import type { Link } from '../link/link.js';
import type { GuestShape } from '../memory/layout.js';
import type { TimelineParticipant } from '../clock/timeline.js';

/** What a world is built from: the guest, its codecs, the clock, the link and the target. */
export interface WorldConfig
  extends
    MemoryConfig,
    GuestConfig,
    CodecConfig,
    ClockConfig,
    LinkConfig,
    RemoteConfig,
    TraceConfig,
    Pick<PrecopyConfig, 'postcopy' | 'multifdChannels'> {}

export interface WorldContext {
  config: WorldConfig;
  source: GuestMemory;
  /** The target's memory where it is in this process; null where it is on another host. */
  target: GuestMemory | null;
  module: WebAssembly.Module;
  /** The link this migration's frames go over (maybe shared with other migrations). */
  link: Link;
  /** Under the virtual clock: the shared timeline this migration runs on beside others (an evacuation); absent: a clock of its own. */
  timeline?: TimelineParticipant;
}

export interface World {
  readonly clock: Clock;
  /** The channel to the target (src/channel/). */
  readonly transport: Transport;
  /** How page lists become frame bodies with codecs on; undefined without codecs. */
  readonly encoding: FrameEncoding | undefined;
  /** Starts the source's guest, its vCPUs logging writes with `mark`. */
  sourceGuest(mark: MarkMode): GuestHost;
  /**
   * The guest that runs on the target after a post-copy switch-over: started, parked until it
   * resumes. Absent where the target's vCPUs run on another host (TCP: the receiver runs them,
   * Transport.remotePostcopy).
   */
  targetGuest?(placement: PostcopyPlacement): GuestHost;
  /** The guest's pace before migrating, page writes per second. */
  measurePace(guest: GuestHost): Promise<number>;
  /** Time 0: the migration starts now (after set-up). */
  start(): void;
  /** Charges `ms` of measured CPU time to the clock (the virtual clock's --charge-cpu); absent: CPU time is not charged. */
  readonly chargeCpu?: (ms: number) => Promise<void>;
}

export interface WorldFactory {
  /** Whether the target's memory is in this process (the run then allocates it). */
  readonly localTarget: boolean;
  create(context: WorldContext): World;
}

/** The guest options of a run configuration. */
export function guestOptions(config: GuestConfig & TraceConfig, source: GuestMemory): GuestOptions {
  return {
    procedural: source.procedural?.handle ?? null,
    trace: config.trace,
    vcpus: config.vcpus,
    pageWritesPerSec: config.pageWritesPerSec,
    pattern: config.pattern,
    writeSizeBytes: config.writeSizeBytes,
    catchUpMs: config.catchUpMs,
    seed: config.seed,
    writeSeed: config.writeSeed,
    content: config.content,
  };
}

/** The target memory of a world whose target is in this process. */
export function localTarget(context: WorldContext): GuestMemory {
  if (context.target === null)
    throw new Error('this world delivers into a target memory of this process; none was given');
  return context.target;
}

/** The guest's shape as vCPU threads are given it. */
export function shapeOf(memory: GuestMemory): GuestShape {
  const l = memory.layout;
  return { pageCount: l.pageCount, pagesPerSlot: l.pagesPerSlot, pageSizeBytes: l.pageSizeBytes };
}
