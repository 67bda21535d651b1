/** The machine-readable form of a result: the MigrationResult itself, as JSON (no trailing newline). */
import type { MigrationResult } from '../result/schema.js';

export function toJson(result: MigrationResult): string {
  return JSON.stringify(result, null, 2);
}
