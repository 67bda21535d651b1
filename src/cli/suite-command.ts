/**
 * `migbench suite FILE --out DIR`: runs every configuration of a suite file into DIR, resuming
 * what DIR already holds; writes results.jsonl as it goes, then summary.csv, summary.md and
 * report.html. The suite modules and the driver are imported only when the command runs.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { OptionError } from '../util/errors.js';
import {
  EXIT_FAILED,
  EXIT_OK,
  checked,
  Exit,
  onInterrupt,
  type CliCommand,
  type CliCommandContext,
  type CliIO,
} from './command.js';
import type { SuitePlan } from '../suite/schema.js';
import type { SuiteOutcome } from '../harness/run-suite.js';
import type { EvacuationSuitePlan } from '../evacuate/suite.js';

export interface SuiteCliOptions {
  out: string;
  clock?: string;
  reduce?: boolean;
  retryFailed?: boolean;
  dryRun?: boolean;
  quiet?: boolean;
  shard?: string;
}

const HELP = `
A suite file (YAML):

  name: convergence
  description: downtime limit against total time
  base:                        # any 'migbench run' option, as dirty-rate or dirtyRate
    ram: 256MiB
    link: 2Gbit/s
  matrix:                      # every combination of these values is a configuration
    downtime-limit: [30ms, 100ms, 300ms, 1s]
    dirty-rate: [50MB/s, 150MB/s]
  repeat: 2                    # runs of each configuration
  comparisons:                 # charts in report.html
    - vary: downtime-limit     # the x axis: an option the matrix varies
      metric: downtime         # total-time, downtime, bytes-sent, rounds, scan-time, ...

'matrix' may also be a list of such mappings, each crossed on its own (two sweeps in one suite).
Errors name the file, line and key. Built-in suites: bench/suites/*.yaml.

A suite of host evacuations ('migbench evacuate') says 'kind: evacuation', gives the source host
as 'host' (a host file's vms, every-vm and evacuate options) and varies evacuate options in its
matrix (max-concurrent, order, link, background, ...): see bench/suites/evacuation.yaml.

DIR receives suite.json (the planned runs), results.jsonl (one line per finished run, written as
it finishes), summary.csv and summary.md (per configuration: mean, min and max of total time,
downtime, bytes sent and rounds) and report.html (self-contained charts). Run the same command
again to resume: runs already in results.jsonl are skipped, failed ones too (they are results;
--retry-failed runs them again). Ctrl-C ends the run in progress (not recorded) and writes the
summaries of what is done.

--reduce makes a smoke test of any suite: each matrix block shrinks to two configurations (all
first values, all last values), run once, with 16 MiB guests and link and dirty rates scaled
down with the RAM (keeping their ratio), so each run takes a fraction of a second.

Exit codes: 0 the suite finished (failed migrations are recorded results), 1 interrupted or an
internal error, 2 bad input (the suite file, or a DIR of another suite).

Examples:
  migbench suite bench/suites/convergence.yaml --out results/convergence
  migbench suite bench/suites/dirty-tracking.yaml --out /tmp/dt --reduce
  migbench suite bench/suites/clark2005.yaml --out results/clark-real --clock real
  migbench suite my-suite.yaml --out results/mine --dry-run`;

export const suiteCommand: CliCommand = {
  name: 'suite',
  register(program: Command, ctx: CliCommandContext): Command {
    const cmd = program
      .command('suite')
      .description(
        'run every configuration of a suite file (YAML), resumably, and write results.jsonl, summaries and an HTML report',
      )
      .argument('<file>', 'the suite file, e.g. bench/suites/convergence.yaml')
      .requiredOption('--out <dir>', 'output directory (created if missing; rerun with the same one to resume)')
      .option(
        '--reduce',
        'smoke test: two configurations per matrix block, once each, 16 MiB guests, rates scaled down with the RAM',
      )
      .option(
        '--clock <kind>',
        'run every configuration on this clock, whatever the file says: real or virtual (the built-in suites use virtual)',
      )
      .option('--retry-failed', 'run again the runs whose last record failed')
      .option('--dry-run', 'list the planned runs (and which DIR already holds) without running anything')
      .option(
        '--shard <I/N|auto>',
        "run shard I of N (1-based) of the suite's runs, balanced by expected cost, the same split on every machine, into DIR/shard-I-of-N; auto: from a Slurm job array (SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with auto/N or MIGBENCH_SHARD_COUNT); merge with 'migbench report DIR'",
      )
      .option('--quiet', 'no progress on stderr and no summary on stdout')
      .addHelpText('after', HELP)
      .action(async (file: string) => {
        ctx.setExitCode(await suiteAction(file, cmd.opts<SuiteCliOptions>(), ctx));
      });
    return cmd;
  },
};

/** Runs (or resumes, or with --dry-run plans) a suite file into opts.out; the exit code. */
export async function suiteAction(file: string, opts: SuiteCliOptions, ctx: CliCommandContext): Promise<number> {
  const usage = ctx.usageError('migbench suite');
  const { readInputFile } = await import('../util/input-file.js');
  const text = await readInputFile(file).catch(() => null);
  if (text !== null) {
    const { isEvacuationSuite } = await import('../evacuate/suite.js');
    if (isEvacuationSuite(text)) return evacuationSuiteAction(file, text, opts, ctx);
    const { isCalibrationSuite } = await import('../calibrate/suite.js');
    if (isCalibrationSuite(text)) return calibrationSuiteAction(file, text, opts, ctx);
  }
  const plan = await checked(usage, () => planSuite(file, opts, ctx.io));
  if (plan instanceof Exit) return plan.code;
  // Strategy files: each imported and checked once before anything runs.
  const strategies = await checked(usage, () => checkStrategies(plan));
  if (strategies instanceof Exit) return strategies.code;
  if (opts.dryRun === true) return dryRun(plan, opts.out, ctx.io);
  const outcome = await checked(usage, () => runWithProgress(plan, opts, ctx));
  if (outcome instanceof Exit) return outcome.code;
  if (opts.quiet !== true) {
    await printSummary(plan, opts.out, ctx.io);
    ctx.io.err(
      `ran ${outcome.executed} (${outcome.completed} completed, ${outcome.failed} failed, ${outcome.notRun} not run), skipped ${outcome.skipped} already done\n` +
        `wrote ${outcome.files.join(', ')} and ${opts.out}/results.jsonl\n`,
    );
  }
  if (outcome.interrupted) return interrupted(true, ctx.io);
  // Failed migrations are results; runs that never ran are not: the suite is incomplete.
  if (outcome.notRun > 0) {
    ctx.io.err(
      `migbench: ${outcome.notRun} run${outcome.notRun === 1 ? '' : 's'} did not run (${outcome.notRun === 1 ? 'it does' : 'they do'} not fit in this machine's memory: see the summary); the suite is incomplete\n`,
    );
    return EXIT_FAILED;
  }
  return EXIT_OK;
}

/** --clock as given, or bad input. */
function clockOption(opts: SuiteCliOptions): 'real' | 'virtual' | undefined {
  if (opts.clock !== undefined && opts.clock !== 'real' && opts.clock !== 'virtual')
    throw new OptionError('--clock', `--clock must be real or virtual (got ${JSON.stringify(opts.clock)})`);
  return opts.clock;
}

/**
 * A shard writes into DIR/shard-I-of-N, and `report DIR` merges those folders into DIR: a DIR that
 * holds a whole suite's results of its own is refused, so that nobody mistakes a shard's fresh start
 * ("0 already done") for a resume of those runs.
 */
async function refuseShardOverWhole(dir: string): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const { SuiteDirError } = await import('../harness/run-suite.js');
  const { shardFolders } = await import('../harness/merge.js');
  // A run suite's plan or an evacuation suite's: both name the suite and say whether they are a shard.
  const own = await readFile(path.join(dir, 'suite.json'), 'utf8')
    .then((t) => JSON.parse(t) as { name?: unknown; shard?: unknown } | null)
    .catch(() => undefined);
  // A plan beside shard folders is their merge (`report DIR`): more shards may still come.
  if (typeof own?.name === 'string' && own.shard === undefined && (await shardFolders(dir)).length === 0)
    throw new SuiteDirError(
      `${dir} holds the results of the whole suite "${own.name}" run without --shard; a sharded run goes into shard folders of a directory of its own: give it another --out (the recorded runs are not redone by shards)`,
    );
}

/** The suite's plan, or this machine's share of it (then into DIR/shard-I-of-N: opts.out changes). */
async function planSuite(file: string, opts: SuiteCliOptions, io: CliIO): Promise<SuitePlan> {
  const { loadSuitePlan } = await import('../suite/load.js');
  const plan = await loadSuitePlan(file, { reduce: opts.reduce === true, clock: clockOption(opts) });
  if (opts.shard === undefined) return plan;
  const { parseShard, shardPlan, shardFolder, expectedCost } = await import('../suite/shard.js');
  const { predictPrecopy } = await import('../model/precopy.js');
  const shard = parseShard(opts.shard, io.env);
  const predict = (c: Parameters<typeof predictPrecopy>[0]) => {
    try {
      return predictPrecopy(c);
    } catch {
      return null;
    }
  };
  await refuseShardOverWhole(opts.out);
  opts.out = path.join(opts.out, shardFolder(shard));
  return shardPlan(plan, shard, (r) => expectedCost(r.config, predict));
}

/** Every distinct policy, aid, loop and codec file of the plan, loaded once. */
async function checkStrategies(plan: SuitePlan): Promise<void> {
  const { checkUserStrategies } = await import('../config/strategies.js');
  const seen = new Set<string>();
  for (const r of plan.runs) {
    const c = r.config;
    const key = JSON.stringify([c.userPolicy, c.userAid, c.userLoop, c.userCodecs]);
    if (!seen.has(key)) await checkUserStrategies(c);
    seen.add(key);
  }
}

/**
 * --dry-run: the planned runs, what DIR already holds of them, the memory each needs, and which
 * will not fit in this machine's memory now (they would be recorded as not run).
 */
async function dryRun(plan: SuitePlan, out: string, io: CliIO): Promise<number> {
  const { latestByRunId, readRecords } = await import('../suite/records.js');
  const { seriesLabel } = await import('../report/comparison-data.js');
  const { admissionRefusal } = await import('../config/admission.js');
  const { estimateRun } = await import('../model/estimate.js');
  const { formatBytes, formatMs } = await import('../util/format.js');
  const { formatDuration } = await import('../report/progress.js');
  const latest = latestByRunId((await readRecords(out)).records);
  const mine = plan.shard ? new Set(plan.shard.runIds) : null;
  let wontFit = 0;
  let totalMs = 0;
  let unknown = 0;
  let peak = 0;
  const lines = plan.runs
    .filter((r) => mine === null || mine.has(r.runId))
    .map((r) => {
      const state = latest.get(r.runId)?.status ?? 'pending';
      const refusal = state === 'completed' ? null : admissionRefusal(r.config);
      if (refusal !== null) wontFit++;
      const e = estimateRun(r.config);
      if (state !== 'completed' && refusal === null) {
        if (e.wallMs === null) unknown++;
        else totalMs += e.wallMs;
        peak = Math.max(peak, e.need.totalBytes);
      }
      const need = formatBytes(e.need.totalBytes).padStart(9);
      const time = (e.wallMs === null ? '?' : formatMs(e.wallMs)).padStart(9);
      return (
        `${r.runId}  ${state.padEnd(9)}  needs ${need}  ~${time}  ${seriesLabel(plan, r.varied)}${r.repeat > 0 ? ` (repeat ${r.repeat + 1})` : ''}` +
        (refusal === null ? '' : `\n    will not run: ${refusal}`)
      );
    });
  const share = plan.shard
    ? `, shard ${plan.shard.index + 1} of ${plan.shard.count}: ${lines.length} of them, into ${out}`
    : '';
  const fit = wontFit === 0 ? '' : `; ${wontFit} will not fit in this machine's memory`;
  const cost =
    `to run: about ${formatDuration(totalMs)} of wall time${unknown > 0 ? ` and ${unknown} runs the model cannot estimate` : ''}, ` +
    `peak memory about ${formatBytes(peak)} (runs go one at a time); estimates from the analytic model and the rates of a 2-core AMD EPYC`;
  io.out(
    `suite ${plan.name}${plan.reduced ? ' (reduced)' : ''}: ${plan.runs.length} runs${share}${fit}\n${cost}\n${lines.join('\n')}\n`,
  );
  return EXIT_OK;
}

/** Runs the plan with a progress bar; Ctrl-C ends the run in progress and writes the summaries. */
async function runWithProgress(plan: SuitePlan, opts: SuiteCliOptions, ctx: CliCommandContext): Promise<SuiteOutcome> {
  const { io } = ctx;
  const { runSuite } = await import('../harness/run-suite.js');
  const { suiteProgress } = await import('../report/progress.js');
  const progress = opts.quiet === true ? undefined : suiteProgress(io);
  const controller = new AbortController();
  const offInterrupt = onInterrupt(() => {
    progress?.stop();
    io.err(
      'migbench: interrupted; ending the run in progress and writing the summaries (Ctrl-C again to quit at once)\n',
    );
    controller.abort();
  });
  try {
    return await runSuite(plan, {
      outDir: opts.out,
      toolVersion: ctx.version,
      signal: controller.signal,
      retryFailed: opts.retryFailed === true,
      onProgress: (e) => progress?.onEvent(e),
    });
  } finally {
    offInterrupt();
    progress?.stop();
  }
}

/** The summary.md among the files written, on stdout. */
/** An evacuation suite's summary.md, as it is. */
async function printMarkdownSummary(files: string[], io: CliIO): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const md = files.find((f) => f.endsWith('summary.md'));
  if (md !== undefined) io.out(await readFile(md, 'utf8'));
}

/** The summary, laid out for the terminal (summary.md holds it as Markdown). */
async function printSummary(plan: SuitePlan, out: string, io: CliIO): Promise<void> {
  const { latestByRunId, readRecords } = await import('../suite/records.js');
  const { summarize } = await import('../suite/summary.js');
  const { formatSuiteSummary } = await import('../report/suite-terminal.js');
  const { outputWidth } = await import('../report/summary.js');
  const latest = latestByRunId((await readRecords(out)).records);
  io.out(formatSuiteSummary(plan, summarize(plan, latest), outputWidth(io.columns, io.env)));
}

/** The exit code of a suite that ran: 1 when it was interrupted (say how to resume). */
function interrupted(yes: boolean, io: CliIO): number {
  if (!yes) return EXIT_OK;
  io.err('migbench: suite interrupted; run the same command again to resume\n');
  return EXIT_FAILED;
}

/** A suite of evacuations (`kind: evacuation`, src/evacuate/suite.ts). */
async function evacuationSuiteAction(
  file: string,
  text: string,
  opts: SuiteCliOptions,
  ctx: CliCommandContext,
): Promise<number> {
  const { io } = ctx;
  const usage = ctx.usageError('migbench suite');
  const plan = await checked(usage, () => planEvacuations(file, text, opts, io));
  if (plan instanceof Exit) return plan.code;
  const { readEvacuationRecords } = await import('../harness/evacuation-suite.js');
  if (opts.dryRun === true) {
    const latest = await readEvacuationRecords(opts.out);
    const lines = plan.runs.map(
      (r) =>
        `${r.runId}  ${(latest.get(r.runId)?.status ?? 'pending').padEnd(9)}  ${variedText(r.varied)}${r.repeat > 0 ? ` (repeat ${r.repeat + 1})` : ''}`,
    );
    io.out(
      `evacuation suite ${plan.name}${plan.reduced ? ' (reduced)' : ''}: ${plan.runs.length} evacuations of ${plan.runs[0]?.config.vms.length ?? 0} VMs\n${lines.join('\n')}\n`,
    );
    return EXIT_OK;
  }
  const outcome = await checked(usage, () => runEvacuations(plan, opts, ctx));
  if (outcome instanceof Exit) return outcome.code;
  if (opts.quiet !== true) {
    await printMarkdownSummary(outcome.files, io);
    io.err(
      `ran ${outcome.executed} evacuations, skipped ${outcome.skipped} already done\nwrote ${outcome.files.join(', ')} and ${opts.out}/results.jsonl\n`,
    );
  }
  return interrupted(outcome.interrupted, io);
}

/** "max-concurrent 2, order listed". */
function variedText(varied: Record<string, string>): string {
  return Object.entries(varied)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

/** The evacuation suite's plan, or this machine's share of it, split as run suites are (opts.out changes). */
async function planEvacuations(
  file: string,
  text: string,
  opts: SuiteCliOptions,
  io: CliIO,
): Promise<EvacuationSuitePlan> {
  const { parseEvacuationSuite, planEvacuationSuite, shardEvacuationPlan, evacuationCost } =
    await import('../evacuate/suite.js');
  const plan = planEvacuationSuite(parseEvacuationSuite(text, file), {
    reduce: opts.reduce === true,
    clock: clockOption(opts),
  });
  if (opts.shard === undefined) return plan;
  const { parseShard, shardFolder, splitRuns } = await import('../suite/shard.js');
  const shard = parseShard(opts.shard, io.env);
  await refuseShardOverWhole(opts.out);
  opts.out = path.join(opts.out, shardFolder(shard));
  return shardEvacuationPlan(plan, shard.index, shard.count, (runs) => splitRuns(runs, shard.count, evacuationCost));
}

/** Runs the evacuations, a line on stderr as each ends; Ctrl-C ends the one in progress and writes the summaries. */
async function runEvacuations(plan: EvacuationSuitePlan, opts: SuiteCliOptions, ctx: CliCommandContext) {
  const { io } = ctx;
  const { runEvacuationSuite } = await import('../harness/evacuation-suite.js');
  const controller = new AbortController();
  const offInterrupt = onInterrupt(() => {
    io.err(
      'migbench: interrupted; ending the evacuation in progress and writing the summaries (Ctrl-C again to quit at once)\n',
    );
    controller.abort();
  });
  try {
    return await runEvacuationSuite(plan, {
      outDir: opts.out,
      toolVersion: ctx.version,
      signal: controller.signal,
      retryFailed: opts.retryFailed === true,
      onProgress: (e) => {
        if (opts.quiet === true || e.kind !== 'run-end') return;
        const h = e.record.result?.host;
        io.err(
          `[${e.index}/${e.toRun}] ${variedText(e.run.varied)}: ${h ? `${(h.evacuationTimeMs / 1000).toFixed(3)} s, worst downtime ${h.downtimeMaxMs.toFixed(1)} ms, ${h.leftBehind} left behind` : e.record.reason}` +
            ` (${(e.record.wallMs / 1000).toFixed(1)} s wall, ${(e.elapsedMs / 1000).toFixed(0)} s so far)\n`,
        );
      },
    });
  } finally {
    offInterrupt();
  }
}

/** A suite of calibrations (`kind: calibration`, src/calibrate/suite.ts): each run on the real QEMU and in migbench. */
async function calibrationSuiteAction(
  file: string,
  text: string,
  opts: SuiteCliOptions,
  ctx: CliCommandContext,
): Promise<number> {
  const { io } = ctx;
  const usage = ctx.usageError('migbench suite');
  const { planCalibrationSuite, readCalibrationRecords } = await import('../calibrate/suite.js');
  const { runCalibrationSuite, suiteMachine } = await import('../calibrate/run-suite.js');
  const { Processes } = await import('../calibrate/qemu.js');
  const plan = await checked(usage, () => {
    if (opts.shard !== undefined || opts.reduce === true || opts.clock !== undefined)
      throw new OptionError(
        '--shard',
        'a calibration suite runs a real QEMU: --shard, --reduce and --clock are for migbench suites',
      );
    return planCalibrationSuite(text, file);
  });
  if (plan instanceof Exit) return plan.code;
  if (opts.dryRun === true) {
    const done = readCalibrationRecords(opts.out);
    io.out(
      `calibration suite ${plan.name}: ${plan.runs.length} runs on a real QEMU and in migbench (about 15-30 s each)\n` +
        plan.runs
          .map((r) => `${r.runId}  ${(done.get(r.runId)?.status ?? 'pending').padEnd(9)}  ${r.scenario.name}`)
          .join('\n') +
        '\n',
    );
    return EXIT_OK;
  }
  const machine = await checked(usage, () => suiteMachine(plan));
  if (machine instanceof Exit) return machine.code;
  const procs = new Processes();
  const offInterrupt = onInterrupt(() => {
    procs.killNow();
    io.err('migbench: interrupted; QEMUs stopped; run the same command again to resume\n');
    process.exit(130);
  });
  try {
    const outcome = await runCalibrationSuite(plan, opts.out, procs, {
      retryFailed: opts.retryFailed === true,
      progress: (line) => {
        if (opts.quiet !== true) io.err(`${line}\n`);
      },
      toolVersion: ctx.version,
    });
    if (opts.quiet !== true) {
      await printMarkdownSummary(outcome.files, io);
      io.err(
        `ran ${outcome.ran} (${outcome.failed} failed), skipped ${outcome.skipped} already done; wrote ${outcome.files.join(', ')}, ${opts.out}/results.jsonl and ${opts.out}/references/\n`,
      );
    }
    return outcome.failed > 0 ? EXIT_FAILED : EXIT_OK;
  } finally {
    offInterrupt();
    procs.killNow();
  }
}
