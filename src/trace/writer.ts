/**
 * Writes a trace (src/trace/format.ts) as the recorder finds pages: records are deflated on
 * libuv's threads (zlib's async calls) while the recorder scans on, and written in order. What is
 * queued is bounded: `write` waits while more than MAX_QUEUED_BYTES are waiting to be deflated.
 */
import { openSync, closeSync, writeSync, fsyncSync } from 'node:fs';
import { promisify } from 'node:util';
import { deflateRaw } from 'node:zlib';
import {
  MAX_PAGES_PER_RECORD,
  RecordType,
  encodePreamble,
  encodeRecord,
  type ChangesMeta,
  type EndMeta,
  type TraceHeader,
} from './format.js';

const deflate = promisify(deflateRaw);
/**
 * zlib's default level: on the bundled traces 15 % smaller than level 1 for about 0.3 s of a
 * libuv thread per second recorded (measured on bench/traces/, 2-core VM).
 */
const DEFLATE_LEVEL = 6;
/** Payload bytes waiting to be deflated and written, at most (then write() waits). */
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;

export class TraceWriter {
  private readonly fd: number;
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;
  private failed: Error | null = null;
  /** Bytes written so far. */
  bytes = 0;

  private readonly pageSizeBytes: number;

  constructor(
    readonly path: string,
    header: TraceHeader,
  ) {
    this.pageSizeBytes = header.pageSizeBytes;
    this.fd = openSync(path, 'w');
    this.put(encodePreamble(header));
  }

  /** Initial content: `count` pages from `first`, their bytes one page after another (copied). */
  async content(first: number, count: number, bytes: Uint8Array): Promise<void> {
    await this.enqueue(RecordType.Content, { first, count }, bytes.slice(0, count * this.pageSizeBytes));
  }

  /**
   * One record of an interval's changed pages: `count` page numbers and their bytes (page after
   * page, copied), at place `from` of the interval's list; `last` ends the interval.
   */
  async changes(
    meta: Pick<ChangesMeta, 'interval' | 'startMs' | 'durationMs' | 'late' | 'regions'>,
    from: number,
    count: number,
    pages: Uint32Array,
    bytes: Uint8Array,
    last: boolean,
  ): Promise<void> {
    if (count > MAX_PAGES_PER_RECORD)
      throw new RangeError(`a trace record holds at most ${MAX_PAGES_PER_RECORD} pages`);
    const size = this.pageSizeBytes;
    const payload = new Uint8Array(count * (4 + size));
    const view = new DataView(payload.buffer);
    for (let i = 0; i < count; i++) view.setUint32(i * 4, pages[i], true);
    payload.set(bytes.subarray(0, count * size), count * 4);
    const m: ChangesMeta = { ...meta, from, count, last };
    if (m.regions === undefined || m.regions.length === 0 || from > 0) delete m.regions;
    await this.enqueue(RecordType.Changes, m, payload);
  }

  /** The end record; then the file is complete and closed. */
  async end(meta: EndMeta): Promise<void> {
    await this.enqueue(RecordType.End, meta, new Uint8Array(0));
    await this.chain;
    if (this.failed) throw this.failed;
    fsyncSync(this.fd);
    closeSync(this.fd);
  }

  /** Closes without an end record (the file is then refused as truncated). */
  async abandon(): Promise<void> {
    await this.chain.catch(() => undefined);
    closeSync(this.fd);
  }

  private async enqueue(type: RecordType, meta: object, payload: Uint8Array): Promise<void> {
    if (this.failed) throw this.failed;
    while (this.queued > MAX_QUEUED_BYTES) await this.chain;
    this.queued += payload.length;
    const body = deflate(payload, { level: DEFLATE_LEVEL });
    body.catch(() => undefined); // awaited in order below
    this.chain = this.chain.then(async () => {
      try {
        this.put(encodeRecord(type, meta, await body));
      } catch (e) {
        this.failed ??= e as Error;
      } finally {
        this.queued -= payload.length;
      }
    });
  }

  private put(b: Uint8Array): void {
    let at = 0;
    while (at < b.length) at += writeSync(this.fd, b, at, b.length - at);
    this.bytes += b.length;
  }
}
