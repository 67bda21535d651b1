/**
 * `migbench trace info`: what a trace's workload does, in the terms that decide how migration
 * strategies rank: how much it writes and how fast (mean and peak dirty pages per second), over
 * how many pages (the working set, per second of the recording), how often a page is written again
 * (xbzrle hits, resends), how much of a page changes when it does (xbzrle's deltas), and what the
 * pages hold (zero, compressible, incompressible: the codecs' ratios).
 *
 * It replays the trace over a copy of its memory (the trace's RAM, once), so "how much changed" is
 * exact. The content mix is judged per page by lz4 (as the lz4 codec packs it): compressible when
 * lz4 takes it below half its size; for speed over at most CONTENT_SAMPLE pages of each kind,
 * spread evenly (the output says when it sampled).
 */
import { compress } from 'lz4-wasm-nodejs';
import type { TraceFile } from './reader.js';

/** Pages judged for the content mix, at most, of the initial memory and of the written pages each. */
const CONTENT_SAMPLE = 8192;

export interface ContentMixInfo {
  pages: number;
  /** Of the pages judged: shares, percent. */
  zeroPercent: number;
  compressiblePercent: number;
  incompressiblePercent: number;
  /** The pages judged (all of them, or a sample spread evenly). */
  judged: number;
}

export interface TraceInfo {
  file: string;
  fileBytes: number;
  pageSizeBytes: number;
  ramBytes: number;
  regions: number;
  durationMs: number;
  intervalMs: number;
  intervals: number;
  lateIntervals: number;
  /** Why the recording stopped. */
  reason: string;
  recorder: { method: string; region: string; version: string };
  command: string[] | null;
  /** Distinct pages written at least once. */
  pagesWritten: number;
  /** Page changes over all intervals (a page counts once per interval it changed in). */
  pageChanges: number;
  meanDirtyPagesPerSec: number;
  peakDirtyPagesPerSec: number;
  /** Distinct pages written in each second of the recording (the last may be shorter). */
  workingSetPerSecond: Array<{ startMs: number; pages: number }>;
  /** How many intervals each written page changed in: pages by count, and the mean. */
  rewrites: { once: number; twoToThree: number; fourToNine: number; tenOrMore: number; meanIntervals: number };
  /** Bytes that differ per page change: median, mean, and the share of changes of at most 64, 512 and 2,048 bytes. */
  bytesChanged: {
    median: number;
    mean: number;
    upTo64Percent: number;
    upTo512Percent: number;
    upTo2048Percent: number;
  };
  initialContent: ContentMixInfo;
  writtenContent: ContentMixInfo;
}

export function traceInfo(trace: TraceFile): TraceInfo {
  const size = trace.pageSizeBytes;
  const memory = new Uint8Array(trace.ramBytes);
  for (const record of trace.content) {
    const { pages, bytes } = trace.contentPages(record);
    memory.set(bytes, pages[0] * size);
  }
  const pageAt = (p: number): Uint8Array => memory.subarray(p * size, (p + 1) * size);
  const initialContent = contentMix(trace.ramPages, spread(trace.ramPages, CONTENT_SAMPLE), pageAt);
  const timesWritten = new Uint32Array(trace.ramPages);
  const lastWrittenIn = new Int32Array(trace.ramPages).fill(-1);
  const changedBytes: number[] = [];
  let peak = 0;
  let changes = 0;
  const perSecond = new Map<number, Set<number>>();
  for (const iv of trace.intervals) {
    peak = Math.max(peak, (iv.pages * 1000) / iv.durationMs);
    changes += iv.pages;
    const second = Math.floor(iv.startMs / 1000);
    let set = perSecond.get(second);
    if (!set) perSecond.set(second, (set = new Set()));
    for (const record of iv.records) {
      const { pages, bytes } = trace.changedPages(record);
      for (let i = 0; i < pages.length; i++) {
        const p = pages[i];
        // The change is the XOR against the page before: its bytes that differ are those not zero.
        const delta = bytes.subarray(i * size, (i + 1) * size);
        changedBytes.push(nonZeroBytes(delta));
        const page = memory.subarray(p * size, (p + 1) * size);
        for (let b = 0; b < size; b++) page[b] ^= delta[b];
        if (lastWrittenIn[p] !== iv.interval) timesWritten[p]++;
        lastWrittenIn[p] = iv.interval;
        set.add(p);
      }
    }
  }
  const written: number[] = [];
  for (let p = 0; p < timesWritten.length; p++) if (timesWritten[p] > 0) written.push(p);
  // The written pages as they stand at the end.
  const writtenContent = contentMix(
    written.length,
    spread(written.length, CONTENT_SAMPLE, (i) => written[i]),
    pageAt,
  );
  const rewrites = { once: 0, twoToThree: 0, fourToNine: 0, tenOrMore: 0, meanIntervals: 0 };
  let sum = 0;
  for (const p of written) {
    const n = timesWritten[p];
    sum += n;
    if (n === 1) rewrites.once++;
    else if (n <= 3) rewrites.twoToThree++;
    else if (n <= 9) rewrites.fourToNine++;
    else rewrites.tenOrMore++;
  }
  rewrites.meanIntervals = written.length > 0 ? sum / written.length : 0;
  const sorted = Float64Array.from(changedBytes).sort();
  const share = (limit: number): number =>
    sorted.length === 0 ? 0 : (100 * upperBound(sorted, limit)) / sorted.length;
  return {
    file: trace.path,
    fileBytes: trace.fileBytes,
    pageSizeBytes: size,
    ramBytes: trace.ramBytes,
    regions: trace.regions.length,
    durationMs: trace.durationMs,
    intervalMs: trace.header.intervalMs,
    intervals: trace.intervals.length,
    lateIntervals: trace.intervals.filter((iv) => iv.late).length,
    reason: trace.end.reason,
    recorder: {
      method: trace.header.recorder.method,
      region: trace.header.recorder.region,
      version: trace.header.recorder.version,
    },
    command: trace.header.process.command,
    pagesWritten: written.length,
    pageChanges: changes,
    meanDirtyPagesPerSec: trace.durationMs > 0 ? (changes * 1000) / trace.durationMs : 0,
    peakDirtyPagesPerSec: peak,
    workingSetPerSecond: [...perSecond.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([s, set]) => ({ startMs: s * 1000, pages: set.size })),
    rewrites,
    bytesChanged: {
      median: sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)],
      mean: sorted.length === 0 ? 0 : sorted.reduce((a, b) => a + b, 0) / sorted.length,
      upTo64Percent: share(64),
      upTo512Percent: share(512),
      upTo2048Percent: share(2048),
    },
    initialContent,
    writtenContent,
  };
}

/** Bytes of a page not zero. */
function nonZeroBytes(a: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) n++;
  return n;
}

/** Entries of a sorted array at most `limit`. */
function upperBound(sorted: Float64Array, limit: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= limit) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Up to `limit` of `pages` (page numbers 0 .. pages-1, or the given list), spread evenly. */
function spread(count: number, limit: number, at: (i: number) => number = (i) => i): number[] {
  const step = Math.max(1, count / limit);
  const out: number[] = [];
  for (let k = 0; k < count; k += step) out.push(at(Math.floor(k)));
  return out;
}

/** The zero / compressible / incompressible shares of `total` pages, judged on `sample` (page numbers). */
function contentMix(total: number, sample: readonly number[], page: (p: number) => Uint8Array): ContentMixInfo {
  let zero = 0;
  let compressible = 0;
  for (const p of sample) {
    const bytes = page(p);
    if (isZero(bytes)) zero++;
    // lz4-wasm-nodejs prepends the 4-byte uncompressed size.
    else if (compress(bytes).length - 4 < bytes.length / 2) compressible++;
  }
  const judged = sample.length;
  const pct = (n: number): number => (judged === 0 ? 0 : (100 * n) / judged);
  return {
    pages: total,
    zeroPercent: pct(zero),
    compressiblePercent: pct(compressible),
    incompressiblePercent: pct(judged - zero - compressible),
    judged,
  };
}

function isZero(p: Uint8Array): boolean {
  const w = new Uint32Array(p.buffer, p.byteOffset, p.byteLength >> 2);
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) return false;
  return true;
}
