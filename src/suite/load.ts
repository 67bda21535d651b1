/** A suite file read, parsed and expanded into its plan; every problem is a SuiteError. */
import { readFile } from 'node:fs/promises';
import { expandSuite, type ExpandOptions } from './expand.js';
import { SuiteError, parseSuite } from './parse.js';
import type { SuitePlan } from './schema.js';

export async function loadSuitePlan(file: string, opts: ExpandOptions = {}): Promise<SuitePlan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new SuiteError(
      file,
      undefined,
      undefined,
      `cannot read the suite file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
  return expandSuite(parseSuite(text, file), opts);
}
