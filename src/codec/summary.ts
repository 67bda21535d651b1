/** Codec statistics as a result reports them: bytes before and after, ratio, and each codec's share. */
import type { ChainStats } from './chain-encoder.js';
import type { CodecName, CodecStats } from './codec.js';

export interface CodecRoundStats {
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
  /** Each codec's own numbers (raw: pages no codec took). */
  byCodec: Partial<Record<CodecName, CodecStats>>;
}

export function summarizeCodecs(stats: ChainStats): CodecRoundStats {
  const all = Object.values(stats) as CodecStats[];
  const bytesIn = all.reduce((n, s) => n + s.bytesIn, 0);
  const bytesOut = all.reduce((n, s) => n + s.bytesOut, 0);
  return {
    bytesIn,
    bytesOut,
    ratio: bytesOut > 0 ? bytesIn / bytesOut : null,
    zeroPages: stats.zero?.pages ?? 0,
    xbzrleCacheHits: stats.xbzrle?.cacheHits ?? 0,
    xbzrleCacheMisses: stats.xbzrle?.cacheMisses ?? 0,
    xbzrleOverflows: stats.xbzrle?.overflows ?? 0,
    encodeMs: all.reduce((n, s) => n + s.encodeMs, 0),
    byCodec: stats,
  };
}
