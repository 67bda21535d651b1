/** `migbench compare A.json B.json`: the differences between two results, with ratios B / A. */
import type { Command } from 'commander';
import { EXIT_OK, type CliCommand, type CliCommandContext } from './command.js';

export const compareCommand: CliCommand = {
  name: 'compare',
  register(program: Command, ctx: CliCommandContext): Command {
    const cmd = program
      .command('compare')
      .description('compare two results: configuration and machine differences, and every measure with B − A and B / A')
      .argument('<a>', "result A: JSON from 'migbench run --json' or --export-json, or one line of a suite's results.jsonl")
      .argument('<b>', 'result B, the same')
      .option('--json', 'print the comparison as JSON on stdout')
      .addHelpText('after', '\nExamples:\n  migbench run --dirty-log bitmap --export-json a.json\n  migbench run --dirty-log ring --export-json b.json\n  migbench compare a.json b.json')
      .action(async (a: string, b: string) => {
        ctx.setExitCode(await compareAction(a, b, cmd.opts<{ json?: boolean }>(), ctx));
      });
    return cmd;
  },
};

async function compareAction(a: string, b: string, opts: { json?: boolean }, ctx: CliCommandContext): Promise<number> {
  const { ResultFileError, compareResults, formatComparison, readResultFile } = await import('../report/compare.js');
  let results;
  try {
    results = await Promise.all([readResultFile(a), readResultFile(b)]);
  } catch (e) {
    if (e instanceof ResultFileError) return ctx.usageError('migbench compare')(e.message);
    throw e;
  }
  const comparison = compareResults(results[0], results[1]);
  ctx.io.out(opts.json === true ? `${JSON.stringify(comparison, null, 2)}\n` : `${formatComparison(comparison, { a, b })}\n`);
  return EXIT_OK;
}
