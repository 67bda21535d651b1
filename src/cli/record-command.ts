/**
 * `migbench record`: records a program's memory as it runs into a trace (src/trace/), for
 * `--workload trace:FILE`. Progress on a terminal; Ctrl-C ends the recording cleanly.
 */
import type { Command } from 'commander';
import { InputError, OptionError } from '../util/errors.js';
import { parseCount, parseDuration } from '../util/units.js';
import { formatBytes, formatMs } from '../util/format.js';
import { recordTrace, type RegionChoice } from '../trace/recorder.js';
import { EXIT_OK, Exit, checked, onInterrupt, type CliCommand, type CliCommandContext } from './command.js';

interface RecordOpts {
  interval: string;
  duration?: string;
  region: string;
  out?: string;
  pid?: string;
  json?: boolean;
}

function parseRegion(text: string): RegionChoice {
  const t = text.trim().toLowerCase();
  if (t === 'all' || t === 'largest') return t;
  const m = /^(?:0x)?([0-9a-f]+)-(?:0x)?([0-9a-f]+)$/.exec(t);
  if (!m)
    throw new OptionError(
      '--region',
      `--region must be all, largest or START-END in hex, such as 7f0000000000-7f0004000000 (got ${JSON.stringify(text)})`,
    );
  const start = parseInt(m[1], 16);
  const end = parseInt(m[2], 16);
  if (!(end > start) || start % 4096 !== 0 || end % 4096 !== 0)
    throw new OptionError('--region', `--region ${text}: START and END must be page-aligned with END after START`);
  return { start, end };
}

export const recordCommand: CliCommand = {
  name: 'record',
  register(program: Command, ctx: CliCommandContext): Command {
    const cmd = program
      .command('record')
      .description(
        "record a program's memory as it runs (its writable mappings, read through /proc/PID/mem; the pages that changed each interval, with their bytes) into a trace for --workload trace:FILE",
      )
      .argument('[command...]', 'the program to start and record, after --')
      .option('--interval <duration>', 'how often changed pages are collected', '100ms')
      .option('--duration <duration>', 'stop after this long (default: when the program exits, or on Ctrl-C)')
      .option(
        '--region <which>',
        'all (every writable mapping, those that appear later too), largest (the largest at the start), or START-END (hex addresses)',
        'all',
      )
      .option('--out <file>', 'the trace file to write (required)')
      .option(
        '--pid <pid>',
        'record this running process instead of starting one (its memory must be readable: a child of this shell under ptrace_scope 0, or as root)',
      )
      .option('--json', 'print the summary as JSON on stdout')
      .addHelpText(
        'after',
        '\nExamples:\n  migbench record --out py.mtrace --duration 5s -- python3 my_program.py\n  migbench record --out redis.mtrace --interval 200ms --duration 30s --pid 4242\n  migbench trace info py.mtrace\n  migbench run --clock virtual --workload trace:py.mtrace',
      )
      .action(async (command: string[]) => {
        const opts = cmd.opts<RecordOpts>();
        const usage = ctx.usageError('migbench record');
        const parsed = await checked(usage, () => {
          if (opts.out === undefined) throw new OptionError('--out', '--out FILE is required: where the trace goes');
          if (command.length > 0 === (opts.pid !== undefined))
            throw new InputError(
              'give the program to record after -- (migbench record --out F -- CMD ARGS), or --pid PID, not both',
            );
          const intervalMs = parseDuration('--interval', opts.interval);
          if (intervalMs < 10 || intervalMs > 60_000)
            throw new OptionError('--interval', '--interval must be from 10ms to 60s');
          const durationMs = opts.duration === undefined ? null : parseDuration('--duration', opts.duration);
          if (durationMs !== null && durationMs < intervalMs)
            throw new OptionError('--duration', '--duration must be at least one --interval');
          return {
            out: opts.out,
            intervalMs,
            durationMs,
            region: parseRegion(opts.region),
            command: command.length > 0 ? command : null,
            pid: opts.pid === undefined ? null : parseCount('--pid', opts.pid, { min: 1, max: 2 ** 22 }),
          };
        });
        if (parsed instanceof Exit) return ctx.setExitCode(parsed.code);
        const abort = new AbortController();
        const removeHandlers = onInterrupt(() => abort.abort());
        const tty = ctx.io.stderrIsTTY;
        let lastDraw = 0;
        try {
          const summary = await checked(usage, () =>
            recordTrace({
              ...parsed,
              signal: abort.signal,
              toolVersion: ctx.version,
              progress: (p) => {
                const now = performance.now();
                if (!tty || now - lastDraw < 250) return;
                lastDraw = now;
                ctx.io.err(
                  `\rrecording ${formatMs(p.elapsedMs)} · ${p.intervals} intervals · ${p.lastPages.toLocaleString('en-US')} pages changed in the last · ${p.late} late · RAM ${formatBytes(p.ramBytes)} · trace ${formatBytes(p.fileBytes)}   `,
                );
              },
            }),
          );
          if (tty) ctx.io.err('\n');
          if (summary instanceof Exit) return ctx.setExitCode(summary.code);
          if (opts.json) ctx.io.out(`${JSON.stringify(summary, null, 2)}\n`);
          else
            ctx.io.out(
              `recorded ${summary.path}: process ${summary.pid}, ${formatBytes(summary.ramBytes)} of writable memory, ` +
                `${summary.intervals} intervals in ${formatMs(summary.durationMs)} (${summary.lateIntervals} late), ` +
                `${summary.pageChanges.toLocaleString('en-US')} page changes, ${formatBytes(summary.fileBytes)} on disk; ` +
                `changed pages found by ${summary.method === 'compare' ? 'comparing page hashes (no soft-dirty tracking used)' : summary.method}; ` +
                `stopped: ${summary.reason}\n`,
            );
          ctx.setExitCode(EXIT_OK);
        } finally {
          removeHandlers();
        }
      });
    return cmd;
  },
};
