/**
 * Reads a trace (src/trace/format.ts): opening it checks all of it (magic, version, header, every
 * record's lengths and CRC, the end record), so a wrong version, a truncated or a corrupted file
 * is refused before anything runs, with one line saying what and where. Then a record's payload
 * at a time: a reader holds one record's pages, not the trace.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';
import { InputError } from '../util/errors.js';
import {
  RecordType,
  TRACE_MAGIC,
  TRACE_VERSION,
  type ChangesMeta,
  type ContentMeta,
  type EndMeta,
  type TraceHeader,
  type TraceRegion,
} from './format.js';

/** What is wrong with a trace file: the CLI says it in one line and exits 2. */
export class TraceError extends InputError {}

interface RecordAt<M> {
  meta: M;
  bodyOffset: number;
  bodyLength: number;
}

/** One interval of the recording: when, how long, its pages over one or more records. */
export interface TraceInterval {
  interval: number;
  startMs: number;
  durationMs: number;
  late: boolean;
  pages: number;
  records: RecordAt<ChangesMeta>[];
}

/** A record's pages: their numbers (ascending within a content record) and their bytes, page after page. */
export interface PageBatch {
  pages: Uint32Array;
  bytes: Uint8Array;
}

export class TraceFile {
  readonly header: TraceHeader;
  readonly end: EndMeta;
  /** Every region, those that joined later included, in page order. */
  readonly regions: TraceRegion[];
  readonly content: RecordAt<ContentMeta>[] = [];
  readonly intervals: TraceInterval[] = [];
  readonly fileBytes: number;
  private readonly fd: number;

  private constructor(
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
    const size = fstatSync(fd).size;
    this.fileBytes = size;
    const fail = (what: string): never => {
      throw new TraceError(`${path} is not a usable migbench trace: ${what}`);
    };
    if (size < 16) fail(`${size} bytes, shorter than a trace's opening`);
    const head = this.read(0, 16);
    if (head.toString('latin1', 0, 8) !== TRACE_MAGIC) fail('it does not start with MIGTRACE');
    const version = head.readUInt32LE(8);
    if (version !== TRACE_VERSION)
      fail(`it is trace format version ${version}; this migbench reads version ${TRACE_VERSION}`);
    const headerLength = head.readUInt32LE(12);
    if (16 + headerLength > size) fail('truncated in its header');
    this.header = parseJson<TraceHeader>(this.read(16, headerLength), 'the header', fail);
    checkHeader(this.header, fail);
    this.regions = [...this.header.regions];
    let at = 16 + headerLength;
    let end: EndMeta | null = null;
    let ramPages = this.regions.reduce((n, r) => n + r.pages, 0);
    /** The interval whose last record has not come yet. */
    let open: TraceInterval | null = null;
    while (end === null) {
      if (at + 5 > size) fail(`truncated after ${this.intervals.length} intervals (no end record)`);
      const typeAndLength = this.read(at, 5);
      const type = typeAndLength.readUInt8(0);
      const metaLength = typeAndLength.readUInt32LE(1);
      if (at + 5 + metaLength + 4 > size) fail(`truncated in a record at byte ${at}`);
      const metaBytes = this.read(at + 5, metaLength);
      const bodyLength = this.read(at + 5 + metaLength, 4).readUInt32LE(0);
      const bodyOffset = at + 5 + metaLength + 4;
      if (bodyOffset + bodyLength + 4 > size) fail(`truncated in a record at byte ${at}`);
      const body = this.read(bodyOffset, bodyLength);
      const stored = this.read(bodyOffset + bodyLength, 4).readUInt32LE(0);
      if (crc32(body, crc32(metaBytes)) !== stored)
        fail(`the record at byte ${at} fails its CRC (the file is corrupted)`);
      const where = `the record at byte ${at}`;
      if (type === RecordType.Content) {
        const meta = parseJson<ContentMeta>(metaBytes, where, fail);
        if (!isCount(meta.first) || !isCount(meta.count) || meta.first + meta.count > ramPages)
          fail(`${where} holds pages past the regions`);
        this.content.push({ meta, bodyOffset, bodyLength });
      } else if (type === RecordType.Changes) {
        const meta = parseJson<ChangesMeta>(metaBytes, where, fail);
        for (const r of meta.regions ?? []) {
          if (r.firstPage !== ramPages || !isCount(r.pages)) fail(`${where} adds a region out of order`);
          this.regions.push(r);
          ramPages += r.pages;
        }
        let interval = this.intervals.at(-1);
        if (interval === undefined || interval.interval !== meta.interval) {
          if (meta.interval !== this.intervals.length) fail(`${where} is interval ${meta.interval}, out of order`);
          if (!(meta.durationMs > 0) || !(meta.startMs >= 0)) fail(`${where} has no duration`);
          if (open) fail(`interval ${open.interval} has no last record`);
          interval = {
            interval: meta.interval,
            startMs: meta.startMs,
            durationMs: meta.durationMs,
            late: meta.late === true,
            pages: 0,
            records: [],
          };
          this.intervals.push(interval);
        } else if (open !== interval) {
          fail(`${where} continues interval ${meta.interval} after its last record`);
        }
        if (meta.from !== interval.pages || !isCount(meta.count))
          fail(`${where} does not continue interval ${meta.interval}'s pages`);
        interval.pages += meta.count;
        interval.records.push({ meta, bodyOffset, bodyLength });
        open = meta.last === true ? null : interval;
      } else if (type === RecordType.End) {
        if (open) fail(`interval ${open.interval} has no last record`);
        end = parseJson<EndMeta>(metaBytes, where, fail);
        if (end.intervals !== this.intervals.length || end.ramPages !== ramPages)
          fail(
            `its end record counts ${end.intervals} intervals and ${end.ramPages} pages, the file holds ${this.intervals.length} and ${ramPages}`,
          );
      } else {
        fail(`${where} has an unknown type ${type}`);
      }
      at = bodyOffset + bodyLength + 4;
    }
    if (at !== size) fail(`${size - at} bytes follow its end record`);
    this.end = end;
  }

  /** Opens and checks a trace; throws a TraceError saying what is wrong with it. */
  static open(path: string): TraceFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new TraceError(`${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
      return new TraceFile(path, fd);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  get pageSizeBytes(): number {
    return this.header.pageSizeBytes;
  }

  get ramPages(): number {
    return this.end.ramPages;
  }

  get ramBytes(): number {
    return this.end.ramPages * this.header.pageSizeBytes;
  }

  /** From the end of the snapshot to the end of the last interval, ms. */
  get durationMs(): number {
    return this.end.durationMs;
  }

  /** A content record's pages: `count` pages from `first`. */
  contentPages(record: RecordAt<ContentMeta>): PageBatch {
    const { first, count } = record.meta;
    const bytes = this.inflate(record, count * this.pageSizeBytes);
    const pages = new Uint32Array(count);
    for (let i = 0; i < count; i++) pages[i] = first + i;
    return { pages, bytes };
  }

  /** A changes record's pages, in the order they were recorded, and each one's change: its XOR against what it held before. */
  changedPages(record: RecordAt<ChangesMeta>): PageBatch {
    const { count } = record.meta;
    const raw = this.inflate(record, count * (4 + this.pageSizeBytes));
    const pages = new Uint32Array(count);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < count; i++) {
      const page = view.getUint32(i * 4, true);
      if (page >= this.ramPages)
        throw new TraceError(`${this.path}: interval ${record.meta.interval} writes page ${page}, past its RAM`);
      pages[i] = page;
    }
    return { pages, bytes: raw.subarray(count * 4) };
  }

  close(): void {
    closeSync(this.fd);
  }

  private inflate(record: { bodyOffset: number; bodyLength: number }, expected: number): Uint8Array {
    let raw: Buffer;
    try {
      raw = inflateRawSync(this.read(record.bodyOffset, record.bodyLength), { maxOutputLength: expected + 1 });
    } catch (e) {
      throw new TraceError(
        `${this.path}: a record at byte ${record.bodyOffset} does not inflate: ${(e as Error).message}`,
      );
    }
    if (raw.length !== expected)
      throw new TraceError(
        `${this.path}: a record at byte ${record.bodyOffset} holds ${raw.length} bytes, not the ${expected} its meta says`,
      );
    return raw;
  }

  private read(offset: number, length: number): Buffer {
    const b = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const n = readSync(this.fd, b, got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return b.subarray(0, got);
  }
}

function isCount(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}

function parseJson<T>(bytes: Buffer, where: string, fail: (what: string) => never): T {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    return fail(`${where} is not valid JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${where} is not a JSON object`);
  return v as T;
}

function checkHeader(h: TraceHeader, fail: (what: string) => never): void {
  if (!isCount(h.pageSizeBytes) || h.pageSizeBytes < 512 || (h.pageSizeBytes & (h.pageSizeBytes - 1)) !== 0)
    fail(`its page size ${String(h.pageSizeBytes)} is not a power of two of at least 512 bytes`);
  if (!(h.intervalMs > 0)) fail('its header gives no interval');
  if (!Array.isArray(h.regions)) fail('its header lists no regions');
  let next = 0;
  for (const r of h.regions) {
    if (r.firstPage !== next || !isCount(r.pages)) fail('its header lists regions out of order');
    next += r.pages;
  }
}
