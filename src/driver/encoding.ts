/**
 * How the sender turns page lists into frame bodies when codecs are on: on the driver's thread
 * (--compress-threads 0) or on N encoder threads, one piscina pool of one thread each, so that a
 * page always goes to the same thread (xbzrle's cache lives there) — QEMU's multifd channels.
 */
import { Piscina } from 'piscina';
import type { RunConfig } from '../config/types.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { EncodeResult, EncodeTask, EncoderWorkerData } from '../protocol.js';
import { ChainEncoder, sumChainStats, type ChainSettings, type ChainStats } from '../codec/chain-encoder.js';

const ENCODE_WORKER = new URL('../codec/encode-worker.js', import.meta.url).href;

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
  encode(lane: number, slot: number, listPtr: number, count: number, bodyPtr: number, capacityBytes: number): Promise<EncodedBody>;
  /** Cumulative statistics of every lane. */
  stats(): ChainStats;
  close(): Promise<void>;
}

export function chainSettings(config: RunConfig): ChainSettings {
  return {
    codecs: config.codecs, pageSizeBytes: config.pageSizeBytes, xbzrleCacheBytes: config.xbzrleCacheBytes, deflateLevel: config.deflateLevel,
  };
}

/** Encoding on the driver's thread. */
export class InlineEncoding implements FrameEncoding {
  readonly lanes = 1;
  readonly depth = 1;
  readonly sticky = false;
  private readonly encoder: ChainEncoder;

  constructor(source: GuestMemory, config: RunConfig) {
    this.encoder = new ChainEncoder(source.slots, source.kernels, chainSettings(config));
  }

  async encode(_lane: number, slot: number, listPtr: number, count: number, bodyPtr: number, capacityBytes: number): Promise<EncodedBody> {
    const t0 = performance.now();
    const bodyLength = this.encoder.encode(slot, listPtr, count, bodyPtr, capacityBytes);
    return { bodyLength, cpuMs: performance.now() - t0 };
  }

  stats(): ChainStats {
    return this.encoder.stats();
  }

  async close(): Promise<void> {}
}

/** Encoding on `threads` worker threads. */
export class ThreadedEncoding implements FrameEncoding {
  readonly lanes: number;
  readonly depth: number;
  readonly sticky: boolean;
  private readonly pools: Piscina[];
  private readonly latest: ChainStats[];

  constructor(source: GuestMemory, module: WebAssembly.Module, config: RunConfig, frameBuffers: number) {
    this.lanes = config.compressThreads;
    // Frames held while encoding are not yet the channel's: keep one buffer free for it.
    this.depth = Math.max(1, Math.min(frameBuffers - 1, 2 * this.lanes));
    this.sticky = config.codecs.includes('xbzrle');
    const workerData: EncoderWorkerData = { module, slots: source.slots, settings: chainSettings(config) };
    this.pools = Array.from({ length: this.lanes }, () => new Piscina({
      filename: ENCODE_WORKER, minThreads: 1, maxThreads: 1, idleTimeout: Infinity, workerData,
    }));
    this.latest = this.pools.map(() => ({}));
  }

  async encode(lane: number, slot: number, listPtr: number, count: number, bodyPtr: number, capacityBytes: number): Promise<EncodedBody> {
    const task: EncodeTask = { kind: 'encode', slot, listPtr, count, bodyPtr, capacityBytes };
    const r = (await this.pools[lane].run(task, { name: 'encode' })) as EncodeResult;
    this.latest[lane] = r.stats;
    return { bodyLength: r.bodyLength, cpuMs: r.cpuMs };
  }

  stats(): ChainStats {
    return sumChainStats(this.latest);
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.destroy()));
  }
}
