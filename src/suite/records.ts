/**
 * DIR/results.jsonl: one SuiteRecord per line, appended (and synced) as each run finishes, so a
 * crash or Ctrl-C loses at most the run in progress. The last record of a run id wins.
 */
import { open, readFile, truncate } from 'node:fs/promises';
import path from 'node:path';
import { RECORD_VERSION, hideSecrets, type SuiteRecord } from './schema.js';

export const RESULTS_FILE = 'results.jsonl';

export interface LoadedRecords {
  records: SuiteRecord[];
  /** Lines that were not records (hand edits, a torn last line). */
  badLines: number[];
}

export async function readRecords(dir: string): Promise<LoadedRecords> {
  let text: string;
  try {
    text = await readFile(path.join(dir, RESULTS_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], badLines: [] };
    throw e;
  }
  const records: SuiteRecord[] = [];
  const badLines: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const record = parseRecord(line);
    if (record === undefined) badLines.push(i + 1);
    else records.push(record);
  });
  return { records, badLines };
}

function parseRecord(line: string): SuiteRecord | undefined {
  try {
    const r = JSON.parse(line) as Partial<SuiteRecord>;
    const ok =
      r.recordVersion === RECORD_VERSION &&
      typeof r.runId === 'string' &&
      typeof r.configId === 'string' &&
      (r.status === 'completed' || r.status === 'failed') &&
      typeof r.varied === 'object';
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
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text !== '' && !text.endsWith('\n')) {
      await truncate(file, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
    }
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
