/** The machine-readable form of a result: the MigrationResult itself, as JSON (no trailing newline). */
import type { MigrationResult } from '../result/schema.js';
import type { EvacuationResult } from '../evacuate/result.js';
import { hideSecrets } from '../suite/schema.js';

export function toJson(result: MigrationResult | EvacuationResult): string {
  return JSON.stringify(result, hideSecrets, 2);
}
