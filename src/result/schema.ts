/**
 * The result of one migration run: plain data with a versioned schema. Only src/report/ turns it
 * into text. Times are milliseconds from the start of the run (the `connect` stage) on the run's
 * clock; sizes are bytes; rates are per second.
 *
 * These types are the schema's own: nothing here is an internal type of the driver, so a change
 * inside migbench cannot change a result's shape unnoticed. The driver maps its state onto them
 * (src/config/result-config.ts: the derivation onto ResultConfig). A field may be added as
 * optional (readers treat it so); renaming or removing one, or changing its meaning, raises
 * RESULT_SCHEMA_VERSION, and readers refuse versions they do not know (src/report/compare.ts).
 */
export const RESULT_SCHEMA_VERSION = 1;

/** One round as the analytic model (src/model/precopy.ts) predicts it. */
export interface ModelRound {
  index: number;
  phase: 'precopy' | 'stop-and-copy';
  pagesSent: number;
  bytesSent: number;
  durationMs: number;
}

/** The analytic model's prediction for a run's configuration. */
export interface ModelPrediction {
  lambda: number;
  converges: boolean;
  /** Why the model's run ends where it ends, in the policy's terms. */
  why: string;
  rounds: ModelRound[];
  totalTimeMs: number;
  downtimeMs: number;
  bytesSent: number;
}

/** The options the run was made with, resolved, every unit in its name (`migbench run --help`). */
export interface ResultConfig {
  ramBytes: number;
  pageSizeBytes: number;
  /** Where the pages' bytes were: `materialized` or `procedural` (absent in results before there were two: materialized). */
  memory?: string;
  vcpus: number;
  /**
   * Page writes per second over all vCPUs, as configured (--dirty-rate / page size); not distinct
   * pages, which IterationRecord.dirtyPagesPerSec counts. The name is version 1's.
   */
  dirtyPagesPerSec: number;
  pattern:
    | { kind: 'uniform' }
    | { kind: 'hotset'; fraction: number; probability: number }
    | { kind: 'sequential'; fraction?: number };
  writeSizeBytes: number;
  /** Null: unlimited. */
  linkBitsPerSec: number | null;
  latencyMs: number;
  /** The migration's own rate limit, lifted at suspension (absent in results before it existed: none). */
  maxBandwidthBitsPerSec?: number | null;
  policy: string;
  /** `--policy FILE`: the user's policy (`policy` is then its name): its file, options and name; null: a built-in one. */
  userPolicy?: UserStrategyRecord | null;
  /** `--aid FILE`: the user's convergence aid; null: none. */
  userAid?: UserStrategyRecord | null;
  /** `--codec ...,./my-codec.js`: the user's codec files in chain order (`user` in codecs); their statistics are under their names in codec.byCodec. */
  userCodecs?: UserStrategyRecord[];
  /** `--precopy-loop FILE`: the user's pre-copy loop (`precopyLoop` is then `user`); null: the policy's own. */
  userLoop?: UserStrategyRecord | null;
  /** The pre-copy loop the policy ran on (absent in results before there were two: `rounds`). */
  precopyLoop?: string;
  downtimeLimitMs: number;
  maxIterations: number | null;
  timeoutMs: number | null;
  seed: number;
  /** Seed of the write streams: `seed`, or a suite repeat's own (absent in results before repeats differed: `seed`). */
  writeSeed?: number;
  /** A vCPU's catch-up after a throttle sleep, ms (absent in results before it existed: 0, and throttles slowed the pace evenly). */
  catchUpMs?: number;
  clock: 'real' | 'virtual';
  /**
   * Shares of the kinds; with a hot set, `placement`: its pages, and the hot set's own shares
   * (`hot`) or none (zero pages outside the hot set while they fit; absent in results before it).
   */
  content: {
    zeroPercent: number;
    textPercent: number;
    randomPercent: number;
    placement?: {
      pageCount: number;
      hotPages: number;
      hot?: { zeroPercent: number; textPercent: number; randomPercent: number };
    };
  };
  autoConverge: {
    thresholdPercent: number;
    initialPercent: number;
    incrementPercent: number;
    maxPercent: number;
  } | null;
  sdps: boolean;
  adaptiveRate: boolean;
  adaptiveMaxBitsPerSec: number | null;
  downtimeRamp: { startMs: number; endMs: number; steps: number } | null;
  postcopy: boolean;
  postcopyAfterRounds: number | null;
  /** --multifd: QEMU's multifd channels; null: off. Absent in results before it. */
  multifdChannels?: number | null;
  /** --host-copy-rate: an unlimited link's rate on the virtual clock, bits/s. Absent in results before it. */
  hostCopyBitsPerSec?: number;
  /** --send-buffer: the sending socket's buffer on the virtual clock, bytes (0: none). Absent in results before it. */
  sendBufferBytes?: number;
  /** --postcopy-at: when migrate-start-postcopy was issued, ms (--policy qemu); null: not by time. Absent in results before it. */
  postcopyAtMs?: number | null;
  /** --max-postcopy-bandwidth, bits/s; null: unlimited. Absent in results before it. */
  maxPostcopyBandwidthBitsPerSec?: number | null;
  codecs: string[];
  xbzrleCacheBytes: number;
  deflateLevel: number;
  compressThreads: number;
  chargeCpu: boolean;
  dirtyLog: string;
  ringSizeEntries: number;
  /** --dirty-cost as given (`kvm`, `kvm,fault=5us`, `none`); absent in results from before it existed (none). */
  dirtyCost?: string;
  target: { host: string; port: number } | null;
  /** Never the secret: '(hidden)' when one was given. */
  token: string | null;
  fault:
    { kind: 'drop' | 'corrupt' | 'kill-receiver'; round: number } | { kind: 'stall'; round: number; ms: number } | null;
  /** --workload trace:FILE: the trace (an absolute path), its replay speed and whether it loops; null: synthetic. Absent in results before it. */
  trace?: { file: string; speed: number; loop: boolean } | null;
}

/** One codec's work. */
export interface CodecResult {
  /** Pages this codec took. */
  pages: number;
  /** Bytes of those pages before encoding. */
  bytesIn: number;
  /** Bytes they took encoded (descriptors not included). */
  bytesOut: number;
  /** CPU time spent encoding, milliseconds, including pages it tried and passed on. */
  encodeMs: number;
  /** xbzrle only: cache hits, misses and encodings that overflowed the page (sent otherwise). */
  cacheHits?: number;
  cacheMisses?: number;
  overflows?: number;
}

/** Codec statistics of a round or a run: bytes before and after, ratio, and each codec's share. */
export interface CodecSummary {
  /** Page bytes before encoding. */
  bytesIn: number;
  /** Their encoded bytes (descriptors and frame headers not included). */
  bytesOut: number;
  /** bytesIn / bytesOut; null when nothing was output (every page a zero page, or no page). */
  ratio: number | null;
  /** Pages that travelled as zero pages. */
  zeroPages: number;
  xbzrleCacheHits: number;
  xbzrleCacheMisses: number;
  xbzrleOverflows: number;
  /** CPU time spent encoding, ms, over all encoder threads. */
  encodeMs: number;
  /** Each codec's own numbers, by codec name (raw: pages no codec took). */
  byCodec: Record<string, CodecResult>;
}

/** Post-copy runs: what happened after the switch-over. */
export interface PostcopyResult {
  /** Pre-copy rounds done before the switch (what --postcopy-after asked for, or where the policy gave up); with QEMU's loop, its dirty syncs then. */
  afterRounds: number;
  /** Pages missing on the target when it resumed. */
  pagesMissingAtResume: number;
  /** Requests the vCPUs made for pages not yet there (page faults reaching the source). */
  requests: number;
  /** Pages sent because a vCPU asked for them, ahead of the background push. */
  pagesSentOnRequest: number;
  /** Pages sent by the background push. */
  pagesPushed: number;
  /** Milliseconds each vCPU spent blocked on missing pages. */
  blockedMsPerVcpu: number[];
  /** When the last missing page arrived, from the start of the run. */
  lastPageArrivedMs: number;
  /** Page writes per second the guest achieved on the target during post-copy. */
  guestPageWritesPerSec: number;
  /** Page writes the guest did on the target. */
  guestPageWrites: number;
}

export type StageName = 'connect' | 'config' | 'precopy' | 'stop-and-copy' | 'resume' | 'announce' | 'postcopy';
/** The six stages of every migration; a post-copy run adds `postcopy` after them. */
export const STAGE_NAMES: readonly StageName[] = [
  'connect',
  'config',
  'precopy',
  'stop-and-copy',
  'resume',
  'announce',
];

export interface StageRecord {
  name: StageName;
  startMs: number;
  durationMs: number;
}

/** One copy round. Round 0 is the first full copy; the last round is the stop-and-copy round. */
/**
 * QEMU's own statistics of a run of its loop (`--policy qemu`), as query-migrate names them, so a
 * run compares with a real QEMU's figures directly. Bytes are QEMU's wire bytes (docs/qemu-precopy.md
 * section 6), not migbench's frames.
 */
export interface QemuStats {
  /** dirty-sync-count: bitmap syncs, the set-up sync and the last included. */
  dirtySyncCount: number;
  /** Pages each sync newly set in QEMU's bitmap, in order (the set-up sync's first). */
  pagesPerSync: number[];
  /** ram_save_iterate calls (18 bytes of section framing each). */
  iterations: number;
  /** transferred: pages at QEMU's cost (normal 8 + page, zero 9, xbzrle 11 + delta), 18 per call, the device state. */
  transferredBytes: number;
  /** normal: pages sent whole (xbzrle misses and overflows included). */
  normalPages: number;
  /** duplicate: zero pages. */
  duplicatePages: number;
  /** expected-downtime after the last pre-copy sync: what it left at the last window's bandwidth, ms; null before one. */
  expectedDowntimeMs: number | null;
  /** The highest cpu-throttle-percentage. */
  maxThrottlePercent: number;
  /** After a post-copy switch: postcopy-bytes, pages sent after it at QEMU's cost per page. */
  postcopyBytes?: number;
  /** After a post-copy switch: its commands (discard ranges, pings, LISTEN, RUN) and the package (counted twice), bytes. */
  postcopySwitchBytes?: number;
  /** After a post-copy switch: postcopy-requests, the page requests the source handled. */
  postcopyRequests?: number;
  /**
   * Downtime as QEMU counts it, from the stop to the device state (after a post-copy switch, the
   * package) written: what a send buffer still holds, and the transit, are excluded. ms. Absent
   * in results before it and where the run did not reach the stop.
   */
  downtimeMs?: number;
  /** After a post-copy switch: the guest's STOP on the source to its RESUME on the target, ms. */
  stopToResumeMs?: number;
  /** After a post-copy switch: postcopy-vcpu-blocktime, ms per vCPU. */
  postcopyVcpuBlocktimeMs?: number[];
  /** With --multifd: multifd-bytes, the channels' packets (headers and pages), init and sync messages. */
  multifdBytes?: number;
  /** postcopy-blocktime: the time every vCPU was blocked at once, ms (1 vCPU: its own; null where not measured). */
  postcopyBlocktimeMs?: number | null;
}

/** What dirty tracking cost (--dirty-cost), ms: a round's, or (Totals) the run's. */
export interface DirtyCostRecord {
  /** The migration thread's waits: enabling the log, fetches (syncs), CLEAR_DIRTY_LOG calls, ring harvests and resets. */
  host: { enableMs: number; syncMs: number; clearMs: number; harvestMs: number; resetMs: number };
  /** The vCPUs' losses, summed over vCPUs: write-protect faults and ring-full exits (their count and time). */
  guest: { faults: number; faultMs: number; ringFullExits: number; ringFullExitMs: number };
}

export interface IterationRecord {
  index: number;
  /** `precopy` rounds run with the guest live; the `stop-and-copy` round with it suspended. */
  phase: 'precopy' | 'stop-and-copy';
  startMs: number;
  /** Pages found dirty when the round's scan ran (all pages for round 0). */
  dirtyPages: number;
  pagesSent: number;
  /** Bytes put on the wire in this round, frame headers and descriptors included. */
  bytesSent: number;
  durationMs: number;
  /** CPU time spent fetching the round's dirty pages (scan, or ring harvest), measured in real
   * milliseconds on either clock: it is what dirty-tracking strategies are compared on. */
  scanMs: number;
  /** Distinct pages dirtied per second during the round (dirty pages found after it / its duration). */
  dirtyPagesPerSec: number;
  /** Link bits per second achieved in this round. */
  achievedLinkBitsPerSec: number;
  /** What the downtime would be if the guest stopped now: remaining dirty bytes / bandwidth. */
  expectedDowntimeMs: number;
  /** Pages sent in this round whose bytes had not changed since they were last sent. */
  pagesResentUnchanged: number;
  /** Share of their time the vCPUs were held back during the round (auto-converge, SDPS), percent. */
  throttlePercent: number;
  /** The send rate limit during the round (Xen's adaptive rate), bits/s; null: the link's rate. */
  rateLimitBitsPerSec: number | null;
  /** The downtime limit the policy weighed after the round (it moves with --downtime-ramp). */
  downtimeLimitMs: number;
  /** Page writes per second the guest achieved during the round: its slowdown shows here. */
  guestPageWritesPerSec: number;
  /** With --codec: what encoding did in this round. */
  codec?: CodecSummary;
  /** --dirty-log ring: times a vCPU found its ring full and stalled, during the round. */
  ringFullStalls?: number;
  /** --dirty-log ring: milliseconds vCPUs spent stalled on full rings, summed, during the round. */
  ringStallMs?: number;
  /**
   * What dirty tracking cost during the round (unless --dirty-cost none), ms: the host's (enabling
   * the log, syncs, clears, ring harvests and resets), which the migration thread waited, and the
   * guest's (write-protect faults and ring-full exits, summed over vCPUs), which held the vCPUs.
   */
  dirtyCost?: DirtyCostRecord;
}

/** One interval of the run (result.series): what crossed the link and what the guest wrote in it. */
export interface IntervalRecord {
  /** On the run's clock, ms. */
  startMs: number;
  durationMs: number;
  bytesSent: number;
  linkBitsPerSec: number;
  guestPageWrites: number;
  guestPageWritesPerSec: number;
  /** The guest was suspended (stop-and-copy on): its writes are none. */
  suspended: boolean;
}

/** The guest's pace around the migration (guestperf's measure): slowdown from throttling and faults shows. */
export interface GuestPerf {
  beforePageWritesPerSec: number;
  /** Over the live pre-copy rounds. */
  duringPageWritesPerSec: number;
  /** On the target during post-copy; null without post-copy. */
  afterPageWritesPerSec: number | null;
  /** Milliseconds to update a GiB of guest memory at each pace (a write updates a page). */
  beforeMsPerGiB: number | null;
  duringMsPerGiB: number | null;
  afterMsPerGiB: number | null;
  /** during / before. */
  slowdownDuring: number | null;
}

export interface Totals {
  totalTimeMs: number;
  downtimeMs: number;
  bytesSent: number;
  pagesSent: number;
  /** Pre-copy rounds plus the stop-and-copy round. */
  iterations: number;
  achievedLinkBitsPerSec: number;
  /** Page writes per second the guest's vCPUs actually performed while live. */
  achievedDirtyPagesPerSec: number;
  /** Total page writes the vCPUs performed. */
  guestPageWrites: number;
  /** bytesSent / guest RAM. */
  ramMultiplesSent: number;
  /** Wall-clock milliseconds the migration took to run (equal to totalTimeMs on the real clock). */
  wallTimeMs: number;
  /** Set-up before the clock started (absent in results of migbench before 0.2). */
  setup?: SetupRecord;
  /** With --codec: what encoding did over the whole run. */
  codec?: CodecSummary;
  /** Unless --dirty-cost none: what dirty tracking cost over the run, the sum of the rounds' dirtyCost. */
  dirtyCost?: DirtyCostRecord;
  guestPerf?: GuestPerf;
}

/** The guest memories' set-up, before the clock starts (src/memory/setup.ts). */
export interface SetupRecord {
  /** Wall-clock ms from the start of the run to the clock's start: memories, content, fault-in, the guest's start. */
  wallMs: number;
  /** Wall-clock ms of writing the memories (content, zeroing, fault-in) on `threads` threads. */
  memoryWallMs: number;
  threads: number;
  /** Slot memories allocated new (faulted in) and reused from an earlier run of this process (rewritten). */
  freshSlots: number;
  reusedSlots: number;
}

export interface Environment {
  node: string;
  platform: string;
  arch: string;
  cpu: string;
  cores: number;
  totalMemoryBytes: number;
  wasmSimd: boolean;
}

export interface MigrationResult {
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  tool: 'migbench';
  startedAt: string;
  status: 'completed' | 'failed';
  /** Why the run failed; absent when completed. */
  reason?: string;
  /** After a failure: whether the guest still runs on the source. */
  sourceRunning: boolean;
  /** Target memory equals source memory at suspension, byte for byte. */
  verified: boolean;
  /** What ended pre-copy, in the policy's words (e.g. "pending 1.2 MiB fits 300 ms at 1.2 GB/s"). */
  switchoverReason?: string;
  config: ResultConfig;
  environment: Environment;
  totals: Totals;
  stages: StageRecord[];
  iterations: IterationRecord[];
  /** Post-copy runs: requests, blocked time, when the last page arrived, the guest's writes on the target. */
  postcopy?: PostcopyResult;
  /**
   * The run in intervals of 100 ms of its clock (longer for long runs, up to 2,048 of them), from
   * the connection to the resume: bytes sent and the guest's page writes in each, and their rates.
   */
  series?: IntervalRecord[];
  /** The analytic model's prediction for the same configuration (`run --model`). */
  model?: ModelPrediction;
  /** With `--policy qemu`: QEMU's own statistics of the run. */
  qemu?: QemuStats;
  /** What the run could not do as asked, without failing: e.g. a `--fault` whose round never came. */
  warnings?: string[];
  /** Time limits that fired (an evacuation's KubeVirt-style timeouts), and what was done. */
  limits?: LimitEvent[];
  /**
   * --workload trace:FILE: how the replay kept the recording's pace: the page writes the trace has
   * in the time the guest ran (at --trace-speed), and those the vCPUs did; below 100 % when the
   * guest was throttled or the host could not keep up.
   */
  workload?: { kind: 'trace'; recordedWrites: number; writes: number; pacePercent: number };
}

/** A strategy from the user's file: its absolute path, the options given to it, and the name it gave itself. */
export interface UserStrategyRecord {
  file: string;
  options: Record<string, string>;
  /** Set once the file is loaded (a run's result has it). */
  name?: string;
}

/** A time limit that fired (src/driver/limits.ts), and what was done. */
export interface LimitEvent {
  /** On the run's clock, ms. */
  atMs: number;
  limit: 'completion' | 'progress';
  action: 'cancel' | 'postcopy' | 'auto-converge';
  why: string;
}
