/**
 * Input files read whole (suite files, host files, result files, token files): only regular files,
 * and only up to a size, so that `/dev/zero`, a FIFO or a mistyped multi-gigabyte path fails at
 * once with a message instead of filling memory first. A results folder's `results.jsonl` is read
 * as a stream instead (src/suite/records.ts) and has no such bound.
 */
import { open } from 'node:fs/promises';

/** The most bytes of an input file read whole: a suite, host or result file is far smaller. */
export const MAX_INPUT_FILE_BYTES = 64 * 1024 * 1024;

/** Why an input file cannot be read, in a sentence (the caller wraps it in its own error type). */
export class InputFileProblem extends Error {}

/** The text of `file`, a regular file of at most `maxBytes`; an InputFileProblem says why not. */
export async function readInputFile(file: string, maxBytes = MAX_INPUT_FILE_BYTES): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    throw new InputFileProblem((e as NodeJS.ErrnoException).code ?? String(e));
  }
  try {
    const s = await handle.stat();
    if (s.isDirectory()) throw new InputFileProblem('it is a folder, not a file');
    if (!s.isFile()) throw new InputFileProblem('it is not a regular file (a device, a FIFO or a socket)');
    if (s.size > maxBytes)
      throw new InputFileProblem(
        `it is ${(s.size / 2 ** 20).toFixed(1)} MiB; an input file is at most ${maxBytes / 2 ** 20} MiB`,
      );
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
