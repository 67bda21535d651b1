/**
 * `migbench report DIR`: writes a suite directory's summary.csv, summary.md and report.html again
 * from its suite.json and results.jsonl (after a newer migbench, or while a suite still runs).
 */
import path from 'node:path';
import type { Command } from 'commander';
import { EXIT_OK, type CliCommand, type CliCommandContext } from './command.js';

export const reportCommand: CliCommand = {
  name: 'report',
  register(program: Command, ctx: CliCommandContext): Command {
    const cmd = program
      .command('report')
      .description("regenerate a suite directory's report.html, summary.csv and summary.md from its results.jsonl")
      .argument('<dir>', "a directory written by 'migbench suite --out DIR'")
      .addHelpText('after', '\nExamples:\n  migbench report results/convergence')
      .action(async (dir: string) => {
        ctx.setExitCode(await reportAction(dir, ctx));
      });
    return cmd;
  },
};

async function reportAction(dir: string, ctx: CliCommandContext): Promise<number> {
  // A suite of evacuations has its own plan and records (src/evacuate/suite.ts).
  const { readFile } = await import('node:fs/promises');
  const raw = await readFile(path.join(dir, 'suite.json'), 'utf8').then((t) => JSON.parse(t) as { kind?: string }).catch(() => undefined);
  if (raw?.kind === 'evacuation') {
    const { readEvacuationRecords, writeEvacuationOutputs } = await import('../evacuate/suite.js');
    const files = await writeEvacuationOutputs(dir, raw as Parameters<typeof writeEvacuationOutputs>[1], await readEvacuationRecords(dir), ctx.version);
    ctx.io.err(`wrote ${files.join(', ')}\n`);
    return EXIT_OK;
  }
  const { readPlan, writeSuiteOutputs } = await import('../suite/outputs.js');
  const { latestByRunId, readRecords } = await import('../suite/records.js');
  const plan = await readPlan(dir).catch((e: unknown) => {
    throw new Error(`cannot read ${path.join(dir, 'suite.json')}: ${e instanceof Error ? e.message : String(e)}`);
  });
  if (plan === undefined) {
    return ctx.usageError('migbench report')(`${dir} holds no suite.json: give a directory written by 'migbench suite FILE --out DIR'`);
  }
  const loaded = await readRecords(dir);
  if (loaded.badLines.length > 0) ctx.io.err(`migbench: results.jsonl lines ${loaded.badLines.join(', ')} are not records; ignored\n`);
  const files = await writeSuiteOutputs(dir, plan, latestByRunId(loaded.records), ctx.version);
  ctx.io.err(`wrote ${files.join(', ')}\n`);
  return EXIT_OK;
}
