/**
 * The context printed above every benchmark table and stored beside every JSON result: the numbers
 * mean nothing without the machine they were measured on.
 */
import os from 'node:os';
import type { Environment } from '../../src/result/schema.js';
import { describeEnvironment } from '../../src/result/environment.js';
import { migbenchVersion } from '../../src/cli/version.js';
import { formatBytes } from '../../src/util/format.js';

export interface BenchEnvironment extends Environment {
  toolVersion: string;
  /** The V8 behind the Node version: wasm code generation changes with it. */
  v8: string;
  /** Load average over the last minute when the run started: the machine may be shared. */
  loadAverage1m: number;
}

export async function benchEnvironment(): Promise<BenchEnvironment> {
  return {
    ...describeEnvironment(),
    toolVersion: migbenchVersion(),
    v8: process.versions.v8,
    loadAverage1m: os.loadavg()[0],
  };
}

/** Key/value lines, aligned like the `migbench run` header. */
export function formatEnvironmentHeader(title: string, env: BenchEnvironment, extra: [string, string][] = []): string {
  const rows: [string, string][] = [
    [
      title,
      `migbench ${env.toolVersion} · Node ${env.node} (V8 ${env.v8}) · ${env.platform}/${env.arch} · wasm SIMD ${env.wasmSimd ? 'on' : 'off'}`,
    ],
    [
      'cpu',
      `${env.cpu} · ${env.cores} cores · ${formatBytes(env.totalMemoryBytes)} RAM · load ${env.loadAverage1m.toFixed(2)} at start`,
    ],
    ...extra,
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
