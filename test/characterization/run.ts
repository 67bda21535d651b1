/** Runs one characterization case as `migbench run` would. */
import { resolveRunConfig } from '../../src/config/options.js';
import { runMigration } from '../../src/driver/migrate.js';
import type { MigrationResult } from '../../src/result/schema.js';
import type { CharacterizationCase } from './cases.js';

/** The recording, in the source tree (tests run from dist/test/characterization/). */
export const CHARACTERIZATION_FILE = new URL('../../../test/fixtures/characterization.json', import.meta.url);

export interface Recording {
  virtual: Record<string, unknown>;
  real: Record<string, unknown>;
}

export function runCase(c: CharacterizationCase, extra: Record<string, string> = {}): Promise<MigrationResult> {
  return runMigration(resolveRunConfig({ ...c.options, ...extra }));
}
