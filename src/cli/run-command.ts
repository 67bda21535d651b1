/**
 * `migbench run`: one migration with the given configuration, reported as tables (default) or as
 * the MigrationResult in JSON (--json). The driver is imported only when a run starts, so help and
 * input errors never load workers, wasm or memory.
 */
import { resultConfig } from '../result/config.js';
import { statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { OptionError } from '../config/errors.js';
import { resolveRunConfig, type RawRunOptions } from '../config/options.js';
import type { RunConfig } from '../config/types.js';
import type { MigrationEvent } from '../driver/events.js';
import type { MigrationResult } from '../result/schema.js';
import { formatMs } from '../util/format.js';
import { formatConfigHeader, formatResult, formatRoundLine } from '../report/human.js';
import { toJson } from '../report/json.js';
import { predictPrecopy } from '../model/precopy.js';
import { formatModelComparison } from '../report/model.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, TOKEN_ON_COMMAND_LINE, type CliCommand, type CliCommandContext, type CliIO, onInterrupt } from './command.js';
import { RUN_OPTION_SPECS, runOptionHelp } from '../config/options.js';

/** What commander hands the action: the run options as typed, plus the output options. */
type RunCliOptions = RawRunOptions & {
  json?: boolean;
  model?: boolean;
  exportJson?: string;
  html?: string;
  quiet?: boolean;
};

const EXAMPLES = `
Sizes are binary (512MiB, 4KiB; a bare number is bytes); link and dirty rates
are decimal (10Gbit/s, 1.25GB/s, 200MB/s); durations need a unit (300ms, 1.5s,
2m). Exit codes: 0 completed, 1 the migration failed or an error occurred,
2 bad input.

Examples:
  migbench run
  migbench run --ram 4GiB --dirty-rate 200MB/s --link 10Gbit/s
  migbench run --pattern hotset:0.1:0.9 --policy xen --max-iterations 30
  migbench run --link 1Gbit/s --downtime-limit 50ms --json > result.json
  migbench run --ram 512MiB --dirty-rate 0 --quiet --export-json idle.json`;

export const runCommand: CliCommand = {
  name: 'run',
  register(program: Command, ctx: CliCommandContext): Command {
    const cmd = program
      .command('run')
      .description('migrate an emulated running guest once by iterative pre-copy and report the measurements');
    for (const spec of RUN_OPTION_SPECS) cmd.option(spec.flags, runOptionHelp(spec));
    cmd
      .option('--json', 'print the result (MigrationResult schema) as JSON on stdout and nothing else there')
      .option('--export-json <file>', 'also write the result as JSON to a file (e.g. result.json)')
      .option('--html <file>', 'also write a self-contained HTML report with charts of the run (e.g. run.html)')
      .option('--quiet', 'no header, progress or round lines (on stdout at a terminal, else on stderr); only the result')
      .option('--model', 'also predict the run with the analytic pre-copy model and print it beside the run (in JSON: the `model` field)')
      .addHelpText('after', EXAMPLES)
      .action(async () => {
        ctx.setExitCode(await runAction(cmd.opts<RunCliOptions>(), ctx));
      });
    return cmd;
  },
};

async function runAction(opts: RunCliOptions, ctx: CliCommandContext): Promise<number> {
  const { io } = ctx;
  let config: RunConfig;
  try {
    config = resolveRunConfig(opts);
    if (opts.exportJson !== undefined) checkExportPath(opts.exportJson);
    if (opts.html !== undefined) checkExportPath(opts.html, '--html', 'run.html');
  } catch (e) {
    if (e instanceof OptionError) return ctx.usageError('migbench run')(e.message);
    throw e;
  }
  if (opts.token !== undefined) io.err(TOKEN_ON_COMMAND_LINE);
  // A policy or aid file: imported and checked against its interface before anything runs.
  if (config.userPolicy || config.userAid) {
    if (opts.model === true && config.userPolicy) return ctx.usageError('migbench run')('--model: the analytic model knows the built-in policies, not a policy from a file');
    const { checkUserStrategies, StrategyError } = await import('../strategy/user.js');
    try {
      await checkUserStrategies(config);
    } catch (e) {
      if (e instanceof StrategyError) return ctx.usageError('migbench run')(e.message);
      throw e;
    }
  }

  // Before anything is allocated or printed: a run this machine cannot hold is refused at once.
  const { admissionRefusal, AdmissionError } = await import('../memory/admission.js');
  const refusal = admissionRefusal(config);
  if (refusal !== null) {
    io.err(`migbench: ${refusal}\n`);
    return EXIT_USAGE;
  }

  const json = opts.json === true;
  const quiet = opts.quiet === true;
  const liveRounds = !json && !quiet && io.stdoutIsTTY;
  // Piped (`| tee log`) or as JSON, stdout waits for the result: the rounds go to stderr as they end.
  const stderrRounds = !quiet && !liveRounds;
  const progress = !quiet && io.stderrIsTTY;

  if (!json && !quiet) {
    const { describeEnvironment } = await import('../result/environment.js');
    io.out(`${formatConfigHeader(resultConfig(config), describeEnvironment(), ctx.version)}\n\n`);
  }

  const onEvent = (e: MigrationEvent): void => {
    switch (e.kind) {
      case 'round':
        if (liveRounds) io.out(`${formatRoundLine(e.iteration, e.policyDecision)}\n`);
        else if (stderrRounds) io.err(`${formatRoundLine(e.iteration, e.policyDecision)}\n`);
        break;
      case 'stage-start':
        if (progress) io.err(`stage ${e.stage} at ${formatMs(e.atMs)}\n`);
        break;
      case 'stage-end':
        break;
      case 'failed':
        // Human output shows the reason in the status line; JSON readers get it on stderr too.
        if (json && !quiet) io.err(`migbench: migration failed: ${e.reason}\n`);
        break;
    }
  };

  let result: MigrationResult;
  try {
    result = await runWithInterrupt(config, onEvent, io);
  } catch (e) {
    // Memory taken by something else since the check above.
    if (e instanceof AdmissionError) {
      io.err(`migbench: ${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
  for (const w of result.warnings ?? []) io.err(`migbench: warning: ${w}\n`);
  if (opts.model === true) result.model = predictPrecopy(config);
  io.out(json ? `${toJson(result)}\n` : `${liveRounds ? '\n' : ''}${formatResult(result)}\n`);
  if (!json && result.model) io.out(`\n${formatModelComparison(result.model, result)}\n`);

  if (opts.exportJson !== undefined) {
    try {
      await writeFile(opts.exportJson, `${toJson(result)}\n`);
    } catch (e) {
      io.err(`migbench: cannot write --export-json ${opts.exportJson}: ${e instanceof Error ? e.message : String(e)}\n`);
      return EXIT_FAILED;
    }
  }
  if (opts.html !== undefined) {
    try {
      const { renderRunHtml } = await import('../report/html.js');
      await writeFile(opts.html, await renderRunHtml(result, { toolVersion: ctx.version }));
    } catch (e) {
      io.err(`migbench: cannot write --html ${opts.html}: ${e instanceof Error ? e.message : String(e)}\n`);
      return EXIT_FAILED;
    }
  }
  return result.status === 'failed' ? EXIT_FAILED : EXIT_OK;
}

/** The first Ctrl-C asks the driver to end the run (it reports why); a second one kills. */
async function runWithInterrupt(
  config: RunConfig, onEvent: (e: MigrationEvent) => void, io: CliIO,
): Promise<MigrationResult> {
  const { runMigration } = await import('../driver/migrate.js');
  const controller = new AbortController();
  const onSigint = (): void => {
    io.err('migbench: interrupted; ending the migration (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  const offInterrupt = onInterrupt(onSigint);
  try {
    return await runMigration(config, { onEvent, signal: controller.signal });
  } finally {
    offInterrupt();
  }
}

/** Fail before a long run, not after it, when the export file cannot be created. */
export function checkExportPath(file: string, flag = '--export-json', example = 'result.json'): void {
  const dir = path.dirname(path.resolve(file));
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  let isExistingDir = false;
  try {
    isExistingDir = statSync(file).isDirectory();
  } catch {
    isExistingDir = false;
  }
  if (!isDir || isExistingDir || file === '') {
    throw new OptionError(flag,
      `${flag} must be a file path in an existing directory such as ${example} (got ${JSON.stringify(file)})`);
  }
}
