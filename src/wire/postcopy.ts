/**
 * Post-copy over TCP: what the source tells the receiver at the switch-over, and what comes back.
 *
 * POSTCOPY ADVISE frame (FrameType.PostcopyAdvise), before the device state: the guest the target
 * runs from the switch on (src/channel/postcopy-advise.ts: its body names the guest's workload).
 *
 * DISCARD frame (FrameType.Discard), one or more after the advise (QEMU's discard ranges): body
 *   0  u32 first page (a multiple of 32)   4  the "missing" bits of the pages from there, LSB first
 * A set bit: the page was dirty at the switch, the target's copy is stale, its vCPUs wait for it.
 *
 * Feedback on stream 0 (src/wire/feedback.ts): REQUEST names a page a target vCPU blocks on;
 * POSTCOPY REPORT, before the MAC, is what the target's guest did (encodeReport below).
 *
 * Nothing is trusted: every page number is checked against the guest's RAM.
 */
import { FrameError } from './frame.js';

/** Pages a discard frame's body of `bodyBytes` covers: 8 per byte after its 4-byte first page. */
export const discardPages = (bodyBytes: number): number => (bodyBytes - 4) * 8;

/**
 * The discard frames' bodies for `missing` (global page numbers, any order) of a guest of
 * `pageCount` pages, each at most `maxBodyBytes`.
 */
export function encodeDiscards(missing: Iterable<number>, pageCount: number, maxBodyBytes: number): Uint8Array[] {
  const bits = new Uint8Array(Math.ceil(pageCount / 8));
  for (const page of missing) bits[page >>> 3] |= 1 << (page & 7);
  const perFrame = Math.max(4, (maxBodyBytes - 4) & ~3); // whole 32-bit words of bits
  const out: Uint8Array[] = [];
  for (let at = 0; at < bits.length; at += perFrame) {
    const chunk = bits.subarray(at, Math.min(bits.length, at + perFrame));
    if (chunk.every((b) => b === 0)) continue;
    const body = new Uint8Array(4 + chunk.length);
    new DataView(body.buffer).setUint32(0, at * 8, true);
    body.set(chunk, 4);
    out.push(body);
  }
  return out;
}

/** Visits every missing page of a discard frame's body, checked against the guest's `pageCount` pages. */
export function decodeDiscard(body: Uint8Array, pageCount: number, visit: (page: number) => void): void {
  if (body.length < 5) throw new FrameError(`a discard frame of ${body.length} bytes: it has no bits`);
  const first = new DataView(body.buffer, body.byteOffset, 4).getUint32(0, true);
  if (first % 32 !== 0) throw new FrameError(`a discard frame from page ${first}, not a multiple of 32`);
  for (let i = 4; i < body.length; i++) {
    const b = body[i];
    if (b === 0) continue;
    for (let bit = 0; bit < 8; bit++) {
      if ((b & (1 << bit)) === 0) continue;
      const page = first + (i - 4) * 8 + bit;
      if (page >= pageCount)
        throw new FrameError(`a discard frame names page ${page}, past the RAM of ${pageCount} pages`);
      visit(page);
    }
  }
}

/** What the target's guest did in post-copy, sent back before the MAC. */
export interface PostcopyReport {
  /** Pages its vCPUs requested (blocked on). */
  requests: number;
  /** Page writes from the resume to the last missing page's arrival, and that time, ms. */
  postcopyPageWrites: number;
  postcopyMs: number;
  /** Page writes from the resume to the guest's stop on the target. */
  pageWrites: number;
  achievedPageWritesPerSec: number;
  blockedMsPerVcpu: number[];
}

/** Float64s: requests, postcopyPageWrites, postcopyMs, pageWrites, achieved rate, then one per vCPU. */
export function encodeReport(r: PostcopyReport): Buffer {
  const values = [
    r.requests,
    r.postcopyPageWrites,
    r.postcopyMs,
    r.pageWrites,
    r.achievedPageWritesPerSec,
    ...r.blockedMsPerVcpu,
  ];
  const b = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => b.writeDoubleLE(v, 8 * i));
  return b;
}

export function decodeReport(b: Buffer): PostcopyReport {
  if (b.length % 8 !== 0 || b.length < 48) throw new FrameError(`a post-copy report of ${b.length} bytes`);
  const v = Array.from({ length: b.length / 8 }, (_, i) => b.readDoubleLE(8 * i));
  if (v.some((x) => !Number.isFinite(x) || x < 0)) throw new FrameError('a post-copy report with a bad number');
  return {
    requests: v[0],
    postcopyPageWrites: v[1],
    postcopyMs: v[2],
    pageWrites: v[3],
    achievedPageWritesPerSec: v[4],
    blockedMsPerVcpu: v.slice(5),
  };
}
