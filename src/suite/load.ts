/** A suite file read, parsed and expanded into its plan; every problem is a SuiteError. */
import { InputFileProblem, readInputFile } from '../util/input-file.js';
import { expandSuite, type ExpandOptions } from './expand.js';
import { SuiteError, parseSuite } from './parse.js';
import type { SuitePlan } from './schema.js';

export async function loadSuitePlan(file: string, opts: ExpandOptions = {}): Promise<SuitePlan> {
  let text: string;
  try {
    text = await readInputFile(file);
  } catch (e) {
    throw new SuiteError(
      file,
      undefined,
      undefined,
      `cannot read the suite file: ${e instanceof InputFileProblem ? e.message : String(e)}`,
    );
  }
  return expandSuite(parseSuite(text, file), opts);
}
