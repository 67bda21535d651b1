/**
 * The run over time, in intervals (`result.series`, guestperf's and iperf3's per-interval view):
 * sampled between frames at most every `intervalMs` of the run's clock, the bytes sent and the
 * guest's page writes so far; at the end, each interval's link rate and the guest's pace. A long
 * run keeps at most MAX_SAMPLES samples: past that, every other one is dropped and the interval
 * doubles, so memory stays bounded whatever the run's length.
 */
import type { IntervalRecord } from '../result/schema.js';

export const SERIES_INTERVAL_MS = 100;
const MAX_SAMPLES = 2048;

interface Sample {
  atMs: number;
  bytes: number;
  writes: number;
}

export class IntervalSeries {
  private readonly samples: Sample[] = [];
  private intervalMs: number;
  private nextMs = 0;

  constructor(intervalMs = SERIES_INTERVAL_MS) {
    this.intervalMs = intervalMs;
  }

  /**
   * Takes a sample when the interval has passed since the last (`read` is called only then), or
   * at once when `force` (a stage's start: intervals do not straddle the suspension).
   */
  sample(nowMs: number, read: () => { bytes: number; writes: number }, force = false): void {
    if (nowMs < this.nextMs && !force) return;
    if (this.samples.at(-1)?.atMs === nowMs) return;
    this.samples.push({ atMs: nowMs, ...read() });
    if (this.samples.length >= MAX_SAMPLES) {
      // Keep the first, then every other: the intervals double.
      const kept = this.samples.filter((_, i) => i % 2 === 0);
      this.samples.splice(0, this.samples.length, ...kept);
      this.intervalMs *= 2;
    }
    this.nextMs = nowMs + this.intervalMs;
  }

  /** The intervals between samples (the last ends at `endMs` with the final counts), and whether the guest ran in each. */
  intervals(end: Sample, suspendedAtMs: number | null): IntervalRecord[] {
    const all = [...this.samples, ...(end.atMs > (this.samples.at(-1)?.atMs ?? -1) ? [end] : [])];
    const out: IntervalRecord[] = [];
    for (let i = 1; i < all.length; i++) {
      const a = all[i - 1];
      const b = all[i];
      const ms = b.atMs - a.atMs;
      if (ms <= 0) continue;
      out.push({
        startMs: a.atMs,
        durationMs: ms,
        bytesSent: b.bytes - a.bytes,
        linkBitsPerSec: ((b.bytes - a.bytes) * 8 * 1000) / ms,
        guestPageWrites: b.writes - a.writes,
        guestPageWritesPerSec: ((b.writes - a.writes) * 1000) / ms,
        suspended: suspendedAtMs !== null && a.atMs >= suspendedAtMs,
      });
    }
    return out;
  }
}
