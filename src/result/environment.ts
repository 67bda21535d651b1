/** The machine a result was measured on, recorded beside every result. */
import os from 'node:os';
import type { Environment } from './schema.js';
import { wasmSimdSupported } from '../kernel/loader.js';

export function describeEnvironment(): Environment {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    totalMemoryBytes: os.totalmem(),
    wasmSimd: wasmSimdSupported(),
  };
}
