/** Codec statistics as a result reports them (CodecSummary): bytes before and after, ratio, and each codec's share. */
import type { CodecSummary } from '../result/schema.js';
import type { ChainStats } from './chain-encoder.js';
import type { CodecStats } from './codec.js';

export function summarizeCodecs(stats: ChainStats): CodecSummary {
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
    byCodec: stats as Record<string, CodecStats>,
  };
}
