/** The resolved configuration of one migration run: every field has its unit in its name. */

export type WritePattern =
  | { kind: 'uniform' }
  /** A fraction of the pages (the hot set) receives `probability` of the writes. */
  | { kind: 'hotset'; fraction: number; probability: number }
  /** Writes walk the guest's pages in order, wrapping around. */
  | { kind: 'sequential' };

export type PolicyName = 'qemu' | 'qemu-rounds' | 'hyperv' | 'xen' | 'user';

/** A strategy from the user's own file (src/strategy/user.ts): its absolute path and the options given to it. */
export interface UserStrategyConfig {
  file: string;
  options: Record<string, string>;
}
export type { DirtyLogName } from '../dirtylog/dirty-log.js';
import type { DirtyLogName } from '../dirtylog/dirty-log.js';
import type { DirtyCostParams } from '../dirtylog/cost-meter.js';
import type { ContentMix } from '../guest/content.js';
import type { CodecName } from '../codec/codec.js';
import type { AutoConvergeOptions } from '../converge/auto-converge.js';
import type { DowntimeRampOptions } from '../converge/downtime-ramp.js';
import type { FaultSpec } from '../channel/fault.js';
import type { HostPort } from './address.js';
export type { ContentMix } from '../guest/content.js';

export interface RunConfig {
  /** Guest RAM, bytes (binary units on input: 512MiB). */
  ramBytes: number;
  /** Guest page size, bytes (default 4 KiB). */
  pageSizeBytes: number;
  /** Emulated vCPUs, one writer worker each. */
  vcpus: number;
  /** Page writes per second over all vCPUs (QEMU's dirty-rate unit: 200MB/s = 200e6 / pageSize). */
  pageWritesPerSec: number;
  pattern: WritePattern;
  /** Bytes changed by one write (default 8). */
  writeSizeBytes: number;
  /** After a throttle sleep, the writes due in its last catchUpMs are made up, the rest dropped. */
  catchUpMs: number;
  /** Link rate in bits per second (decimal); null means unlimited. */
  linkBitsPerSec: number | null;
  /** One-way link latency, milliseconds. */
  latencyMs: number;
  /**
   * QEMU's max-bandwidth: a rate limit of the migration itself, not of the link, lifted when the
   * guest is suspended (the final copy runs at the link's rate), bits per second; null: none.
   */
  maxBandwidthBitsPerSec: number | null;
  /** A built-in stop policy, or `user`: the one in userPolicy's file. */
  policy: PolicyName;
  /** --policy FILE: the user's stop policy (policy is then `user`); null: a built-in one. */
  userPolicy: UserStrategyConfig | null;
  /** --aid FILE: a convergence aid of the user's, acting after the built-in ones; null: none. */
  userAid: UserStrategyConfig | null;
  /** --precopy-loop FILE: the user's pre-copy loop, in place of the policy's; null: the policy's own. */
  userLoop: UserStrategyConfig | null;
  /** Downtime the qemu policy aims for, milliseconds (default 300). */
  downtimeLimitMs: number;
  /** Upper bound on pre-copy rounds for any policy; null means the policy's own. */
  maxIterations: number | null;
  /** Bound on the whole migration on its clock (simulated time on the virtual clock), ms; null: none. */
  timeoutMs: number | null;
  /** Seed of the initial content and, unless writeSeed differs, of the write streams. */
  seed: number;
  /**
   * Seed of the write streams (which pages, where, what bytes): the seed itself, or, for a suite's
   * repeat r > 0, one derived from it (repeatConfig), so repeats of one configuration differ in
   * their workload while their guests start from the same memory.
   */
  writeSeed: number;
  /** `real`: worker threads in real time; `virtual`: simulated time, deterministic for a seed. */
  clock: 'real' | 'virtual';
  /** Shares of zero, text-like and random pages; writes keep a page's kind. */
  content: ContentMix;
  /** QEMU's auto-converge, with its thresholds in percent; null: off. */
  autoConverge: AutoConvergeOptions | null;
  /** vMotion's stun during page send. */
  sdps: boolean;
  /** Xen's adaptive send rate. */
  adaptiveRate: boolean;
  /** Upper bound of the adaptive rate, bits/s; null: the link rate. */
  adaptiveMaxBitsPerSec: number | null;
  /** A downtime limit rising over rounds; null: the fixed --downtime-limit. */
  downtimeRamp: DowntimeRampOptions | null;
  /** Page codecs tried in order (src/codec/); [] sends every page raw. */
  codecs: CodecName[];
  /** --codec ./my-codec.js: the user's codec files, one per `user` in codecs, in order (src/codec/user-codec.ts). */
  userCodecs: UserStrategyConfig[];
  /** xbzrle's page cache on the sender, bytes. */
  xbzrleCacheBytes: number;
  /** deflate's compression level, 0-9. */
  deflateLevel: number;
  /** Threads that encode pages in parallel (QEMU's multifd channels); 0 encodes on the driver thread. */
  compressThreads: number;
  /** Charge measured encoding CPU time to simulated time (virtual clock only). */
  chargeCpu: boolean;
  /** Post-copy when the policy gives up (or after postcopyAfterRounds). */
  postcopy: boolean;
  /** Switch to post-copy after this many pre-copy rounds; null: only when the policy gives up. */
  postcopyAfterRounds: number | null;
  /** Dirty tracking strategy (src/dirtylog/). */
  dirtyLog: DirtyLogName;
  /** Entries of each vCPU's dirty ring, a power of two (dirtyLog 'ring' only). */
  ringSizeEntries: number;
  /** What dirty tracking costs the host and the guest (src/dirtylog/cost.ts). */
  dirtyCost: DirtyCostSpec;
  /** Migrate over TCP to a `migbench receive` there; null: the in-process (or virtual) channel. */
  target: HostPort | null;
  /** Shared secret the receiver checks (--target only); null: none. */
  token: string | null;
  /** Parallel TCP connections of a --target migration (multifd-like), 1 to 16. */
  streams: number;
  /** A fault the TCP transport injects (--target only); null: none. */
  fault: FaultSpec | null;
}

/** `--dirty-cost` as given: a preset and the parameters set over it, microseconds (src/dirtylog/cost.ts). */
export interface DirtyCostSpec {
  preset: 'kvm' | 'none';
  overrides: Partial<DirtyCostParams>;
}
