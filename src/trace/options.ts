/**
 * `--workload trace:FILE` and its options: the guest's RAM, initial content and writes are a
 * recorded trace's (src/trace/replay.ts) in place of the synthetic workload's. The synthetic
 * workload's own options (--dirty-rate, --pattern, --write-size, --content, --content-hot) and
 * --ram are then refused rather than ignored: the trace says them.
 */
import path from 'node:path';
import { statSync } from 'node:fs';
import { OptionError } from '../util/errors.js';
import { flagOf, type OptionTable } from '../util/options.js';
import { TraceFile, TraceError } from './reader.js';
import type { TraceWorkload } from './replay.js';

export interface TraceConfig {
  /** --workload trace:FILE: the trace replayed as the guest's workload; null: the synthetic workload. */
  trace: TraceWorkload | null;
}

/** What the options need to know of a trace. */
export interface TraceFacts {
  pageSizeBytes: number;
  ramBytes: number;
  durationMs: number;
  /** Page changes per second of the recording, mean. */
  meanPagesPerSec: number;
  /** Each interval's start, length and page changes: when the replay writes. */
  schedule: Array<{ startMs: number; durationMs: number; pages: number }>;
}

/** The trace's page writes due within `traceMs` of trace time (spread evenly within each interval; looping if asked). */
export function writesDue(f: TraceFacts, traceMs: number, loop: boolean): number {
  const total = f.schedule.reduce((n, iv) => n + iv.pages, 0);
  let due = 0;
  let t = traceMs;
  if (loop && f.durationMs > 0) {
    const passes = Math.floor(t / f.durationMs);
    due += passes * total;
    t -= passes * f.durationMs;
  }
  for (const iv of f.schedule) {
    if (t >= iv.startMs + iv.durationMs) due += iv.pages;
    // Page j of n is written at start + (j + 0.5) x duration / n.
    else if (t > iv.startMs) due += Math.min(iv.pages, Math.floor(((t - iv.startMs) * iv.pages) / iv.durationMs + 0.5));
  }
  return due;
}

const facts = new Map<string, { mtimeMs: number; size: number; facts: TraceFacts }>();

/** A trace's facts, read (and the whole file checked) once per file version. Throws TraceError. */
export function traceFacts(file: string): TraceFacts {
  let stat;
  try {
    stat = statSync(file);
  } catch (e) {
    throw new TraceError(`${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const known = facts.get(file);
  if (known && known.mtimeMs === stat.mtimeMs && known.size === stat.size) return known.facts;
  const trace = TraceFile.open(file);
  try {
    const changes = trace.intervals.reduce((n, iv) => n + iv.pages, 0);
    const f: TraceFacts = {
      pageSizeBytes: trace.pageSizeBytes,
      ramBytes: trace.ramBytes,
      durationMs: trace.durationMs,
      meanPagesPerSec: trace.durationMs > 0 ? (changes * 1000) / trace.durationMs : 0,
      schedule: trace.intervals.map((iv) => ({ startMs: iv.startMs, durationMs: iv.durationMs, pages: iv.pages })),
    };
    facts.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, facts: f });
    return f;
  } finally {
    trace.close();
  }
}

/** The synthetic workload's options: a trace takes their place. */
export const SYNTHETIC_ONLY = ['dirtyRate', 'pattern', 'writeSize', 'content', 'contentHot', 'ram'] as const;

export type TraceOptionKey = 'workload' | 'traceSpeed' | 'traceLoop';
type Reads = TraceOptionKey | (typeof SYNTHETIC_ONLY)[number] | 'postcopy' | 'postcopyAfter' | 'postcopyAt';

export const TRACE_OPTIONS: OptionTable<TraceOptionKey, Reads, TraceConfig> = {
  workload: {
    flags: '--workload <workload>',
    description:
      "what the guest runs: synthetic (the writes --dirty-rate, --pattern, --write-size and --content describe), or trace:FILE, a recording of a real program (`migbench record`): the guest's RAM, initial content and writes are the trace's, each recorded page change written at its recorded time (spread within its interval), the bytes those recorded; --ram and the synthetic options are then the trace's to say",
    defaultText: 'synthetic',
    example: 'trace:traces/python-dict.mtrace',
    resolve: (c) => {
      const text = c.text('workload');
      const t = text?.trim();
      if (t === undefined || t.toLowerCase() === 'synthetic') {
        const stray = (['traceSpeed', 'traceLoop'] as const).find((k) => c.raw[k] !== undefined);
        if (stray) throw new OptionError(flagOf(stray), `${flagOf(stray)} applies with --workload trace:FILE`);
        return { trace: null };
      }
      if (!t.startsWith('trace:') || t.length === 'trace:'.length)
        throw new OptionError('--workload', `--workload must be synthetic or trace:FILE (got ${JSON.stringify(text)})`);
      const file = path.resolve(c.baseDir, t.slice('trace:'.length));
      try {
        traceFacts(file);
      } catch (e) {
        if (e instanceof TraceError) throw new OptionError('--workload', `--workload: ${e.message}`);
        throw e;
      }
      const stray = SYNTHETIC_ONLY.find((k) => c.raw[k] !== undefined);
      if (stray)
        throw new OptionError(
          flagOf(stray),
          `${flagOf(stray)} is the synthetic workload's: with --workload trace:FILE the trace's recording says it`,
        );
      if (c.flag('postcopy') || c.raw.postcopyAfter !== undefined || c.raw.postcopyAt !== undefined)
        throw new OptionError(
          '--workload',
          '--workload trace:FILE does not take post-copy yet (the target would have to replay the trace too)',
        );
      const speedText = c.text('traceSpeed');
      const speed = speedText === undefined ? 1 : Number(speedText.trim().replace(/x$/i, ''));
      if (!Number.isFinite(speed) || speed < 0.01 || speed > 100)
        throw new OptionError(
          '--trace-speed',
          `--trace-speed must be a factor from 0.01 to 100 such as 2 (got ${JSON.stringify(speedText)})`,
        );
      return { trace: { file, speed, loop: c.flag('traceLoop') } };
    },
  },
  traceSpeed: {
    flags: '--trace-speed <factor>',
    description:
      'with --workload trace:FILE: replay the recorded writes this many times as fast (0.5 at half speed), 0.01 to 100',
    defaultText: '1',
    example: '2',
    // Resolved with --workload.
  },
  traceLoop: {
    flags: '--trace-loop',
    description:
      'with --workload trace:FILE: start the recording over after its last interval (its changes applied again), rather than go idle',
    defaultText: 'off',
    example: '--trace-loop',
  },
};
