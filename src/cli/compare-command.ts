/**
 * `migbench compare A B`: two results side by side (configuration and machine differences, every
 * measure with B − A and B / A), or two sets of results (a suite's results.jsonl or folder, or
 * `run --runs N --export-json`): per configuration on both sides, each measure's mean ± sd.
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { EXIT_FAILED, EXIT_OK, type CliCommand, type CliCommandContext } from './command.js';

interface CompareOptions {
  json?: boolean;
  exportCsv?: string;
  exportMarkdown?: string;
}

export const compareCommand: CliCommand = {
  name: 'compare',
  register(program: Command, ctx: CliCommandContext): Command {
    const cmd = program
      .command('compare')
      .description(
        'compare two results, or two sets of results (suite folders, results.jsonl, run --runs exports) per configuration with their spread',
      )
      .argument(
        '<a>',
        "A: a result ('migbench run --json' or --export-json, or one line of a suite's results.jsonl), or a set: a suite folder, a results.jsonl, or 'run --runs N --export-json'",
      )
      .argument('<b>', 'B, the same')
      .option('--json', 'print the comparison as JSON on stdout')
      .option('--export-csv <file>', 'also write the comparison as CSV (numbers only)')
      .option('--export-markdown <file>', 'also write the comparison as a Markdown table')
      .addHelpText(
        'after',
        '\nExamples:\n  migbench run --dirty-log bitmap --export-json a.json\n  migbench run --dirty-log ring --export-json b.json\n  migbench compare a.json b.json\n  migbench compare results/before results/after --export-markdown diff.md     # two runs of a suite\n  migbench compare a-runs.json b-runs.json                                    # run --runs 10 --export-json, twice',
      )
      .action(async (a: string, b: string) => {
        ctx.setExitCode(await compareAction(a, b, cmd.opts<CompareOptions>(), ctx));
      });
    return cmd;
  },
};

async function compareAction(a: string, b: string, opts: CompareOptions, ctx: CliCommandContext): Promise<number> {
  const { ResultFileError, compareResults, formatComparison, readResultFile } = await import('../report/compare.js');
  const sets = await import('../report/compare-sets.js');
  const usage = ctx.usageError('migbench compare');
  try {
    if ((await sets.isResultSet(a)) || (await sets.isResultSet(b))) {
      const c = sets.compareSets(await sets.readResultSet(a), await sets.readResultSet(b));
      if (c.measures.length === 0)
        return usage(
          `${a} and ${b} have no configuration in common (a suite's configurations match by their id; one set of repeats on each side matches as it is)`,
        );
      ctx.io.out(opts.json === true ? `${JSON.stringify(c, null, 2)}\n` : `${sets.formatSetComparison(c)}\n`);
      return (await exports(opts, ctx, sets.setComparisonCsv(c), sets.setComparisonMarkdown(c)))
        ? EXIT_OK
        : EXIT_FAILED;
    }
    const results = await Promise.all([readResultFile(a), readResultFile(b)]);
    const comparison = compareResults(results[0], results[1]);
    ctx.io.out(
      opts.json === true ? `${JSON.stringify(comparison, null, 2)}\n` : `${formatComparison(comparison, { a, b })}\n`,
    );
    // One result each: the measures as sets of one (sd 0), in the same CSV and Markdown.
    const one = (file: string, r: (typeof results)[number]) => ({
      source: file,
      groups: new Map([['one', { label: 'all', results: [r], failed: 0 }]]),
    });
    const c = sets.compareSets(one(a, results[0]), one(b, results[1]));
    return (await exports(opts, ctx, sets.setComparisonCsv(c), sets.setComparisonMarkdown(c))) ? EXIT_OK : EXIT_FAILED;
  } catch (e) {
    if (e instanceof ResultFileError) return usage(e.message);
    throw e;
  }
}

async function exports(opts: CompareOptions, ctx: CliCommandContext, csv: string, md: string): Promise<boolean> {
  for (const [flag, file, text] of [
    ['--export-csv', opts.exportCsv, csv],
    ['--export-markdown', opts.exportMarkdown, md],
  ] as const) {
    if (file === undefined) continue;
    try {
      await writeFile(file, text);
    } catch (e) {
      ctx.io.err(`migbench: cannot write ${flag} ${file}: ${e instanceof Error ? e.message : String(e)}\n`);
      return false;
    }
  }
  return true;
}
