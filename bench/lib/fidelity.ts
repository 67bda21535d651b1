/** The QEMU reference scenarios (bench/reference/qemu/) as migbench sees them. */
import { readdirSync, readFileSync } from 'node:fs';
import type { Reference } from '../../src/calibrate/reference.js';
export { referenceKind, scenarioOptions, type Reference } from '../../src/calibrate/reference.js';

export const REFERENCE_DIR = new URL('../../../bench/reference/qemu/', import.meta.url);

/**
 * Every reference scenario of `dir` (the project's by default, or a folder `migbench calibrate
 * --out` wrote), by name, those whose name contains `filter` (lower case) if given.
 */
export function loadReferences(filter: string | null = null, dir: URL = REFERENCE_DIR): Reference[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Reference)
    .filter((r) => filter === null || r.name.toLowerCase().includes(filter));
}
