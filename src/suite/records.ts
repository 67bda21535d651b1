/**
 * DIR/results.jsonl: one SuiteRecord per line, appended (and synced) as each run finishes, so a
 * crash or Ctrl-C loses at most the run in progress. The last record of a run id wins.
 */
import { createReadStream } from 'node:fs';
import { open, truncate } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { RECORD_VERSION, hideSecrets, type SuiteRecord } from './schema.js';

export const RESULTS_FILE = 'results.jsonl';

export interface LoadedRecords {
  records: SuiteRecord[];
  /** Lines that were not records (hand edits, a torn last line). */
  badLines: number[];
}

export async function readRecords(dir: string): Promise<LoadedRecords> {
  const records: SuiteRecord[] = [];
  const badLines: number[] = [];
  // Line by line from a stream: a results file of any size (a string ends near 512 MiB in V8).
  const lines = createInterface({ input: createReadStream(path.join(dir, RESULTS_FILE)), crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (line.trim() === '') continue;
      const record = parseRecord(line);
      if (record === undefined) badLines.push(n);
      else records.push(record);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], badLines: [] };
    throw e;
  }
  return { records, badLines };
}

function parseRecord(line: string): SuiteRecord | undefined {
  try {
    const r = JSON.parse(line) as Partial<SuiteRecord>;
    const ok =
      r.recordVersion === RECORD_VERSION &&
      typeof r.runId === 'string' &&
      typeof r.configId === 'string' &&
      (r.status === 'failed' ||
        r.status === 'not-run' ||
        (r.status === 'completed' && typeof r.result === 'object' && r.result !== null)) &&
      typeof r.varied === 'object' &&
      r.varied !== null;
    return ok ? (r as SuiteRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** The last record of each run id. */
export function latestByRunId(records: readonly SuiteRecord[]): Map<string, SuiteRecord> {
  const out = new Map<string, SuiteRecord>();
  for (const r of records) out.set(r.runId, r);
  return out;
}

export class RecordWriter {
  private constructor(private readonly handle: Awaited<ReturnType<typeof open>>) {}

  /** Opens DIR/results.jsonl for appending; a torn last line (a killed writer) is cut off first. */
  static async open(dir: string): Promise<RecordWriter> {
    const file = path.join(dir, RESULTS_FILE);
    const end = await lastNewlineEnd(file);
    if (end !== null) await truncate(file, end);
    return new RecordWriter(await open(file, 'a'));
  }

  async append(record: SuiteRecord): Promise<void> {
    await this.handle.write(`${JSON.stringify(record, hideSecrets)}\n`);
    await this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/**
 * Where a file whose last line is torn should be cut (just past its last newline; 0 when it has
 * none); null when it ends with a newline, is empty or does not exist. Reads backwards from the
 * end, a block at a time, so a file of any size.
 */
async function lastNewlineEnd(file: string): Promise<number | null> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return null;
    const block = Buffer.alloc(64 * 1024);
    for (let end = size; end > 0;) {
      const start = Math.max(0, end - block.length);
      const { bytesRead } = await handle.read(block, 0, end - start, start);
      const at = block.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (at >= 0) return start + at + 1 === size ? null : start + at + 1;
      end = start;
    }
    return 0;
  } finally {
    await handle.close();
  }
}
