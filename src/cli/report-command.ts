/**
 * `migbench report DIR`: writes a suite directory's summary.csv, summary.md and report.html again
 * from its suite.json and results.jsonl (after a newer migbench, or while a suite still runs).
 */
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { EXIT_OK, type CliCommand, type CliCommandContext } from './command.js';

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
  const { shardFolders, mergeShards, MergeError } = await import('../harness/merge.js');
  const usage = ctx.usageError('migbench report');
  // Shard folders: several given, or one folder holding them.
  const inside = dirs.length === 1 ? await shardFolders(dirs[0]) : [];
  if (dirs.length > 1 || inside.length > 0) {
    const folders = dirs.length > 1 ? dirs : inside;
    const out = opts.out ?? (dirs.length === 1 ? dirs[0] : undefined);
    if (out === undefined) return usage('several shard folders merge into --out DIR: give it');
    // Shards of a suite of evacuations merge by their own runner's rules.
    const first = await readFile(path.join(folders[0], 'suite.json'), 'utf8')
      .then((t) => JSON.parse(t) as { kind?: string })
      .catch(() => undefined);
    if (first?.kind === 'evacuation') {
      const { mergeEvacuationShards } = await import('../harness/evacuation-suite.js');
      const { SuiteError } = await import('../suite/parse.js');
      try {
        const m = await mergeEvacuationShards(folders, out, ctx.version);
        ctx.io.err(
          `merged ${folders.length} shard folder${folders.length === 1 ? '' : 's'}: ${m.records} of ${m.runs} evacuations recorded\n`,
        );
        if (m.missingShards.length > 0)
          ctx.io.err(
            `migbench: missing: shard${m.missingShards.length === 1 ? '' : 's'} ${m.missingShards.join(', ')} (no folder): their evacuations are not in the report\n`,
          );
        if (m.missingRuns.length > 0)
          ctx.io.err(
            `migbench: missing: ${m.missingRuns.length} evacuation${m.missingRuns.length === 1 ? '' : 's'} with no record: ${m.missingRuns.slice(0, 10).join(', ')}\n`,
          );
        ctx.io.err(`wrote ${m.files.join(', ')} and ${out}/results.jsonl\n`);
        return EXIT_OK;
      } catch (e) {
        if (e instanceof SuiteError) return usage(e.message);
        throw e;
      }
    }
    try {
      const m = await mergeShards(folders, out, ctx.version);
      ctx.io.err(
        `merged ${m.folders.length} shard folder${m.folders.length === 1 ? '' : 's'}: ${m.records} of ${m.plan.runs.length} runs recorded\n`,
      );
      if (m.missingShards.length > 0)
        ctx.io.err(
          `migbench: missing: shard${m.missingShards.length === 1 ? '' : 's'} ${m.missingShards.join(', ')} (no folder): their runs are not in the report\n`,
        );
      if (m.missingRuns.length > 0)
        ctx.io.err(
          `migbench: missing: ${m.missingRuns.length} run${m.missingRuns.length === 1 ? '' : 's'} with no record: ${m.missingRuns.slice(0, 10).join(', ')}${m.missingRuns.length > 10 ? ', ...' : ''}\n`,
        );
      ctx.io.err(`wrote ${m.files.join(', ')} and ${out}/results.jsonl\n`);
      return EXIT_OK;
    } catch (e) {
      if (e instanceof MergeError) return usage(e.message);
      throw e;
    }
  }
  const dir = dirs[0];
  // A suite of evacuations has its own plan and records (src/evacuate/suite.ts).
  const raw = await readFile(path.join(dir, 'suite.json'), 'utf8')
    .then((t) => JSON.parse(t) as { kind?: string })
    .catch(() => undefined);
  if (raw?.kind === 'evacuation') {
    const { readEvacuationRecords, writeEvacuationOutputs } = await import('../harness/evacuation-suite.js');
    const files = await writeEvacuationOutputs(
      dir,
      raw as Parameters<typeof writeEvacuationOutputs>[1],
      await readEvacuationRecords(dir),
      ctx.version,
    );
    ctx.io.err(`wrote ${files.join(', ')}\n`);
    return EXIT_OK;
  }
  const { readPlan } = await import('../suite/outputs.js');
  const { writeSuiteOutputs } = await import('../harness/outputs.js');
  const { latestByRunId, readRecords } = await import('../suite/records.js');
  const plan = await readPlan(dir).catch((e: unknown) => {
    throw new Error(`cannot read ${path.join(dir, 'suite.json')}: ${e instanceof Error ? e.message : String(e)}`);
  });
  if (plan === undefined) {
    return ctx.usageError('migbench report')(
      `${dir} holds no suite.json: give a directory written by 'migbench suite FILE --out DIR'`,
    );
  }
  const loaded = await readRecords(dir);
  if (loaded.badLines.length > 0)
    ctx.io.err(`migbench: results.jsonl lines ${loaded.badLines.join(', ')} are not records; ignored\n`);
  const files = await writeSuiteOutputs(dir, plan, latestByRunId(loaded.records), ctx.version);
  ctx.io.err(`wrote ${files.join(', ')}\n`);
  return EXIT_OK;
}
