/**
 * A codec chain bound to a source guest's slots, on whichever thread encodes: the driver's (with
 * --compress-threads 0) or an encoder worker's. It encodes a slot's page list straight from guest
 * memory into a frame buffer of the same slot and keeps the chain's statistics.
 */
import type { SlotHandle } from '../memory/layout.js';
import type { Kernels } from '../kernel/types.js';
import type { CodecName, CodecPhase, CodecStats, PageCodec } from './codec.js';
import { createCodecChain } from './registry.js';
import { encodePages, newRawStats } from './frame-codec.js';
import { zeroTestInMemories } from './zero.js';
import type { UserStrategyConfig } from '../util/user-file.js';
import { ProceduralMemory, type ProceduralHandle } from '../memory/procedural.js';
import { HEADER_BYTES } from '../wire/frame.js';

export interface ChainSettings {
  codecs: CodecName[];
  /** The user's codec files, one per `user` in codecs, in order (src/codec/user-codec.ts). */
  userCodecs: UserStrategyConfig[];
  pageSizeBytes: number;
  xbzrleCacheBytes: number;
  deflateLevel: number;
}

/** Cumulative statistics per codec, raw included. */
export type ChainStats = Partial<Record<string, CodecStats>>;

export class ChainEncoder {
  private readonly chain: PageCodec[];
  private readonly raw = newRawStats();
  private readonly pages: Uint8Array[];
  /** The pages' procedural memory (src/memory/procedural.ts), or null: they are in the slots. */
  private readonly procedural: ProceduralMemory | null;
  /** Where a procedural page is made before the codecs read it. */
  private readonly made: Uint8Array;

  constructor(
    private readonly slots: SlotHandle[],
    kernels: Kernels[],
    settings: ChainSettings,
    procedural: ProceduralHandle | null = null,
  ) {
    const isZero = zeroTestInMemories(slots.map((s, i) => ({ memory: s.memory, kernels: kernels[i] })));
    this.chain = createCodecChain(settings.codecs, { ...settings, isZero });
    this.procedural = procedural ? new ProceduralMemory(procedural) : null;
    this.made = new Uint8Array(this.procedural ? settings.pageSizeBytes : 0);
    this.pages = this.procedural
      ? []
      : slots.map(
          (s) => new Uint8Array(s.memory.buffer, s.layout.pagesPtr, s.layout.pageCount * s.layout.pageSizeBytes),
        );
  }

  /**
   * Encodes `count` slot-local pages listed at listPtr into the body at bodyPtr; returns its
   * length. `phase`, when given, is handed to the codecs that follow it first (CodecPhase).
   */
  encode(
    slot: number,
    listPtr: number,
    count: number,
    bodyPtr: number,
    capacityBytes: number,
    phase?: CodecPhase,
  ): number {
    if (phase !== undefined) for (const c of this.chain) c.phase?.(phase);
    const s = this.slots[slot];
    const list = new Uint32Array(s.memory.buffer, listPtr, count);
    const out = new Uint8Array(s.memory.buffer, bodyPtr, capacityBytes);
    const l = s.layout;
    const pm = this.procedural;
    let pages: Uint8Array | ((local: number, i: number) => Uint8Array) = this.pages[slot];
    if (pm) {
      // The states the sender took when it handed the frame over, beside its buffer (SlotLayout.statesPtr).
      const index = (bodyPtr - HEADER_BYTES - l.framesPtr) / l.frameBytes;
      const states = new Uint32Array(s.memory.buffer, l.statesPtr + index * l.pagesPerFrame * 4, count);
      pages = (local, i) => {
        pm.generate(l.firstPage + local, states[i], this.made);
        return this.made;
      };
    }
    return encodePages(this.chain, pages, l.pageSizeBytes, list, l.firstPage, out, this.raw);
  }

  stats(): ChainStats {
    const all: ChainStats = { raw: { ...this.raw } };
    for (const c of this.chain) all[c.name] = c.stats();
    return all;
  }
}

/** Sums statistics of several chains (one per encoder thread). */
export function sumChainStats(parts: readonly ChainStats[]): ChainStats {
  const total: ChainStats = {};
  for (const part of parts) {
    for (const [name, s] of Object.entries(part) as [string, CodecStats][]) {
      const t = (total[name] ??= { pages: 0, bytesIn: 0, bytesOut: 0, encodeMs: 0 });
      t.pages += s.pages;
      t.bytesIn += s.bytesIn;
      t.bytesOut += s.bytesOut;
      t.encodeMs += s.encodeMs;
      for (const k of ['cacheHits', 'cacheMisses', 'overflows'] as const) {
        if (s[k] !== undefined) t[k] = (t[k] ?? 0) + s[k];
      }
    }
  }
  return total;
}

/** What changed between two cumulative snapshots. */
export function diffChainStats(now: ChainStats, before: ChainStats): ChainStats {
  const d: ChainStats = {};
  for (const [name, s] of Object.entries(now) as [string, CodecStats][]) {
    const b = before[name];
    d[name] = {
      pages: s.pages - (b?.pages ?? 0),
      bytesIn: s.bytesIn - (b?.bytesIn ?? 0),
      bytesOut: s.bytesOut - (b?.bytesOut ?? 0),
      encodeMs: s.encodeMs - (b?.encodeMs ?? 0),
    };
    for (const k of ['cacheHits', 'cacheMisses', 'overflows'] as const) {
      if (s[k] !== undefined) (d[name] as CodecStats)[k] = (s[k] ?? 0) - (b?.[k] ?? 0);
    }
  }
  return d;
}
