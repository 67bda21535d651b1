/**
 * How the sender turns page lists into frame bodies when codecs are on: on the driver's thread
 * (--compress-threads 0) or on N encoder threads, one piscina pool of one thread each, so that a
 * page always goes to the same thread (xbzrle's cache lives there) — QEMU's multifd channels.
 */
import { Piscina } from 'piscina';
import type { MemoryConfig } from '../memory/options.js';
import type { CodecConfig } from './options.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { EncodeResult, EncodeTask, EncoderWorkerData } from './messages.js';
import type { ReadProgress, WriteGate } from '../memory/write-gate.js';
import { RunFailure } from '../util/errors.js';
import type { CodecPhase } from './codec.js';
import { ChainEncoder, sumChainStats, type ChainSettings, type ChainStats } from './chain-encoder.js';

const ENCODE_WORKER = new URL('./encode-worker.js', import.meta.url).href;
/** An encoder thread that finishes nothing for this long has stalled. */
const ENCODE_STALL_MS = 10_000;

export interface EncodedBody {
  bodyLength: number;
  /** CPU time the encoding took, ms. */
  cpuMs: number;
}

export interface FrameEncoding {
  /** Threads encoding in parallel (1 on the driver's thread). */
  readonly lanes: number;
  /** Frames that may be encoding at once. */
  readonly depth: number;
  /** Whether a page must always go to the same lane (a codec with state per page, xbzrle). */
  readonly sticky: boolean;
  encode(
    lane: number,
    slot: number,
    listPtr: number,
    count: number,
    bodyPtr: number,
    capacityBytes: number,
    phase?: CodecPhase,
  ): Promise<EncodedBody>;
  /** Resolves once every lane can take frames. */
  open(): Promise<void>;
  /** Cumulative statistics of every lane. */
  stats(): ChainStats;
  close(): Promise<void>;
}

/** What an encoding is built from: the codec chain's settings and the threads to run it on. */
export interface EncodingOptions {
  chain: ChainSettings;
  /** Encoder threads; 0 encodes on the driver's thread. */
  threads: number;
}

export function encodingOptions(config: CodecConfig & MemoryConfig): EncodingOptions {
  return {
    chain: {
      codecs: config.codecs,
      userCodecs: config.userCodecs,
      pageSizeBytes: config.pageSizeBytes,
      xbzrleCacheBytes: config.xbzrleCacheBytes,
      deflateLevel: config.deflateLevel,
    },
    threads: config.compressThreads,
  };
}

/** The encoding for these options: none without codecs, else inline or on threads. */
export function createEncoding(
  source: GuestMemory,
  module: WebAssembly.Module,
  options: EncodingOptions,
  gate?: WriteGate,
): FrameEncoding | undefined {
  if (options.chain.codecs.length === 0) return undefined;
  return options.threads > 0
    ? new ThreadedEncoding(source, module, options, source.slots[0].layout.frameBuffers, gate)
    : new InlineEncoding(source, options.chain);
}

/** Encoding on the driver's thread. */
export class InlineEncoding implements FrameEncoding {
  readonly lanes = 1;
  readonly depth = 1;
  readonly sticky = false;
  private readonly encoder: ChainEncoder;

  constructor(source: GuestMemory, chain: ChainSettings) {
    this.encoder = new ChainEncoder(source.slots, source.kernels, chain, source.procedural?.handle ?? null);
  }

  async encode(
    _lane: number,
    slot: number,
    listPtr: number,
    count: number,
    bodyPtr: number,
    capacityBytes: number,
    phase?: CodecPhase,
  ): Promise<EncodedBody> {
    const t0 = performance.now();
    const bodyLength = this.encoder.encode(slot, listPtr, count, bodyPtr, capacityBytes, phase);
    return { bodyLength, cpuMs: performance.now() - t0 };
  }

  async open(): Promise<void> {}

  stats(): ChainStats {
    return this.encoder.stats();
  }

  async close(): Promise<void> {}
}

/**
 * Encoding on `threads` worker threads. Where a write gate is given (the virtual clock's guest
 * writes on the driver's thread while encoders read), each frame's pages are held until its
 * encoder has read them: a frame stands for its pages' bytes at the instant it was handed over.
 */
export class ThreadedEncoding implements FrameEncoding {
  readonly lanes: number;
  readonly depth: number;
  readonly sticky: boolean;
  private readonly pools: Piscina[];
  private readonly latest: ChainStats[];
  private readonly finished: Int32Array;
  private readonly issued: number[];
  private readonly progress: ReadProgress[];

  constructor(
    private readonly source: GuestMemory,
    module: WebAssembly.Module,
    options: EncodingOptions,
    frameBuffers: number,
    private readonly gate?: WriteGate,
  ) {
    this.lanes = options.threads;
    // Frames held while encoding are not yet the channel's: keep one buffer free for it.
    this.depth = Math.max(1, Math.min(frameBuffers - 1, 2 * this.lanes));
    this.sticky = options.chain.codecs.includes('xbzrle');
    const progress = new SharedArrayBuffer(4 * this.lanes);
    this.finished = new Int32Array(progress);
    this.issued = Array.from({ length: this.lanes }, () => 0);
    this.pools = Array.from(
      { length: this.lanes },
      (_, lane) =>
        new Piscina({
          // Every frame in flight is posted to the thread at once (it runs them in order): the write
          // gate's waits must not depend on this thread's event loop to hand a task over.
          filename: ENCODE_WORKER,
          minThreads: 1,
          maxThreads: 1,
          idleTimeout: Infinity,
          concurrentTasksPerWorker: this.depth,
          workerData: {
            module,
            slots: source.slots,
            settings: options.chain,
            progress,
            lane,
            procedural: source.procedural?.handle ?? null,
          } satisfies EncoderWorkerData,
        }),
    );
    this.latest = this.pools.map(() => ({}));
    this.progress = this.pools.map((_, lane) => ({
      done: (frame) => Atomics.load(this.finished, lane) > frame,
      wait: (frame) => {
        const since = performance.now();
        for (let n = Atomics.load(this.finished, lane); n <= frame; n = Atomics.load(this.finished, lane)) {
          if (
            Atomics.wait(this.finished, lane, n, 100) === 'timed-out' &&
            performance.now() - since > ENCODE_STALL_MS
          ) {
            throw new RunFailure(`encoder thread ${lane} finished nothing for ${ENCODE_STALL_MS / 1000} s`);
          }
        }
      },
    }));
  }

  async encode(
    lane: number,
    slot: number,
    listPtr: number,
    count: number,
    bodyPtr: number,
    capacityBytes: number,
    phase?: CodecPhase,
  ): Promise<EncodedBody> {
    // A lane's thread runs its tasks in order: this is its frame number `issued`.
    const frame = this.issued[lane]++;
    // A procedural memory's frame carries its pages' states (the sender took them): nothing to hold.
    if (this.gate && this.source.procedural === null)
      this.gate.hold(
        this.progress[lane],
        frame,
        slot,
        new Uint32Array(this.source.slots[slot].memory.buffer, listPtr, count),
      );
    const task: EncodeTask = { kind: 'encode', slot, listPtr, count, bodyPtr, capacityBytes, phase };
    const r = (await this.pools[lane].run(task, { name: 'encode' })) as EncodeResult;
    this.latest[lane] = r.stats;
    return { bodyLength: r.bodyLength, cpuMs: r.cpuMs };
  }

  /** Every thread is up and has answered (piscina posts tasks only to a thread that has). */
  async open(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.run(null, { name: 'ping' })));
  }

  stats(): ChainStats {
    return sumChainStats(this.latest);
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.destroy()));
  }
}
