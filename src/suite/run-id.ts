/**
 * Stable ids for a suite's runs: a configuration's id is a hash of its resolved RunConfig, so
 * `ram: 1GiB` and `ram: 1024MiB` are the same configuration, and editing a suite file only adds or
 * drops the runs whose configuration changed. Fields at their default are left out of the hash, so
 * a migbench that gains an option (a new field at its default) still recognises the runs an older
 * one recorded. A run's id adds its repeat index.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_RUN_CONFIG } from '../config/options.js';
import { type RunConfig } from '../config/types.js';

export function configIdOf(config: RunConfig): string {
  // The kind of memory at its clock's default is the configuration as it was before there were two.
  const defaults: Record<string, unknown> = {
    ...(DEFAULT_RUN_CONFIG as unknown as Record<string, unknown>),
    memory: config.clock === 'virtual' ? 'procedural' : 'materialized',
  };
  const distinct = Object.fromEntries(
    Object.entries(config).filter(([k, v]) => !(k in defaults) || canonicalJson(v) !== canonicalJson(defaults[k])),
  );
  return createHash('sha256').update(canonicalJson(distinct)).digest('hex').slice(0, 12);
}

export function runIdOf(configId: string, repeat: number): string {
  return `${configId}-r${repeat}`;
}

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
