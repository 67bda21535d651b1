/** `migbench trace info FILE`: what a recorded trace's workload does (src/trace/info.ts). */
import type { Command } from 'commander';
import Table from 'cli-table3';
import { formatBytes, formatMs } from '../util/format.js';
import { TraceFile } from '../trace/reader.js';
import { traceInfo, type ContentMixInfo, type TraceInfo } from '../trace/info.js';
import { EXIT_OK, Exit, checked, type CliCommand, type CliCommandContext } from './command.js';

const n = (x: number): string => Math.round(x).toLocaleString('en-US');
const pct = (x: number): string => `${x.toFixed(1)} %`;

function mix(m: ContentMixInfo): string {
  return `${pct(m.zeroPercent)} zero · ${pct(m.compressiblePercent)} compressible · ${pct(m.incompressiblePercent)} incompressible${m.judged < m.pages ? ` (${n(m.judged)} of ${n(m.pages)} pages judged)` : ''}`;
}

export function formatTraceInfo(i: TraceInfo): string {
  // Within 100 columns: long values wrap in their cell.
  const t = new Table({
    head: ['Measure', 'Value'],
    colWidths: [17, 80],
    wordWrap: true,
    style: { head: [], border: [] },
  });
  const ws = i.workingSetPerSecond.map((w) => w.pages);
  t.push(
    [
      'RAM',
      `${formatBytes(i.ramBytes)} (${n(i.ramBytes / i.pageSizeBytes)} pages of ${formatBytes(i.pageSizeBytes)}, ${i.regions} regions)`,
    ],
    [
      'Duration',
      `${formatMs(i.durationMs)} in ${n(i.intervals)} intervals of ${formatMs(i.intervalMs)} (${i.lateIntervals} late)`,
    ],
    ['Pages written', `${n(i.pagesWritten)} distinct, ${n(i.pageChanges)} page changes`],
    [
      'Dirty rate',
      `${n(i.meanDirtyPagesPerSec)} pages/s mean, ${n(i.peakDirtyPagesPerSec)} pages/s peak (one interval)`,
    ],
    [
      'Working set',
      ws.length === 0
        ? 'none'
        : `${n(Math.min(...ws))} to ${n(Math.max(...ws))} distinct pages per second (${ws.map(n).join(', ')})`,
    ],
    [
      'Rewritten',
      `written in 1 interval: ${n(i.rewrites.once)} pages · 2-3: ${n(i.rewrites.twoToThree)} · 4-9: ${n(i.rewrites.fourToNine)} · 10+: ${n(i.rewrites.tenOrMore)} · mean ${i.rewrites.meanIntervals.toFixed(1)} intervals`,
    ],
    [
      'Bytes changed',
      `per page change: median ${n(i.bytesChanged.median)} B, mean ${n(i.bytesChanged.mean)} B; <= 64 B ${pct(i.bytesChanged.upTo64Percent)}, <= 512 B ${pct(i.bytesChanged.upTo512Percent)}, <= 2 KiB ${pct(i.bytesChanged.upTo2048Percent)}`,
    ],
    ['Initial content', mix(i.initialContent)],
    ['Written pages', mix(i.writtenContent)],
    [
      'Recorded',
      `${i.command ? i.command.join(' ') : 'a running process'}; ${i.recorder.method}, region ${i.recorder.region}; stopped: ${i.reason}; ${formatBytes(i.fileBytes)} on disk`,
    ],
  );
  return `${i.file}\n${t.toString()}\n`;
}

export const traceCommand: CliCommand = {
  name: 'trace',
  register(program: Command, ctx: CliCommandContext): Command {
    const cmd = program.command('trace').description('look into a trace recorded by `migbench record`');
    const info = cmd
      .command('info')
      .description(
        "a trace's workload: RAM, duration, dirty rate (mean, peak), working set per second, rewrites, bytes changed per page change, content mix",
      )
      .argument('<file>', 'the trace')
      .option('--json', 'print the figures as JSON on stdout')
      .action(async (file: string) => {
        const usage = ctx.usageError('migbench trace info');
        const result = await checked(usage, () => {
          const trace = TraceFile.open(file);
          try {
            return traceInfo(trace);
          } finally {
            trace.close();
          }
        });
        if (result instanceof Exit) return ctx.setExitCode(result.code);
        ctx.io.out(
          info.opts<{ json?: boolean }>().json ? `${JSON.stringify(result, null, 2)}\n` : formatTraceInfo(result),
        );
        ctx.setExitCode(EXIT_OK);
      });
    return cmd;
  },
};
