/**
 * `migbench run`: one migration with the given configuration, reported as tables (default) or as
 * the MigrationResult in JSON (--json). The driver is imported only when a run starts, so help and
 * input errors never load workers, wasm or memory.
 */
import { resultConfig } from '../config/result-config.js';
import { statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { OptionError } from '../util/errors.js';
import { parseCount } from '../util/units.js';
import { hideSecrets } from '../suite/schema.js';
import {
  checkLoop,
  DEFAULT_RUN_CONFIG,
  flagOf,
  resolveRunConfig,
  resolveToken,
  type RawRunOptions,
} from '../config/options.js';
import { readFileSync } from 'node:fs';
import { parseRunOptionsFile, SuiteError } from '../suite/parse.js';
import type { OptionValue } from '../suite/schema.js';
import { absoluteFrom } from './sweep.js';
import { isResultConfig, runConfigOfResult } from '../config/result-config.js';
import type { ResultConfig } from '../result/schema.js';
import type { RunConfig } from '../config/types.js';
import type { MigrationEvent } from '../driver/events.js';
import type { MigrationResult } from '../result/schema.js';
import { formatBytes, formatMs } from '../util/format.js';
import { formatRows, formatSummary, outputWidth } from '../report/summary.js';
import { formatConfigHeader, formatResult, formatRoundLine } from '../report/human.js';
import { toJson } from '../report/json.js';
import { predictPrecopy } from '../model/precopy.js';
import { formatModelComparison } from '../report/model.js';
import {
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  TOKEN_ON_COMMAND_LINE,
  type CliCommand,
  type CliCommandContext,
  type CliIO,
  onInterrupt,
  checked,
  Exit,
  writeOutput,
} from './command.js';
import type { UserStrategies } from '../config/strategies.js';
import { RUN_OPTION_SPECS, runOptionHelp } from '../config/options.js';

/** What commander hands the action: the run options as typed, plus the output options. */
type RunCliOptions = RawRunOptions & {
  json?: boolean;
  model?: boolean;
  exportJson?: string;
  html?: string;
  quiet?: boolean;
  verbose?: boolean;
  runs?: string;
  exportMarkdown?: string;
  exportCsv?: string;
  from?: string;
  dryRun?: boolean;
  sweep?: string[];
  out?: string;
  config?: string;
};

const EXAMPLES = `
Sizes are binary (512MiB, 4KiB; a bare number is bytes; 64Gb is refused: b is
bits); link and dirty rates are decimal (10Gbit/s, 1.25GB/s, 200MB/s); durations
need a unit (300ms, 1.5s, 2m). Exit codes: 0 completed, 1 the migration failed or an error occurred,
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
      .option(
        '--runs <n>',
        "run the migration N times, 1 to 1000, each with its own write streams (seeds derived from --seed, as a suite's repeats), and report each figure's mean, standard deviation, min, median and max",
      )
      .option(
        '--export-markdown <file>',
        "also write the figures' mean ± sd, min, median and max over the runs as a Markdown table (e.g. runs.md)",
      )
      .option(
        '--export-csv <file>',
        'also write them as CSV (figure, unit, n, mean, sd, min, median, max; numbers only)',
      )
      .option(
        '--quiet',
        'no header, progress or round lines (on stdout at a terminal, else on stderr); only the result',
      )
      .option(
        '--config <file>',
        "the run's options from a YAML file (run.yaml: ram: 4GiB, dirty-rate: 200MB/s, ...; the keys of a suite's base); options on the command line override the file's, and its relative paths are from its folder",
      )
      .option(
        '--sweep <option=values>',
        'sweep a run option over values, as a suite (repeatable: each --sweep is an axis): dirty-rate=50MB/s,100MB/s,200MB/s (semicolons between values that hold commas: codec=zero;zero,lz4); the other options are the base, --runs the repeats; needs --out DIR, which gets the suite file, results and report',
        (v: string, acc: string[] = []) => [...acc, v],
      )
      .option('--out <dir>', 'with --sweep: the folder for the sweep suite, its results, summaries and report.html')
      .option(
        '--dry-run',
        'print the configuration, the memory the run needs (and whether it fits here) and an estimate of its time, and run nothing',
      )
      .option(
        '--verbose',
        "a line per round as it ends, then the stages, rounds and totals tables (and codecs', post-copy's and QEMU's statistics) instead of the short summary",
      )
      .option(
        '--from <file>',
        "run again the run a result records: FILE is a result (--json, --export-json), a suite's record, or a suite's results.jsonl with #RUN-ID after its name; no run option beside it but --token or --token-file",
      )
      .option(
        '--model',
        'also predict the run with the analytic pre-copy model and print it beside the run (in JSON: the `model` field)',
      )
      .addHelpText('after', EXAMPLES)
      .action(async () => {
        ctx.setExitCode(await runAction(cmd.opts<RunCliOptions>(), ctx));
      });
    return cmd;
  },
};

async function runAction(opts: RunCliOptions, ctx: CliCommandContext): Promise<number> {
  const { io } = ctx;
  const usage = ctx.usageError('migbench run');
  if (opts.sweep !== undefined || opts.out !== undefined) return sweepAction(opts, ctx);
  const input = await checked(usage, () => runInput(opts));
  if (input instanceof Exit) return input.code;
  const { config, runs } = input;
  if (opts.token !== undefined) io.err(TOKEN_ON_COMMAND_LINE);
  if (opts.model === true && config.userPolicy)
    return usage('--model: the analytic model knows the built-in policies, not a policy from a file');
  // A policy, aid, codec or loop file: imported and checked against its interface before anything runs.
  const { loadUserStrategies } = await import('../config/strategies.js');
  const loaded = await checked(usage, () => loadUserStrategies(config));
  if (loaded instanceof Exit) return loaded.code;
  if (opts.dryRun === true) return dryRun(config, runs, opts, ctx);
  // Before anything is allocated or printed: a run this machine cannot hold is refused at once.
  const { admissionRefusal, AdmissionError } = await import('../config/admission.js');
  const refusal = admissionRefusal(config);
  if (refusal !== null) {
    io.err(`migbench: ${refusal}\n`);
    return EXIT_USAGE;
  }
  const out = outputModes(opts, io);
  if (out.header) {
    const { describeEnvironment } = await import('../result/environment.js');
    const layout = { width: out.width, verbose: out.verbose };
    io.out(`${formatConfigHeader(resultConfig(config), describeEnvironment(), ctx.version, layout)}\n\n`);
  }
  const onEvent = progressEvents(out, io);
  if (runs > 1) return repeatedRuns(config, runs, opts, ctx, onEvent, loaded);
  let result: MigrationResult;
  try {
    result = await runWithInterrupt(config, onEvent, io, loaded);
  } catch (e) {
    // Memory taken by something else since the check above.
    if (!(e instanceof AdmissionError)) throw e;
    io.err(`migbench: ${e.message}\n`);
    return EXIT_USAGE;
  } finally {
    onEvent.done();
  }
  return reportRun(result, config, opts, ctx, out);
}

/** --sweep: the options as a suite file in --out, run as `migbench suite` runs it. */
async function sweepAction(opts: RunCliOptions, ctx: CliCommandContext): Promise<number> {
  const usage = ctx.usageError('migbench run');
  const { parseSweeps, writeSweepSuite } = await import('./sweep.js');
  const { suiteAction } = await import('./suite-command.js');
  const file = await checked(usage, async () => {
    if (opts.sweep === undefined)
      throw new OptionError('--out', '--out is the folder of a --sweep: give --sweep OPTION=V1,V2 too');
    if (opts.out === undefined) throw new OptionError('--sweep', '--sweep writes a suite folder: give --out DIR');
    for (const [flag, given] of [
      ['--from', opts.from],
      ['--html', opts.html],
      ['--export-json', opts.exportJson],
      ['--model', opts.model],
      ['--json', opts.json],
      ['--verbose', opts.verbose],
    ] as const)
      if (given !== undefined)
        throw new OptionError(
          flag,
          `${flag} is for one run; a sweep writes results.jsonl, summaries and report.html into --out`,
        );
    const runs = opts.runs === undefined ? 1 : parseCount('--runs', opts.runs, { min: 1, max: 1000 });
    const given = Object.fromEntries(
      RUN_OPTION_SPECS.map((s) => [s.key, opts[s.key]]).filter(([, v]) => v !== undefined),
    );
    const sweeps = parseSweeps(opts.sweep);
    // A --config file's value of a swept option gives way to the sweep; one on the command line is a mistake.
    const fromFile: Record<string, unknown> = opts.config === undefined ? {} : configFileOptions(opts.config).fromFile;
    for (const k of sweeps.keys()) delete fromFile[k];
    const base = { ...fromFile, ...given };
    resolveRunConfig(base); // the base options checked as a run's, before anything is written
    return writeSweepSuite(base, sweeps, runs, opts.out);
  });
  if (file instanceof Exit) return file.code;
  return suiteAction(file, { out: opts.out!, dryRun: opts.dryRun, quiet: opts.quiet }, ctx);
}

/** --dry-run: the configuration, the memory need against what is available, the estimated time. */
async function dryRun(config: RunConfig, runs: number, opts: RunCliOptions, ctx: CliCommandContext): Promise<number> {
  const { io } = ctx;
  const { describeEnvironment } = await import('../result/environment.js');
  const { admissionRefusal } = await import('../config/admission.js');
  const { estimateRun, formatEstimate } = await import('../model/estimate.js');
  const width = outputWidth(io.columns, io.env);
  const estimate = estimateRun(config);
  const header = formatConfigHeader(resultConfig(config), describeEnvironment(), ctx.version, {
    width,
    verbose: false,
  });
  const refusal = admissionRefusal(config, estimate.need);
  if (opts.json === true) {
    io.out(
      `${JSON.stringify({ kind: 'dry-run', config: resultConfig(config), runs, ...estimate, refusal }, hideSecrets, 2)}\n`,
    );
    return EXIT_OK;
  }
  const rows = formatEstimate(config, estimate, refusal, runs);
  io.out(`${header}\n\n${formatRows(rows, width)}\n`);
  return EXIT_OK;
}

/** The run's configuration and how many runs, or bad input (an OptionError). */
function runInput(opts: RunCliOptions): { config: RunConfig; runs: number } {
  if (opts.config !== undefined && opts.from !== undefined)
    throw new OptionError('--config', '--config and --from both say what to run: give one');
  const config =
    opts.from !== undefined
      ? configFrom(opts.from, opts)
      : opts.config !== undefined
        ? configFromFile(opts.config, opts)
        : resolveRunConfig(opts);
  if (opts.exportJson !== undefined) checkExportPath(opts.exportJson);
  if (opts.html !== undefined) checkExportPath(opts.html, '--html', 'run.html');
  if (opts.exportMarkdown !== undefined) checkExportPath(opts.exportMarkdown, '--export-markdown', 'runs.md');
  if (opts.exportCsv !== undefined) checkExportPath(opts.exportCsv, '--export-csv', 'runs.csv');
  const runs = opts.runs === undefined ? 1 : parseCount('--runs', opts.runs, { min: 1, max: 1000 });
  if (runs > 1 && opts.html !== undefined)
    throw new OptionError('--html', '--html reports one run; with --runs use --export-markdown or --export-csv');
  if (runs > 1 && opts.model === true)
    throw new OptionError('--model', '--model compares one run with the model; with --runs leave it out');
  return { config, runs };
}

/** A --config file's options, its relative paths made absolute from its folder; and where each was written. */
function configFileOptions(file: string): { values: OptionValue[]; fromFile: RawRunOptions } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new OptionError(
      '--config',
      `--config ${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
  const values = parseRunOptionsFile(text, file);
  const dir = path.dirname(path.resolve(file));
  const fromFile: RawRunOptions = {};
  for (const v of values) (fromFile as Record<string, string>)[v.key] = absoluteFrom(dir, v.key, v.text);
  return { values, fromFile };
}

/**
 * --config FILE: the file's options under those of the command line; a value the resolver refuses
 * is said at its line of the file, and the file's relative paths are from its folder.
 */
function configFromFile(file: string, opts: RunCliOptions): RunConfig {
  const { values, fromFile } = configFileOptions(file);
  const given = Object.fromEntries(
    RUN_OPTION_SPECS.map((sp) => [sp.key, opts[sp.key]]).filter(([, v]) => v !== undefined),
  );
  try {
    return resolveRunConfig({ ...fromFile, ...given });
  } catch (e) {
    const at =
      e instanceof OptionError ? values.find((v) => flagOf(v.key) === e.option && !(v.key in given)) : undefined;
    if (at === undefined) throw e;
    throw new SuiteError(file, at.line, at.path, (e as Error).message);
  }
}

/**
 * --from FILE[#RUN-ID]: the configuration a recorded result ran with (runConfigOfResult), its
 * write-stream seed included, so a suite's later repeat reproduces too. Run options beside it
 * would make it another run: refused, but the token (never in a result).
 */
function configFrom(from: string, opts: RunCliOptions): RunConfig {
  const given = RUN_OPTION_SPECS.map((s) => s.key).filter(
    (k) => opts[k] !== undefined && k !== 'token' && k !== 'tokenFile',
  );
  if (given.length > 0)
    throw new OptionError(
      flagOf(given[0]),
      `--from runs the recorded configuration as it was: leave out ${flagOf(given[0])} (or run with options instead of --from)`,
    );
  const hash = from.lastIndexOf('#');
  const [file, runId] = hash > 0 ? [from.slice(0, hash), from.slice(hash + 1)] : [from, undefined];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new OptionError(
      '--from',
      `--from ${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const objects: unknown[] = [];
  try {
    const trimmed = text.trim();
    if (trimmed.startsWith('{') && !trimmed.includes('\n{')) objects.push(JSON.parse(trimmed));
    else for (const line of trimmed.split('\n')) if (line.trim() !== '') objects.push(JSON.parse(line));
  } catch {
    throw new OptionError('--from', `--from ${file} is not a result's JSON or a suite's results.jsonl`);
  }
  type Recorded = { config?: ResultConfig; result?: { config?: ResultConfig }; runId?: string };
  const candidates = (objects as Recorded[]).filter((o) => runId === undefined || o.runId === runId);
  if (candidates.length !== 1)
    throw new OptionError(
      '--from',
      runId === undefined
        ? `--from ${file} holds ${candidates.length} records: name one, as ${file}#RUN-ID`
        : `--from ${file} holds no record of run ${runId}`,
    );
  const rc = candidates[0].config ?? candidates[0].result?.config;
  if (rc === undefined || typeof rc !== 'object' || !isResultConfig(rc))
    throw new OptionError('--from', `--from ${from} holds no result with its config (a run that did not run has none)`);
  const token = resolveToken(
    opts.token === true ? undefined : (opts.token as string | undefined),
    opts.tokenFile as string | undefined,
  );
  const config = runConfigOfResult(rc, DEFAULT_RUN_CONFIG, token);
  checkLoop(config);
  return config;
}

/** Where what goes: the result as JSON or tables, the rounds as they end, the stages' progress. */
interface OutputModes {
  json: boolean;
  /** The configuration's header before the run. */
  header: boolean;
  /** Round lines on stdout as they end (at a terminal, not --json or --quiet). */
  liveRounds: boolean;
  /** Round lines on stderr (piped, `| tee log`, or --json: stdout waits for the result). */
  stderrRounds: boolean;
  /** The stages on stderr (at a terminal): a line each with --verbose, else one line rewritten in place. */
  progress: boolean;
  quiet: boolean;
  /** Round lines and the full tables; else the short summary. */
  verbose: boolean;
  /** Columns to lay the text out for. */
  width: number;
}

function outputModes(opts: RunCliOptions, io: CliIO): OutputModes {
  const json = opts.json === true;
  const quiet = opts.quiet === true;
  const verbose = opts.verbose === true;
  const liveRounds = verbose && !json && !quiet && io.stdoutIsTTY;
  return {
    json,
    quiet,
    verbose,
    width: outputWidth(io.columns, io.env),
    header: !json && !quiet,
    liveRounds,
    stderrRounds: verbose && !quiet && !liveRounds,
    progress: !quiet && io.stderrIsTTY,
  };
}

/**
 * The run's events, told as the output modes say. Without --verbose a terminal's stderr gets one
 * line, rewritten as the stages and rounds go by and erased before the result is printed.
 */
function progressEvents(out: OutputModes, io: CliIO): ((e: MigrationEvent) => void) & { done(): void } {
  const inPlace = out.progress && !out.verbose;
  let shown = false;
  let stage = '';
  const show = (text: string): void => {
    io.err(`\r\x1b[K${text.slice(0, out.width - 1)}`);
    shown = true;
  };
  const onEvent = (e: MigrationEvent): void => {
    switch (e.kind) {
      case 'round':
        if (out.liveRounds) io.out(`${formatRoundLine(e.iteration, e.policyDecision, out.width)}\n`);
        else if (out.stderrRounds) io.err(`${formatRoundLine(e.iteration, e.policyDecision, out.width)}\n`);
        else if (inPlace)
          show(
            `${stage} · round ${e.iteration.index} done: ${formatBytes(e.iteration.bytesSent)} in ${formatMs(e.iteration.durationMs)}, ` +
              `${e.iteration.dirtyPages.toLocaleString('en-US')} pages dirty`,
          );
        break;
      case 'stage-start':
        stage = `${e.stage} at ${formatMs(e.atMs)}`;
        if (inPlace) show(stage);
        else if (out.progress) io.err(`stage ${stage}\n`);
        break;
      case 'stage-end':
        break;
      case 'failed':
        // Human output shows the reason in the status line; JSON readers get it on stderr too.
        if (out.json && !out.quiet) io.err(`migbench: migration failed: ${e.reason}\n`);
        break;
    }
  };
  return Object.assign(onEvent, {
    done(): void {
      if (shown) io.err('\r\x1b[K');
      shown = false;
    },
  });
}

/** The result on stdout and in the files asked for; the exit code. */
async function reportRun(
  result: MigrationResult,
  config: RunConfig,
  opts: RunCliOptions,
  ctx: CliCommandContext,
  out: OutputModes,
): Promise<number> {
  const { io } = ctx;
  for (const w of result.warnings ?? []) io.err(`migbench: warning: ${w}\n`);
  if (opts.model === true) result.model = predictPrecopy(config);
  const text = out.verbose ? formatResult(result, out.width) : formatSummary(result, out.width);
  io.out(out.json ? `${toJson(result)}\n` : `${out.liveRounds ? '\n' : ''}${text}\n`);
  if (!out.json && result.model) io.out(`\n${formatModelComparison(result.model, result)}\n`);
  if (
    opts.exportJson !== undefined &&
    !(await writeOutput(io, '--export-json', opts.exportJson, `${toJson(result)}\n`))
  )
    return EXIT_FAILED;
  if (!(await writeRunsExports([result], opts, io))) return EXIT_FAILED;
  if (opts.html !== undefined) {
    const { renderRunHtml } = await import('../report/html.js');
    const html = (): Promise<string> => renderRunHtml(result, { toolVersion: ctx.version });
    if (!(await writeOutput(io, '--html', opts.html, html))) return EXIT_FAILED;
  }
  return result.status === 'failed' ? EXIT_FAILED : EXIT_OK;
}

/** --export-markdown and --export-csv: the figures over the runs; false when a file cannot be written. */
async function writeRunsExports(results: MigrationResult[], opts: RunCliOptions, io: CliIO): Promise<boolean> {
  if (opts.exportMarkdown === undefined && opts.exportCsv === undefined) return true;
  const { summarizeRuns, runsSummaryMarkdown, runsSummaryCsv } = await import('../report/runs.js');
  const summary = summarizeRuns(results);
  for (const [flag, file, text] of [
    ['--export-markdown', opts.exportMarkdown, runsSummaryMarkdown],
    ['--export-csv', opts.exportCsv, runsSummaryCsv],
  ] as const) {
    if (file !== undefined && !(await writeOutput(io, flag, file, text(summary)))) return false;
  }
  return true;
}

/**
 * `--runs N`: the migration N times, each with its own write streams (repeatConfig: the suite's
 * repeats), one status line each, then each figure's mean ± sd, min, median and max.
 */
async function repeatedRuns(
  config: RunConfig,
  runs: number,
  opts: RunCliOptions,
  ctx: CliCommandContext,
  onEvent: ReturnType<typeof progressEvents>,
  loaded: UserStrategies,
): Promise<number> {
  const { io } = ctx;
  const json = opts.json === true;
  const results: MigrationResult[] = [];
  const { repeatConfig } = await import('../config/options.js');
  const { formatStatusLine } = await import('../report/human.js');
  const { summarizeRuns, formatRunsSummary } = await import('../report/runs.js');
  for (let i = 0; i < runs; i++) {
    const r = await runWithInterrupt(repeatConfig(config, i), onEvent, io, loaded);
    onEvent.done();
    results.push(r);
    for (const w of r.warnings ?? []) io.err(`migbench: warning: ${w}\n`);
    if (!json && opts.quiet !== true)
      io.out(
        `run ${i + 1} of ${runs}: ${formatStatusLine(r)} · total ${formatMs(r.totals.totalTimeMs)} · downtime ${formatMs(r.totals.downtimeMs)}\n`,
      );
    if (r.status === 'failed' && /^interrupted/.test(r.reason ?? '')) break;
  }
  const summary = summarizeRuns(results);
  io.out(
    json
      ? `${JSON.stringify({ kind: 'runs', runs: results, summary }, hideSecrets, 2)}\n`
      : `\n${formatRunsSummary(summary)}\n`,
  );
  const all = `${JSON.stringify({ kind: 'runs', runs: results, summary }, hideSecrets, 2)}\n`;
  if (opts.exportJson !== undefined && !(await writeOutput(io, '--export-json', opts.exportJson, all)))
    return EXIT_FAILED;
  if (!(await writeRunsExports(results, opts, io))) return EXIT_FAILED;
  return summary.failed > 0 ? EXIT_FAILED : EXIT_OK;
}

/** The first Ctrl-C asks the driver to end the run (it reports why); a second one kills. */
async function runWithInterrupt(
  config: RunConfig,
  onEvent: (e: MigrationEvent) => void,
  io: CliIO,
  loaded: UserStrategies,
): Promise<MigrationResult> {
  const { runMigration } = await import('../driver/migrate.js');
  const controller = new AbortController();
  const onSigint = (): void => {
    io.err('migbench: interrupted; ending the migration (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  const offInterrupt = onInterrupt(onSigint);
  try {
    return await runMigration(config, { onEvent, signal: controller.signal }, loaded);
  } finally {
    offInterrupt();
  }
}

/** Fail before a long run, not after it, when the export file cannot be created. */
export function checkExportPath(file: string, flag = '--export-json', example = 'result.json'): void {
  const dir = path.dirname(path.resolve(file));
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  let isExistingDir: boolean;
  try {
    isExistingDir = statSync(file).isDirectory();
  } catch {
    isExistingDir = false;
  }
  if (!isDir || isExistingDir || file === '') {
    throw new OptionError(
      flag,
      `${flag} must be a file path in an existing directory such as ${example} (got ${JSON.stringify(file)})`,
    );
  }
}
