/**
 * `migbench model`: the analytic pre-copy model for a configuration (the same options as `run`),
 * printed without running anything.
 */
import type { Command } from 'commander';
import { OptionError } from '../util/errors.js';
import { resolveRunConfig, type RawRunOptions, type RunOptionKey } from '../config/options.js';
import { predictPrecopy } from '../model/precopy.js';
import { formatModel } from '../report/model.js';
import { EXIT_OK, type CliCommand, type CliCommandContext } from './command.js';
import { RUN_OPTION_SPECS, runOptionHelp } from '../config/options.js';

/** The run options the analytic model reads (src/model/precopy.ts). */
export const MODELLED: readonly RunOptionKey[] = [
  'ram',
  'pageSize',
  'vcpus',
  'dirtyRate',
  'link',
  'latency',
  'maxBandwidth',
  'policy',
  'downtimeLimit',
  'maxIterations',
];

export const modelCommand: CliCommand = {
  name: 'model',
  register(program: Command, ctx: CliCommandContext): Command {
    const cmd = program
      .command('model')
      .description(
        'predict a pre-copy migration with the analytic model (lambda = dirty rate / link rate), without running it',
      );
    // Only what the model reads is offered: an option it would ignore (--codec, --seed, --target,
    // --dirty-cost, ...) is refused as unknown rather than taken and dropped.
    for (const spec of RUN_OPTION_SPECS) if (MODELLED.includes(spec.key)) cmd.option(spec.flags, runOptionHelp(spec));
    cmd
      .option('--json', 'print the prediction as JSON on stdout')
      .addHelpText(
        'after',
        '\nExamples:\n  migbench model --ram 4GiB --link 10Gbit/s --dirty-rate 600MB/s\n  migbench run --clock virtual --pattern sequential --model',
      )
      .action(() => {
        const opts = cmd.opts<RawRunOptions & { json?: boolean }>();
        try {
          const prediction = predictPrecopy(resolveRunConfig(opts));
          ctx.io.out(opts.json ? `${JSON.stringify(prediction, null, 2)}\n` : `${formatModel(prediction)}\n`);
          ctx.setExitCode(EXIT_OK);
        } catch (e) {
          if (e instanceof OptionError) {
            ctx.setExitCode(ctx.usageError('migbench model')(e.message));
            return;
          }
          throw e;
        }
      });
    return cmd;
  },
};
