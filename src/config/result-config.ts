/**
 * A run's options as its result records them (ResultConfig, src/result/schema.ts). The schema owns
 * its types; this is the mapping onto them (src/util/derive.ts): each field copied from the run's
 * field of the same name, or derived (renamed, formatted, a secret hidden, a strategy's own name).
 * test/config/result-config.test.ts checks every RunConfig field reaches the result (or is in RECORDED_AS).
 */
import type { RunConfig } from './types.js';
import type { ResultConfig } from '../result/schema.js';
import { POLICY_LOOPS } from '../precopy/registry.js';
import { formatDirtyCost, parseDirtyCost } from '../dirtylog/cost.js';
import type { UserStrategyConfig } from '../util/user-file.js';
import { copiedFields, derive, type Derivation } from '../util/derive.js';

/** The names a run's strategies of the user's gave themselves (their objects' `name`). */
export interface StrategyNames {
  policy?: string;
  aid?: string;
  loop?: string;
}

/** A user strategy as a result records it, with the name it gave itself. */
function userRecord(u: UserStrategyConfig | null, name: string | undefined): ResultConfig['userPolicy'] {
  if (u === null) return null;
  return { file: u.file, options: { ...u.options }, ...(name === undefined ? {} : { name }) };
}

/** In the order results list them. */
const FIELDS: Derivation<RunConfig, ResultConfig, StrategyNames> = {
  ramBytes: 'copy',
  pageSizeBytes: 'copy',
  memory: 'copy',
  vcpus: 'copy',
  dirtyPagesPerSec: (c) => c.pageWritesPerSec,
  pattern: 'copy',
  writeSizeBytes: 'copy',
  linkBitsPerSec: 'copy',
  latencyMs: 'copy',
  maxBandwidthBitsPerSec: 'copy',
  policy: (c, n) => (c.userPolicy && n.policy !== undefined ? n.policy : c.policy),
  precopyLoop: (c) => (c.userLoop ? 'user' : POLICY_LOOPS[c.policy]),
  downtimeLimitMs: 'copy',
  maxIterations: 'copy',
  timeoutMs: 'copy',
  seed: 'copy',
  writeSeed: 'copy',
  catchUpMs: 'copy',
  clock: 'copy',
  content: 'copy',
  autoConverge: 'copy',
  sdps: 'copy',
  adaptiveRate: 'copy',
  adaptiveMaxBitsPerSec: 'copy',
  downtimeRamp: 'copy',
  postcopy: 'copy',
  postcopyAfterRounds: 'copy',
  postcopyAtMs: 'copy',
  hostCopyBitsPerSec: 'copy',
  sendBufferBytes: 'copy',
  multifdChannels: 'copy',
  maxPostcopyBandwidthBitsPerSec: 'copy',
  codecs: 'copy',
  xbzrleCacheBytes: 'copy',
  deflateLevel: 'copy',
  compressThreads: 'copy',
  chargeCpu: 'copy',
  dirtyLog: 'copy',
  ringSizeEntries: 'copy',
  dirtyCost: (c) => formatDirtyCost(c.dirtyCost),
  target: 'copy',
  // A secret stays out of results.
  token: (c) => (c.token === null ? null : '(hidden)'),
  fault: 'copy',
  trace: 'copy',
  userPolicy: (c, n) => userRecord(c.userPolicy, n.policy),
  userAid: (c, n) => userRecord(c.userAid, n.aid),
  userCodecs: (c) => c.userCodecs.map((u) => ({ file: u.file, options: { ...u.options } })),
  userLoop: (c, n) => userRecord(c.userLoop, n.loop),
};

/** RunConfig fields a result records under another name (every other one it records under its own). */
export const RECORDED_AS: Partial<Record<keyof RunConfig, keyof ResultConfig>> = {
  pageWritesPerSec: 'dirtyPagesPerSec',
};

/** The fields of a result's config: each a RunConfig field's own name, but those in RECORDED_AS. */
export const RECORDED_FIELDS = Object.keys(FIELDS);

/** Of those, the ones copied as they are (the others are derived: formatted, hidden, named). */
export const COPIED_FIELDS = copiedFields(FIELDS);

/** The result's config of a run, its user strategies under the names they gave themselves. */
export function resultConfig(c: RunConfig, names: StrategyNames = {}): ResultConfig {
  return derive(c, FIELDS, names);
}

/**
 * The run configuration a result records, to run it again (`run --from`, runMigration given a
 * result's config): each copied field back under its own name, the derived ones undone (the dirty
 * rate's name, the policy of a user's file, the dirty-cost text), the fields results of before
 * lacked at their defaults then. A token is never in a result: give it (`token`), or the run goes
 * without. Repeats reproduce too: the result keeps the write-stream seed it ran with.
 */
export function runConfigOfResult(rc: ResultConfig, defaults: RunConfig, token: string | null = null): RunConfig {
  const copied: Partial<Record<keyof RunConfig, unknown>> = {};
  for (const key of COPIED_FIELDS as (keyof RunConfig & keyof ResultConfig)[]) {
    if (rc[key] !== undefined) copied[key] = structuredClone(rc[key]);
  }
  const strategy = (u: ResultConfig['userPolicy']): UserStrategyConfig | null =>
    u == null ? null : { file: u.file, options: { ...u.options } };
  return {
    ...defaults,
    ...(copied as Partial<RunConfig>),
    pageWritesPerSec: rc.dirtyPagesPerSec,
    policy: (rc.userPolicy ? 'user' : rc.policy) as RunConfig['policy'],
    writeSeed: rc.writeSeed ?? rc.seed,
    dirtyCost: parseDirtyCost(rc.dirtyCost ?? 'none'),
    token: rc.token === null ? null : token,
    userPolicy: strategy(rc.userPolicy),
    userAid: strategy(rc.userAid),
    userLoop: strategy(rc.userLoop),
    userCodecs: (rc.userCodecs ?? []).map((u) => ({ file: u.file, options: { ...u.options } })),
  };
}

/** Whether an object is a result's config (it has fields a RunConfig does not), not a RunConfig. */
export function isResultConfig(c: object): c is ResultConfig {
  return 'dirtyPagesPerSec' in c && 'precopyLoop' in c && !('pageWritesPerSec' in c);
}
