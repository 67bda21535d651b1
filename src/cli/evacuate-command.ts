/**
 * `migbench evacuate`: empties a source host of its VMs over its one NIC, with the concurrency
 * limits, order, bandwidth and time limits real clusters use, and reports each VM's migration and
 * the host's totals (tables, --json, --html with a timeline). The VMs come from repeated --vm
 * options or a host file (YAML); run options given here apply to every VM, a VM's own win.
 */
import { InputFileProblem, readInputFile } from '../util/input-file.js';
import type { Command } from 'commander';
import type { HostFile } from '../evacuate/host-file.js';
import { OptionError } from '../util/errors.js';
import { runOptionHelp, RUN_OPTION_SPECS, type RawRunOptions } from '../config/options.js';
import {
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  TOKEN_ON_COMMAND_LINE,
  type CliCommand,
  type CliCommandContext,
  type CliIO,
  checked,
  Exit,
  onInterrupt,
  writeOutput,
} from './command.js';
import type { EvacuationResult } from '../evacuate/result.js';
import {
  EVACUATION_OPTION_SPECS,
  VM_OPTION_KEYS,
  parseVmText,
  resolveEvacuation,
  type EvacuationConfig,
  type EvacuationText,
} from '../evacuate/config.js';
import { formatMs } from '../util/format.js';

type EvacuateCliOptions = Record<string, string | boolean | string[] | undefined> & {
  vm?: string[];
  target?: string[];
  hostFile?: string;
  json?: boolean;
  exportJson?: string;
  html?: string;
  quiet?: boolean;
};

const EXAMPLES = `
A VM is KEY=VALUE pairs: name, target (the target host's number) and any run
option below (ram, dirty-rate, vcpus, pattern, content, policy, dirty-log,
codec, auto-converge, ...); the run options given to evacuate apply to every VM.
A host file (YAML) gives the same: vms (a list of such mappings), every-vm (run
options for all) and any evacuate option; the command line wins over it.

Exit codes: 0 every VM migrated and verified, 1 a VM was left behind (or an
error), 2 bad input.

Examples:
  migbench evacuate --vm ram=512MiB,dirty-rate=50MB/s --vm ram=1GiB,dirty-rate=200MB/s \\
    --vm ram=256MiB --link 10Gbit/s --max-concurrent 2
  migbench evacuate --host-file bench/hosts/mixed8.yaml --clock virtual --max-concurrent 4 --order smallest-first
  migbench evacuate --host-file host.yaml --clock virtual --completion-timeout-per-gib 2s \\
    --on-completion-timeout postcopy --policy qemu-rounds --html evacuation.html`;

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export const evacuateCommand: CliCommand = {
  name: 'evacuate',
  register(program: Command, ctx: CliCommandContext): Command {
    const cmd = program
      .command('evacuate')
      .description(
        "migrate every VM off a source host over its one NIC, with per-host limits, an order and KubeVirt's time limits, and report each VM and the host",
      )
      .option(
        '--vm <spec>',
        'a VM on the source host: KEY=VALUE pairs such as ram=1GiB,dirty-rate=200MB/s,name=db (repeat it)',
        collect,
      )
      .option('--host-file <file>', 'the VMs and options in a YAML file (vms, every-vm, and evacuate options)');
    for (const spec of EVACUATION_OPTION_SPECS) {
      const help = `${spec.description} (default: ${spec.defaultText})`;
      if (spec.key === 'target') cmd.option('--target <url>', help, collect);
      else cmd.option(spec.flags, help);
    }
    for (const spec of RUN_OPTION_SPECS.filter((s) => VM_OPTION_KEYS.includes(s.key) && s.key !== 'seed')) {
      cmd.option(spec.flags, `every VM: ${runOptionHelp(spec)}`);
    }
    cmd
      .option(
        '--json',
        'print the result (an EvacuationResult, each VM with its MigrationResult) as JSON on stdout and nothing else there',
      )
      .option('--export-json <file>', 'also write the result as JSON to a file')
      .option('--html <file>', 'also write an HTML report: the host, a timeline with a lane per VM, the NIC by VM')
      .option('--quiet', 'no progress; only the result')
      .addHelpText('after', EXAMPLES)
      .action(async () => {
        ctx.setExitCode(await evacuateAction(cmd.opts<EvacuateCliOptions>(), ctx));
      });
    return cmd;
  },
};

/** The command line's evacuation, over a host file's where one is given. */
async function evacuationText(opts: EvacuateCliOptions): Promise<{ text: EvacuationText; hostFile?: HostFile }> {
  let base: EvacuationText = { host: {}, common: {}, vms: [] };
  let hostFile;
  if (opts.hostFile !== undefined) {
    const { parseHostFile } = await import('../evacuate/host-file.js');
    let source: string;
    try {
      source = await readInputFile(opts.hostFile);
    } catch (e) {
      throw new OptionError(
        '--host-file',
        `--host-file ${opts.hostFile} cannot be read: ${e instanceof InputFileProblem ? e.message : String(e)}`,
      );
    }
    hostFile = parseHostFile(source, opts.hostFile);
    base = hostFile.text;
  }
  const host = { ...base.host } as EvacuationText['host'];
  for (const spec of EVACUATION_OPTION_SPECS) {
    const v = opts[spec.key];
    if (v === undefined) continue;
    if (spec.key === 'target') host.target = v as string[];
    else (host as Record<string, string>)[spec.key] = String(v);
  }
  const common: RawRunOptions = { ...base.common };
  for (const key of VM_OPTION_KEYS) {
    const v = opts[key];
    if (v !== undefined && key !== 'seed') common[key] = v as string | boolean;
  }
  const vms = [...base.vms, ...(opts.vm ?? []).map((t, i) => parseVmText(t, `--vm ${base.vms.length + i + 1}`))];
  return { text: { host, common, vms, baseDir: base.baseDir }, hostFile };
}

async function evacuateAction(opts: EvacuateCliOptions, ctx: CliCommandContext): Promise<number> {
  const { io } = ctx;
  const usage = ctx.usageError('migbench evacuate');
  const ev = await checked(usage, () => evacuationInput(opts, io));
  if (ev instanceof Exit) return ev.code;
  if (opts.token !== undefined) io.err(TOKEN_ON_COMMAND_LINE);
  const checkedFiles = await checked(usage, async () => {
    const { checkUserStrategies } = await import('../config/strategies.js');
    for (const vm of ev.vms) await checkUserStrategies(vm.config);
  });
  if (checkedFiles instanceof Exit) return checkedFiles.code;
  // Before anything is allocated: the largest migrations the limit lets run at once must fit.
  const refusal = await evacuationRefusal(ev);
  if (refusal !== null) {
    io.err(`migbench: ${refusal}\n`);
    return EXIT_USAGE;
  }
  const json = opts.json === true;
  if (!json && opts.quiet !== true) {
    const { evacuationResultConfig } = await import('../evacuate/outcome.js');
    const { formatEvacuationHeader } = await import('../report/evacuation.js');
    const rams = ev.vms.map((v) => v.config.ramBytes);
    io.out(`migbench ${ctx.version}: ${formatEvacuationHeader(evacuationResultConfig(ev), rams)}\n\n`);
  }
  const { AdmissionError } = await import('../config/admission.js');
  let result: EvacuationResult;
  try {
    result = await evacuateWithProgress(ev, opts, io);
  } catch (e) {
    if (!(e instanceof AdmissionError)) throw e;
    io.err(`migbench: ${e.message}\n`);
    return EXIT_USAGE;
  }
  const { toJson } = await import('../report/json.js');
  const { formatEvacuation, renderEvacuationHtml } = await import('../report/evacuation.js');
  const { outputWidth } = await import('../report/summary.js');
  io.out(json ? `${toJson(result)}\n` : `${formatEvacuation(result, outputWidth(io.columns, io.env))}\n`);
  if (
    opts.exportJson !== undefined &&
    !(await writeOutput(io, '--export-json', opts.exportJson, `${toJson(result)}\n`))
  )
    return EXIT_FAILED;
  const html = (): Promise<string> => renderEvacuationHtml(result, { toolVersion: ctx.version });
  if (opts.html !== undefined && !(await writeOutput(io, '--html', opts.html, html))) return EXIT_FAILED;
  return result.status === 'completed' ? EXIT_OK : EXIT_FAILED;
}

/** The evacuation the command line (and its host file) describe, or bad input, placed in the host file where it is. */
async function evacuationInput(opts: EvacuateCliOptions, io: CliIO): Promise<EvacuationConfig> {
  const { checkExportPath } = await import('./run-command.js');
  if (opts.exportJson !== undefined) checkExportPath(opts.exportJson);
  if (opts.html !== undefined) checkExportPath(opts.html, '--html', 'evacuation.html');
  const { text, hostFile } = await evacuationText(opts);
  try {
    return resolveEvacuation(text, io.env);
  } catch (e) {
    if (!(e instanceof OptionError && hostFile)) throw e;
    const { placeError } = await import('../evacuate/host-file.js');
    throw placeError(e, hostFile);
  }
}

/** Why the migrations the limit lets run at once (the largest, and on the real clock one set up ahead) cannot fit; null when they can. */
async function evacuationRefusal(ev: EvacuationConfig): Promise<string | null> {
  const { admissionRefusal, memoryNeed } = await import('../config/admission.js');
  const biggest = [...ev.vms]
    .sort((a, b) => memoryNeed(b.config).totalBytes - memoryNeed(a.config).totalBytes)
    .slice(0, ev.maxConcurrent + (ev.clock === 'real' ? 1 : 0));
  const need = biggest.reduce(
    (n, vm) => {
      const m = memoryNeed(vm.config);
      return { ...m, totalBytes: n.totalBytes + m.totalBytes - (n.totalBytes > 0 ? m.runtimeBytes : 0) };
    },
    { ...memoryNeed(biggest[0].config), totalBytes: 0 },
  );
  const refusal = admissionRefusal(biggest[0].config, need);
  const ahead = ev.clock === 'real' ? ', and one set up ahead' : '';
  return refusal === null
    ? null
    : `${biggest.length} migrations at once (--max-concurrent ${ev.maxConcurrent}${ahead}): ${refusal}`;
}

/** Runs the evacuation, each VM's start and end on stderr at a terminal; Ctrl-C ends the migrations in progress. */
async function evacuateWithProgress(
  ev: EvacuationConfig,
  opts: EvacuateCliOptions,
  io: CliIO,
): Promise<EvacuationResult> {
  const { runEvacuation } = await import('../evacuate/evacuate.js');
  const progress = opts.quiet !== true && io.stderrIsTTY;
  const controller = new AbortController();
  const offInterrupt = onInterrupt(() => {
    io.err('migbench: interrupted; ending the migrations in progress (Ctrl-C again to quit at once)\n');
    controller.abort();
  });
  try {
    return await runEvacuation(ev, {
      signal: controller.signal,
      onEvent: (e) => {
        if (!progress) return;
        if (e.kind === 'vm-start')
          io.err(`${formatMs(e.atMs).padStart(9)}  ${e.vm} starts to ${e.target} (${e.running} running)\n`);
        if (e.kind === 'vm-end') {
          const what = e.status === 'migrated' ? 'migrated' : `left behind: ${e.reason ?? ''}`;
          io.err(`${formatMs(e.atMs).padStart(9)}  ${e.vm} ${what}\n`);
        }
      },
    });
  } finally {
    offInterrupt();
  }
}
