/**
 * Progress of a suite on stderr. On a terminal: a bar with the count of runs, the time elapsed and
 * an estimate of the time left, the run in progress beside it, and a line above it for each failed
 * run. Otherwise (a log, CI): one line per finished run.
 */
import cliProgress from 'cli-progress';
import { kebabOf } from '../suite/parse.js';
import type { SuiteProgressEvent } from '../suite/schema.js';
import type { OptionTexts } from '../suite/schema.js';
import { formatMs } from '../util/format.js';

export interface ProgressSink {
  onEvent(e: SuiteProgressEvent): void;
  /** Takes the bar off the terminal (before anything else is printed). */
  stop(): void;
}

export interface ProgressTarget {
  err(text: string): void;
  stderrIsTTY: boolean;
}

export function suiteProgress(target: ProgressTarget, stream: NodeJS.WriteStream = process.stderr): ProgressSink {
  return target.stderrIsTTY ? barProgress(stream) : lineProgress(target);
}

/** 4.2 s, 3 min 05 s, 1 h 02 min. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

function label(varied: OptionTexts): string {
  const parts = Object.entries(varied).map(([k, v]) => `${kebabOf(k)}=${v}`);
  return parts.length === 0 ? 'base configuration' : parts.join(', ');
}

function startLine(e: Extract<SuiteProgressEvent, { kind: 'start' }>): string {
  const bad = e.badLines.length === 0 ? '' : ` (results.jsonl lines ${e.badLines.join(', ')} are not records: ignored)`;
  return (
    `suite ${e.plan.name}${e.plan.reduced ? ' (reduced)' : ''}: ${e.plan.runs.length} runs, ` +
    `${e.skipped} already done, ${e.toRun} to run${bad}\n`
  );
}

function outcome(e: Extract<SuiteProgressEvent, { kind: 'run-end' }>): string {
  const r = e.record.result;
  if (e.record.status === 'failed') return `failed: ${e.record.reason ?? ''}`;
  if (r === undefined) return 'completed';
  return `completed · total ${formatMs(r.totals.totalTimeMs)} · downtime ${formatMs(r.totals.downtimeMs)} · ${r.totals.iterations} rounds`;
}

function lineProgress(target: ProgressTarget): ProgressSink {
  return {
    onEvent(e) {
      switch (e.kind) {
        case 'start':
          target.err(startLine(e));
          break;
        case 'run-end':
          target.err(
            `[${e.index}/${e.toRun}] ${formatDuration(e.elapsedMs)} elapsed, ~${formatDuration(e.remainingMs)} left · ` +
              `${label(e.run.varied)}${e.run.repeat > 0 ? ` (repeat ${e.run.repeat + 1})` : ''} · ${outcome(e)}\n`,
          );
          break;
        case 'run-start':
        case 'outputs':
          break;
      }
    },
    stop() {},
  };
}

function barProgress(stream: NodeJS.WriteStream): ProgressSink {
  const multi = new cliProgress.MultiBar(
    {
      stream,
      format: '{bar} {value}/{total} runs | {duration_formatted} elapsed | {left} | {current}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 24,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  let stopped = false;
  const width = (): number => Math.max(20, (stream.columns ?? 100) - 80);
  const clip = (s: string): string => (s.length > width() ? `${s.slice(0, width() - 1)}…` : s);
  return {
    onEvent(e) {
      switch (e.kind) {
        case 'start':
          if (e.toRun === 0) {
            stream.write(startLine(e));
            break;
          }
          bar = multi.create(e.toRun, 0, { left: 'estimating', current: '' });
          multi.log(startLine(e));
          break;
        case 'run-start':
          bar?.update({ current: clip(label(e.run.varied)) });
          break;
        case 'run-end':
          if (e.record.status === 'failed')
            multi.log(`run ${e.index}/${e.toRun} ${label(e.run.varied)}: ${outcome(e)}\n`);
          bar?.update(e.index, { left: `~${formatDuration(e.remainingMs)} left` });
          break;
        case 'outputs':
          break;
      }
    },
    stop() {
      if (bar === undefined || stopped) return;
      stopped = true;
      multi.stop();
    },
  };
}
