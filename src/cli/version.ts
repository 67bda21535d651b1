/** The version in package.json, read once (dist/src/cli/ is three levels below the package). */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function migbenchVersion(): string {
  if (cached === undefined) {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    const v = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
    cached = typeof v === 'string' ? v : 'unknown';
  }
  return cached;
}
