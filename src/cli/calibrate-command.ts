/**
 * `migbench calibrate`: the same migration on a real QEMU and in migbench, side by side, on the
 * user's own host. The scenario is given in migbench's terms; the QEMU run is written as a
 * reference (schema qemu-precopy-anchor/1) that `npm run fidelity -- --references DIR` reads.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { OptionError } from '../util/errors.js';
import type { Machine } from '../calibrate/scenario.js';
import { CALIBRATE_DEFAULTS, scenarioOf, type CalibrateOptions } from '../calibrate/options.js';
import {
  checked,
  Exit,
  EXIT_FAILED,
  EXIT_OK,
  onInterrupt,
  type CliCommand,
  type CliCommandContext,
} from './command.js';

interface CalibrateCliOptions extends CalibrateOptions {
  qemu?: string;
  accel?: string;
  kernel?: string;
  initrd?: string;
  out?: string;
  json?: boolean;
}

const EXAMPLES = `
Needs a QEMU of 9.0 or later and the small guest: npm run guest:build makes both (Debian's
packages; QEMU 10.0 from bookworm-backports, unpacked into build/, not installed).

Examples:
  migbench calibrate --accel tcg --ram 128MiB --wss 64MiB --dirty-rate 2000pages/s --max-bandwidth 32MiB/s --out refs
  migbench calibrate --accel tcg --ram 256MiB --wss 128MiB --dirty-rate 16384pages/s --postcopy-after 2 --out refs
  migbench calibrate --accel tcg --ram 256MiB --wss 128MiB --dirty-rate 8192pages/s --multifd 2 --out refs
  npm run fidelity -- --references refs`;

export const calibrateCommand: CliCommand = {
  name: 'calibrate',
  register(program: Command, ctx: CliCommandContext): Command {
    const cmd = program
      .command('calibrate')
      .description('run a migration on a real QEMU and the same in migbench, and print both with the errors')
      .option(
        '--qemu <path>',
        'qemu-system-x86_64 of 9.0 or later (default: build/qemu/ from npm run guest:build, else the PATH)',
      )
      .option('--accel <name>', 'kvm or tcg (default: kvm when /dev/kvm can be used, else tcg)')
      .option('--kernel <file>', "the guest's kernel (default: build/guest/vmlinuz)")
      .option('--initrd <file>', "the guest's initramfs with the writer (default: build/guest/initramfs.cpio.gz)")
      .option('--ram <size>', 'guest RAM, MiB multiples', CALIBRATE_DEFAULTS.ram)
      .option('--wss <size>', 'the working set the writer writes in', CALIBRATE_DEFAULTS.wss)
      .option(
        '--dirty-rate <rate>',
        "the writer's target, page writes per second (e.g. 2000pages/s)",
        CALIBRATE_DEFAULTS.dirtyRate,
      )
      .option(
        '--pattern <p>',
        'random (uniform over the working set) or seq (walked in order)',
        CALIBRATE_DEFAULTS.pattern,
      )
      .option(
        '--max-bandwidth <rate>',
        "QEMU's max-bandwidth, bytes per second (e.g. 32MiB/s, 100MB/s)",
        CALIBRATE_DEFAULTS.maxBandwidth,
      )
      .option('--downtime-limit <duration>', "QEMU's downtime-limit", CALIBRATE_DEFAULTS.downtimeLimit)
      .option('--xbzrle-cache <size>', 'xbzrle with this cache (e.g. 64MiB); default off')
      .option('--auto-converge', 'auto-converge on')
      .option('--postcopy-after <n>', 'post-copy: migrate-start-postcopy once dirty-sync-count reaches N')
      .option('--multifd <n>', 'multifd with N channels')
      .option(
        '--link <rate>',
        'a relay of this rate between the two QEMUs, bytes per second (also in the stop-and-copy)',
      )
      .option('--timeout <duration>', 'cancel a migration that has not converged by then', CALIBRATE_DEFAULTS.timeout)
      .option('--name <name>', "the reference's name (default: from the scenario, as bench/reference/qemu/ names them)")
      .option('--out <dir>', 'write the QEMU run as a reference file into DIR (npm run fidelity -- --references DIR)')
      .option('--json', 'print both sides and the errors as JSON')
      .addHelpText('after', EXAMPLES)
      .action(async () => {
        ctx.setExitCode(await calibrateAction(cmd.opts<CalibrateCliOptions>(), ctx));
      });
    return cmd;
  },
};

async function calibrateAction(opts: CalibrateCliOptions, ctx: CliCommandContext): Promise<number> {
  const { io } = ctx;
  const usage = ctx.usageError('migbench calibrate');
  const { findQemu, guestFiles, kvmUsable, Processes, CalibrationError } = await import('../calibrate/qemu.js');
  const { runScenario } = await import('../calibrate/scenario.js');
  const setup = await checked(usage, () => {
    const scenario = scenarioOf(opts);
    const qemu = findQemu(opts.qemu);
    const files = guestFiles(opts.kernel, opts.initrd);
    const accel = opts.accel ?? (kvmUsable() ? 'kvm' : 'tcg');
    if (accel !== 'kvm' && accel !== 'tcg') throw new OptionError('--accel', `--accel is kvm or tcg (got "${accel}")`);
    if (accel === 'kvm' && !kvmUsable())
      throw new CalibrationError(
        '--accel kvm: /dev/kvm cannot be opened here (no KVM, or no permission); use --accel tcg',
      );
    const machine: Machine = { qemu, accel: accel as 'kvm' | 'tcg', ...files };
    return { scenario, machine };
  });
  if (setup instanceof Exit) return setup.code;
  const procs = new Processes();
  const offInterrupt = onInterrupt(() => {
    procs.killNow();
    io.err('migbench: interrupted; both QEMUs stopped\n');
    process.exit(130);
  });
  const { scenario, machine } = setup;
  io.err(`calibrate: ${scenario.name} on ${machine.qemu.version} (${machine.accel}); booting the guest\n`);
  let reference;
  try {
    try {
      reference = await runScenario(scenario, machine, procs);
    } catch (e) {
      // KVM by default, when it works: a QEMU that cannot start a KVM guest here falls back to TCG.
      if (!(
        e instanceof CalibrationError &&
        opts.accel === undefined &&
        machine.accel === 'kvm' &&
        /QEMU exited/.test(e.message)
      ))
        throw e;
      io.err(`calibrate: KVM does not work here (${e.message.slice(0, 160)}); running under TCG\n`);
      machine.accel = 'tcg';
      reference = await runScenario(scenario, machine, procs);
    }
  } catch (e) {
    if (e instanceof CalibrationError) {
      io.err(`migbench: ${e.message}\n`);
      return EXIT_FAILED;
    }
    throw e;
  } finally {
    offInterrupt();
    procs.killNow();
  }
  io.err(
    `calibrate: QEMU ${reference.summary.converged ? 'converged' : 'did not converge'}; running migbench on the same scenario\n`,
  );
  const { sideBySide, formatCalibration } = await import('../calibrate/compare.js');
  const comparison = await sideBySide(reference, machine.accel);
  if (opts.out !== undefined) {
    mkdirSync(opts.out, { recursive: true });
    const file = path.join(opts.out, `${reference.name}.json`);
    writeFileSync(file, `${JSON.stringify(reference, null, 1)}\n`);
    io.err(`calibrate: wrote ${file}\n`);
  }
  io.out(opts.json === true ? `${JSON.stringify(comparison, null, 2)}\n` : `${formatCalibration(comparison)}\n`);
  const d = reference.destination;
  if (reference.summary.converged && (!d.running || d.dirtierLinesAfter === 0 || (d.integrityBad ?? 0) > 0)) {
    io.err(
      `migbench: the destination's guest is not sound after QEMU's migration (running ${d.running}, writer lines ${d.dirtierLinesAfter}, pages wrong ${d.integrityBad})\n`,
    );
    return EXIT_FAILED;
  }
  return EXIT_OK;
}
