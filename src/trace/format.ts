/**
 * The trace format, version 1: a program's (or a VM's) memory as it ran, recorded by `migbench
 * record` (src/trace/recorder.ts) and replayed as a guest's workload (`--workload trace:FILE`).
 * docs/trace-format.md is its description for other tools; this file is the reference.
 *
 *   magic     8 bytes  "MIGTRACE"
 *   version   u32 LE   1
 *   header    u32 LE length, then that many bytes of UTF-8 JSON (TraceHeader)
 *   records   until the end record, each:
 *     type    u8       1 content (pages' initial bytes), 2 changes (pages written in an interval),
 *                      3 end (the recording's summary; the last record)
 *     meta    u32 LE length, then UTF-8 JSON (ContentMeta, ChangesMeta or EndMeta)
 *     body    u32 LE length, then that many bytes: raw deflate (zlib) of the record's payload
 *     crc32   u32 LE   zlib's CRC-32 of meta and body bytes
 *
 * Pages are numbered 0 .. ramPages-1 over the regions in the order they were first seen (the
 * regions' pages one after another). A content payload is `count` pages of bytes from page
 * `first`; a changes payload is `count` u32 LE page numbers, then a page of bytes each: the page's
 * XOR against what it held before the interval (its content is the previous content XOR that:
 * mostly zeros, so a few bytes changed cost a few bytes on disk). An interval's changes may be split over several records (at
 * most MAX_PAGES_PER_RECORD pages each, the last one flagged), so neither the recorder nor a reader
 * holds more than a record's pages at a time. A region seen
 * after the start joins the page numbering then (ChangesMeta.regions); its pages were zero before.
 */
import { crc32 } from 'node:zlib';

export const TRACE_MAGIC = 'MIGTRACE';
export const TRACE_VERSION = 1;
/** A record's pages at most: a reader's buffer for one record stays at 16 MiB of 4 KiB pages. */
export const MAX_PAGES_PER_RECORD = 4096;

export const RecordType = { Content: 1, Changes: 2, End: 3 } as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** A mapping of the recorded process whose pages are in the trace. */
export interface TraceRegion {
  /** Its address range, hex (`7f12a0000000`), end exclusive. */
  start: string;
  end: string;
  /** From /proc/PID/maps: permissions and what it maps (a path, `[heap]`, `[stack]`, or empty for anonymous). */
  perms: string;
  name: string;
  /** Its first page in the trace's numbering, and its pages. */
  firstPage: number;
  pages: number;
}

export interface TraceHeader {
  pageSizeBytes: number;
  /** The interval asked for, ms: each changes record says how long its interval really took. */
  intervalMs: number;
  /** The regions at the start (more may join: ChangesMeta.regions). */
  regions: TraceRegion[];
  recorder: {
    tool: string;
    version: string;
    /** How changed pages were found: `compare` (each page's hash against the last), `soft-dirty`, `pagemap-scan`. */
    method: string;
    /** The region selection asked for: all, largest, or START-END. */
    region: string;
  };
  /** What was recorded: the command, or the process id given. */
  process: { command: string[] | null; pid: number };
  machine: { hostname: string; platform: string; kernel: string; cpus: string; node: string };
  /** When the recording started, ISO 8601. */
  startedAt: string;
}

export interface ContentMeta {
  first: number;
  count: number;
}

export interface ChangesMeta {
  /** The interval's number, from 0. */
  interval: number;
  /** When it started and how long it took, ms from the end of the initial snapshot. */
  startMs: number;
  durationMs: number;
  /** It took longer than the interval asked for (the recorder fell behind): never merged with the next. */
  late: boolean;
  /** This record's share of the interval's pages: its place in the interval's list, its pages, and whether it is the last. */
  from: number;
  count: number;
  last: boolean;
  /** Regions first seen in this interval (its first record only): their pages join the numbering. */
  regions?: TraceRegion[];
}

export interface EndMeta {
  intervals: number;
  /** From the end of the initial snapshot to the end of the last interval, ms. */
  durationMs: number;
  /** Pages of every region seen. */
  ramPages: number;
  /** Why the recording stopped: the duration passed, the program exited, an interrupt, the process vanished. */
  reason: 'duration' | 'exited' | 'interrupted' | 'vanished';
  /** Intervals that took longer than asked. */
  lateIntervals: number;
}

export type TraceRecordMeta =
  | { type: typeof RecordType.Content; meta: ContentMeta }
  | { type: typeof RecordType.Changes; meta: ChangesMeta }
  | { type: typeof RecordType.End; meta: EndMeta };

/** The file's opening: magic, version, the header. */
export function encodePreamble(header: TraceHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.alloc(16);
  head.write(TRACE_MAGIC, 0, 'latin1');
  head.writeUInt32LE(TRACE_VERSION, 8);
  head.writeUInt32LE(json.length, 12);
  return Buffer.concat([head, json]);
}

/** One record: its type, its meta, its body (already deflated), and the CRC of both. */
export function encodeRecord(type: RecordType, meta: object, body: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(meta), 'utf8');
  const out = Buffer.alloc(1 + 4 + json.length + 4 + body.length + 4);
  let at = out.writeUInt8(type, 0);
  at = out.writeUInt32LE(json.length, at);
  at += json.copy(out, at);
  at = out.writeUInt32LE(body.length, at);
  out.set(body, at);
  at += body.length;
  out.writeUInt32LE(crc32(body, crc32(json)), at);
  return out;
}
