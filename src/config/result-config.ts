/** A run's options as its result records them (ResultConfig, src/result/schema.ts). */
import type { RunConfig } from './types.js';
import type { ResultConfig } from '../result/schema.js';
import { POLICY_LOOPS } from '../precopy/registry.js';
import { formatDirtyCost } from '../dirtylog/cost.js';

/**
 * The options as the result schema has them, field by field: a field added to RunConfig is not in
 * results until it is added to ResultConfig here, and a secret stays out.
 */
export function resultConfig(c: RunConfig): ResultConfig {
  return {
    ramBytes: c.ramBytes,
    pageSizeBytes: c.pageSizeBytes,
    vcpus: c.vcpus,
    dirtyPagesPerSec: c.pageWritesPerSec,
    pattern: { ...c.pattern },
    writeSizeBytes: c.writeSizeBytes,
    linkBitsPerSec: c.linkBitsPerSec,
    latencyMs: c.latencyMs,
    maxBandwidthBitsPerSec: c.maxBandwidthBitsPerSec,
    policy: c.policy,
    precopyLoop: POLICY_LOOPS[c.policy],
    downtimeLimitMs: c.downtimeLimitMs,
    maxIterations: c.maxIterations,
    timeoutMs: c.timeoutMs,
    seed: c.seed,
    writeSeed: c.writeSeed,
    catchUpMs: c.catchUpMs,
    clock: c.clock,
    content: structuredClone(c.content),
    autoConverge: c.autoConverge && { ...c.autoConverge },
    sdps: c.sdps,
    adaptiveRate: c.adaptiveRate,
    adaptiveMaxBitsPerSec: c.adaptiveMaxBitsPerSec,
    downtimeRamp: c.downtimeRamp && { ...c.downtimeRamp },
    postcopy: c.postcopy,
    postcopyAfterRounds: c.postcopyAfterRounds,
    codecs: [...c.codecs],
    xbzrleCacheBytes: c.xbzrleCacheBytes,
    deflateLevel: c.deflateLevel,
    compressThreads: c.compressThreads,
    chargeCpu: c.chargeCpu,
    dirtyLog: c.dirtyLog,
    ringSizeEntries: c.ringSizeEntries,
    dirtyCost: formatDirtyCost(c.dirtyCost),
    target: c.target && { ...c.target },
    token: c.token === null ? null : '(hidden)',
    streams: c.streams,
    fault: c.fault && { ...c.fault },
    userPolicy: c.userPolicy && { file: c.userPolicy.file, options: { ...c.userPolicy.options } },
    userAid: c.userAid && { file: c.userAid.file, options: { ...c.userAid.options } },
    userCodecs: c.userCodecs.map((u) => ({ file: u.file, options: { ...u.options } })),
    userLoop: c.userLoop && { file: c.userLoop.file, options: { ...c.userLoop.options } },
  };
}
