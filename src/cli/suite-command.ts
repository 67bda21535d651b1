/**
 * `migbench suite FILE --out DIR`: runs every configuration of a suite file into DIR, resuming
 * what DIR already holds; writes results.jsonl as it goes, then summary.csv, summary.md and
 * report.html. The suite modules and the driver are imported only when the command runs.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { OptionError } from '../util/errors.js';
import { EXIT_FAILED, EXIT_OK, type CliCommand, type CliCommandContext, onInterrupt } from './command.js';

interface SuiteCliOptions {
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

async function suiteAction(file: string, opts: SuiteCliOptions, ctx: CliCommandContext): Promise<number> {
  const { io } = ctx;
  const usage = ctx.usageError('migbench suite');
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text !== null) {
    const { isEvacuationSuite } = await import('../evacuate/suite.js');
    if (isEvacuationSuite(text)) return evacuationSuiteAction(file, text, opts, ctx);
  }
  const { loadSuitePlan } = await import('../suite/load.js');
  const { SuiteError } = await import('../suite/parse.js');
  let plan;
  try {
    if (opts.clock !== undefined && opts.clock !== 'real' && opts.clock !== 'virtual') {
      return usage(`--clock must be real or virtual (got ${JSON.stringify(opts.clock)})`);
    }
    plan = await loadSuitePlan(file, {
      reduce: opts.reduce === true,
      clock: opts.clock as 'real' | 'virtual' | undefined,
    });
    if (opts.shard !== undefined) {
      // This machine's share, into its own folder: DIR/shard-I-of-N.
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
      plan = shardPlan(plan, shard, (r) => expectedCost(r.config, predict));
      opts.out = path.join(opts.out, shardFolder(shard));
    }
  } catch (e) {
    if (e instanceof SuiteError || e instanceof OptionError) return usage(e.message);
    throw e;
  }

  // Policy and aid files: each imported and checked once before anything runs.
  {
    const { checkUserStrategies } = await import('../config/strategies.js');
    const { StrategyError } = await import('../util/user-file.js');
    const seen = new Set<string>();
    try {
      for (const r of plan.runs) {
        const key = JSON.stringify([r.config.userPolicy, r.config.userAid]);
        if (!seen.has(key)) await checkUserStrategies(r.config);
        seen.add(key);
      }
    } catch (e) {
      if (e instanceof StrategyError) return usage(e.message);
      throw e;
    }
  }

  if (opts.dryRun === true) {
    const { latestByRunId, readRecords } = await import('../suite/records.js');
    const { seriesLabel } = await import('../report/comparison-data.js');
    const latest = latestByRunId((await readRecords(opts.out)).records);
    const mine = plan.shard ? new Set(plan.shard.runIds) : null;
    const lines = plan.runs
      .filter((r) => mine === null || mine.has(r.runId))
      .map((r) => {
        const state = latest.get(r.runId)?.status ?? 'pending';
        return `${r.runId}  ${state.padEnd(9)}  ${seriesLabel(plan, r.varied)}${r.repeat > 0 ? ` (repeat ${r.repeat + 1})` : ''}`;
      });
    const share = plan.shard
      ? `, shard ${plan.shard.index + 1} of ${plan.shard.count}: ${lines.length} of them, into ${opts.out}`
      : '';
    io.out(
      `suite ${plan.name}${plan.reduced ? ' (reduced)' : ''}: ${plan.runs.length} runs${share}\n${lines.join('\n')}\n`,
    );
    return EXIT_OK;
  }

  const { runSuite, SuiteDirError } = await import('../harness/run-suite.js');
  const { suiteProgress } = await import('../report/progress.js');
  const progress = opts.quiet === true ? undefined : suiteProgress(io);
  const controller = new AbortController();
  const onSigint = (): void => {
    progress?.stop();
    io.err(
      'migbench: interrupted; ending the run in progress and writing the summaries (Ctrl-C again to quit at once)\n',
    );
    controller.abort();
  };
  const offInterrupt = onInterrupt(onSigint);
  let outcome;
  try {
    outcome = await runSuite(plan, {
      outDir: opts.out,
      toolVersion: ctx.version,
      signal: controller.signal,
      retryFailed: opts.retryFailed === true,
      onProgress: (e) => progress?.onEvent(e),
    });
  } catch (e) {
    if (e instanceof SuiteDirError) return usage(e.message);
    throw e;
  } finally {
    offInterrupt();
    progress?.stop();
  }

  if (opts.quiet !== true) {
    const { readFile } = await import('node:fs/promises');
    const md = outcome.files.find((f) => f.endsWith('summary.md'));
    if (md !== undefined) io.out(await readFile(md, 'utf8'));
    io.err(
      `ran ${outcome.executed} (${outcome.completed} completed, ${outcome.failed} failed), skipped ${outcome.skipped} already done\n` +
        `wrote ${outcome.files.join(', ')} and ${opts.out}/results.jsonl\n`,
    );
  }
  if (outcome.interrupted) {
    io.err(`migbench: suite interrupted; run the same command again to resume\n`);
    return EXIT_FAILED;
  }
  return EXIT_OK;
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
  const { parseEvacuationSuite, planEvacuationSuite } = await import('../evacuate/suite.js');
  const { runEvacuationSuite, readEvacuationRecords } = await import('../harness/evacuation-suite.js');
  const { SuiteError } = await import('../suite/parse.js');
  const { OptionError } = await import('../util/errors.js');
  let plan;
  try {
    if (opts.clock !== undefined && opts.clock !== 'real' && opts.clock !== 'virtual')
      return usage(`--clock must be real or virtual (got ${JSON.stringify(opts.clock)})`);
    plan = planEvacuationSuite(parseEvacuationSuite(text, file), {
      reduce: opts.reduce === true,
      clock: opts.clock as 'real' | 'virtual' | undefined,
    });
    if (opts.shard !== undefined) {
      // This machine's share, into DIR/shard-I-of-N, split as run suites are.
      const { parseShard, shardFolder, splitRuns } = await import('../suite/shard.js');
      const { shardEvacuationPlan, evacuationCost } = await import('../evacuate/suite.js');
      const shard = parseShard(opts.shard, io.env);
      plan = shardEvacuationPlan(plan, shard.index, shard.count, (runs) =>
        splitRuns(runs, shard.count, evacuationCost),
      );
      opts.out = path.join(opts.out, shardFolder(shard));
    }
  } catch (e) {
    if (e instanceof SuiteError || e instanceof OptionError) return usage(e.message);
    throw e;
  }
  if (opts.dryRun === true) {
    const latest = await readEvacuationRecords(opts.out);
    const lines = plan.runs.map(
      (r) =>
        `${r.runId}  ${(latest.get(r.runId)?.status ?? 'pending').padEnd(9)}  ${Object.entries(r.varied)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}${r.repeat > 0 ? ` (repeat ${r.repeat + 1})` : ''}`,
    );
    io.out(
      `evacuation suite ${plan.name}${plan.reduced ? ' (reduced)' : ''}: ${plan.runs.length} evacuations of ${plan.runs[0]?.config.vms.length ?? 0} VMs\n${lines.join('\n')}\n`,
    );
    return EXIT_OK;
  }
  const controller = new AbortController();
  const onSigint = (): void => {
    io.err(
      'migbench: interrupted; ending the evacuation in progress and writing the summaries (Ctrl-C again to quit at once)\n',
    );
    controller.abort();
  };
  const offInterrupt = onInterrupt(onSigint);
  const quiet = opts.quiet === true;
  let outcome;
  try {
    outcome = await runEvacuationSuite(plan, {
      outDir: opts.out,
      toolVersion: ctx.version,
      signal: controller.signal,
      retryFailed: opts.retryFailed === true,
      onProgress: (e) => {
        if (quiet || e.kind !== 'run-end') return;
        const h = e.record.result?.host;
        const what = Object.entries(e.run.varied)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
        io.err(
          `[${e.index}/${e.toRun}] ${what}: ${h ? `${(h.evacuationTimeMs / 1000).toFixed(3)} s, worst downtime ${h.downtimeMaxMs.toFixed(1)} ms, ${h.leftBehind} left behind` : e.record.reason}` +
            ` (${(e.record.wallMs / 1000).toFixed(1)} s wall, ${(e.elapsedMs / 1000).toFixed(0)} s so far)\n`,
        );
      },
    });
  } catch (e) {
    if (e instanceof SuiteError) return usage(e.message);
    throw e;
  } finally {
    offInterrupt();
  }
  if (!quiet) {
    const { readFile } = await import('node:fs/promises');
    const md = outcome.files.find((f) => f.endsWith('summary.md'));
    if (md !== undefined) io.out(await readFile(md, 'utf8'));
    io.err(
      `ran ${outcome.executed} evacuations, skipped ${outcome.skipped} already done\nwrote ${outcome.files.join(', ')} and ${opts.out}/results.jsonl\n`,
    );
  }
  if (outcome.interrupted) {
    io.err('migbench: suite interrupted; run the same command again to resume\n');
    return EXIT_FAILED;
  }
  return EXIT_OK;
}
