/**
 * `migbench report DIR`: writes a suite directory's summary.csv, summary.md and report.html again
 * from its suite.json and results.jsonl (after a newer migbench, or while a suite still runs).
 */
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { EXIT_FAILED, EXIT_OK, checked, Exit, type CliCommand, type CliCommandContext } from './command.js';

export const reportCommand: CliCommand = {
  name: 'report',
  register(program: Command, ctx: CliCommandContext): Command {
    const cmd = program
      .command('report')
      .description("regenerate a suite directory's report.html, summary.csv and summary.md from its results.jsonl")
      .argument(
        '<dir...>',
        "a directory written by 'migbench suite --out DIR'; one holding shard-I-of-N folders (suite --shard) merges them into it; several shard folders merge into --out",
      )
      .option('--out <dir>', 'with several shard folders: where the merged results, summaries and report go')
      .addHelpText(
        'after',
        '\nExamples:\n  migbench report results/convergence\n  migbench report results/convergence        # after suite --shard I/N runs: merges DIR/shard-*-of-N\n  migbench report node1/shard-1-of-2 node2/shard-2-of-2 --out results/merged',
      )
      .action(async (dirs: string[]) => {
        ctx.setExitCode(await reportAction(dirs, cmd.opts<{ out?: string }>(), ctx));
      });
    return cmd;
  },
};

async function reportAction(dirs: string[], opts: { out?: string }, ctx: CliCommandContext): Promise<number> {
  const { shardFolders } = await import('../harness/merge.js');
  const usage = ctx.usageError('migbench report');
  // Shard folders: several given, or one folder holding them.
  const inside = dirs.length === 1 ? await shardFolders(dirs[0]) : [];
  if (dirs.length === 1 && inside.length === 0) return regenerate(dirs[0], ctx);
  const folders = dirs.length > 1 ? dirs : inside;
  const out = opts.out ?? (dirs.length === 1 ? dirs[0] : undefined);
  if (out === undefined) return usage('several shard folders merge into --out DIR: give it');
  const merged = await checked(usage, () => merge(folders, out, ctx.version));
  if (merged instanceof Exit) return merged.code;
  const { io } = ctx;
  const s = (n: number): string => (n === 1 ? '' : 's');
  const { what, folders: n, records, runs, missingShards, missingRuns, files } = merged;
  io.err(`merged ${n} shard folder${s(n)}: ${records} of ${runs} ${what}s recorded\n`);
  for (const w of merged.warnings) io.err(`migbench: warning: ${w}\n`);
  if (missingShards.length > 0)
    io.err(
      `migbench: missing: shard${s(missingShards.length)} ${missingShards.join(', ')} (no folder): their ${what}s are not in the report\n`,
    );
  if (missingRuns.length > 0)
    io.err(
      `migbench: missing: ${missingRuns.length} ${what}${s(missingRuns.length)} with no record: ${missingRuns.slice(0, 10).join(', ')}${missingRuns.length > 10 ? ', ...' : ''}\n`,
    );
  io.err(`wrote ${files.join(', ')} and ${out}/results.jsonl\n`);
  // The report is written either way; a merge that lacks shards or runs is not the whole suite.
  return missingShards.length > 0 || missingRuns.length > 0 ? EXIT_FAILED : EXIT_OK;
}

/** What a merge of shard folders came to, for run suites and evacuation suites alike. */
interface Merged {
  what: 'run' | 'evacuation';
  folders: number;
  records: number;
  runs: number;
  missingShards: number[];
  missingRuns: string[];
  files: string[];
  warnings: string[];
}

/** Merges shard folders into `out`, each kind of suite by its own runner's rules. */
async function merge(folders: string[], out: string, version: string): Promise<Merged> {
  const first = await readJsonKind(folders[0]);
  if (first?.kind === 'evacuation') {
    const { mergeEvacuationShards } = await import('../harness/evacuation-suite.js');
    const m = await mergeEvacuationShards(folders, out, version);
    return { what: 'evacuation', folders: folders.length, warnings: [], ...m };
  }
  const { mergeShards } = await import('../harness/merge.js');
  const m = await mergeShards(folders, out, version);
  const { missingShards, missingRuns, files, records, warnings } = m;
  return {
    what: 'run',
    warnings,
    folders: m.folders.length,
    records,
    runs: m.plan.runs.length,
    missingShards,
    missingRuns,
    files,
  };
}

/** The `kind` of the suite plan in a folder; undefined when there is none to read. */
function readJsonKind(dir: string): Promise<{ kind?: string } | undefined> {
  return readFile(path.join(dir, 'suite.json'), 'utf8')
    .then((t) => JSON.parse(t) as { kind?: string })
    .catch(() => undefined);
}

/** One suite folder: its summaries and report written again from its plan and records. */
async function regenerate(dir: string, ctx: CliCommandContext): Promise<number> {
  // A suite of evacuations has its own plan and records (src/evacuate/suite.ts).
  const raw = await readJsonKind(dir);
  if (raw?.kind === 'evacuation') {
    const { readEvacuationRecords, writeEvacuationOutputs } = await import('../harness/evacuation-suite.js');
    const plan = raw as Parameters<typeof writeEvacuationOutputs>[1];
    const files = await writeEvacuationOutputs(dir, plan, await readEvacuationRecords(dir), ctx.version);
    ctx.io.err(`wrote ${files.join(', ')}\n`);
    return EXIT_OK;
  }
  const { readPlan } = await import('../suite/outputs.js');
  const { writeSuiteOutputs } = await import('../harness/outputs.js');
  const { latestByRunId, readRecords } = await import('../suite/records.js');
  const usage = ctx.usageError('migbench report');
  const { stat } = await import('node:fs/promises');
  const s = await stat(dir).catch(() => null);
  if (s === null || !s.isDirectory())
    return usage(`${dir} is not a folder: give a directory written by 'migbench suite FILE --out DIR'`);
  let plan;
  try {
    plan = await readPlan(dir);
  } catch (e) {
    // A plan that is not one (hand-edited, truncated, another tool's) is bad input, not a crash.
    return usage(`cannot read ${path.join(dir, 'suite.json')}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (plan === undefined) {
    return usage(`${dir} holds no suite.json: give a directory written by 'migbench suite FILE --out DIR'`);
  }
  const loaded = await readRecords(dir);
  if (loaded.badLines.length > 0)
    ctx.io.err(`migbench: results.jsonl lines ${loaded.badLines.join(', ')} are not records; ignored\n`);
  const files = await writeSuiteOutputs(dir, plan, latestByRunId(loaded.records), ctx.version);
  ctx.io.err(`wrote ${files.join(', ')}\n`);
  return EXIT_OK;
}
