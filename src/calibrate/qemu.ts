/**
 * The QEMU that `migbench calibrate` runs: where it is (--qemu, the one `npm run guest:build`
 * unpacked into build/qemu/, or qemu-system-x86_64 on the PATH), whether it is fit for migration
 * (9.0 or later: earlier ones lose guest writes when migrating under TCG), which accelerator works,
 * and the processes it starts, each stopped by its process id when the calibration ends, fails or
 * is interrupted.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { InputError } from '../util/errors.js';

/** The project's build folder (dist/src/calibrate/ is three levels below the package). */
export const BUILD_DIR = fileURLToPath(new URL('../../../build/', import.meta.url));
export const GUEST_KERNEL = path.join(BUILD_DIR, 'guest', 'vmlinuz');
export const GUEST_INITRD = path.join(BUILD_DIR, 'guest', 'initramfs.cpio.gz');
const BUILT_QEMU = path.join(BUILD_DIR, 'qemu', 'qemu-system-x86_64');

/** A calibration that cannot start, said in one line. */
export class CalibrationError extends InputError {
  override readonly name = 'CalibrationError';
}

export interface QemuBinary {
  path: string;
  /** `QEMU emulator version 10.0.2 (Debian ...)`. */
  version: string;
  major: number;
  minor: number;
}

/** The QEMU to run: the one asked for, else the project's, else the PATH's; checked to be 9.0 or later. */
export function findQemu(asked: string | undefined): QemuBinary {
  const candidates = asked !== undefined ? [asked] : [BUILT_QEMU, 'qemu-system-x86_64'];
  for (const c of candidates) {
    if (asked === undefined && c === BUILT_QEMU && !existsSync(c)) continue;
    const r = spawnSync(c, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    if (r.error !== undefined || r.status !== 0) {
      if (asked !== undefined)
        throw new CalibrationError(`--qemu ${asked}: cannot run it (${r.error?.message ?? `exit ${r.status}`})`);
      continue;
    }
    const version = r.stdout.split('\n')[0].trim();
    const m = /version (\d+)\.(\d+)/.exec(version);
    if (!m) throw new CalibrationError(`${c}: not a QEMU (it says "${version}")`);
    const [major, minor] = [Number(m[1]), Number(m[2])];
    if (major < 9)
      throw new CalibrationError(
        `${c} is QEMU ${major}.${minor}; migration under TCG loses guest writes before 9.0: run npm run guest:build for a QEMU 10.0, or give --qemu`,
      );
    return { path: c, version, major, minor };
  }
  throw new CalibrationError(
    'no QEMU: run npm run guest:build (it fetches QEMU 10.0 into build/qemu/), or give --qemu PATH to a qemu-system-x86_64 of 9.0 or later',
  );
}

/** The guest's kernel and initramfs: as given, else what npm run guest:build made; both must exist. */
export function guestFiles(kernel: string | undefined, initrd: string | undefined): { kernel: string; initrd: string } {
  const k = kernel ?? GUEST_KERNEL;
  const i = initrd ?? GUEST_INITRD;
  for (const [flag, f] of [
    ['--kernel', k],
    ['--initrd', i],
  ] as const)
    if (!existsSync(f))
      throw new CalibrationError(
        `${f}: no such file; build the guest with npm run guest:build${flag === '--kernel' && kernel !== undefined ? '' : ` or give ${flag}`}`,
      );
  return { kernel: k, initrd: i };
}

/** KVM works when /dev/kvm can be opened read-write; the caller still checks that the guest boots. */
export function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The processes a calibration started: stopped by pid at the end, on an error and on Ctrl-C. */
export class Processes {
  private readonly children: ChildProcess[] = [];

  start(cmd: string, args: string[], logFile: string): ChildProcess {
    const log = openSync(logFile, 'w');
    const child = spawn(cmd, args, { stdio: ['ignore', log, log] });
    this.children.push(child);
    return child;
  }

  /** Sends SIGTERM to each still running, waits up to `graceMs`, then SIGKILL. */
  async stopAll(graceMs = 5000): Promise<void> {
    const running = this.children.filter((c) => c.exitCode === null && c.signalCode === null && c.pid !== undefined);
    for (const c of running) c.kill('SIGTERM');
    const deadline = performance.now() + graceMs;
    while (running.some((c) => c.exitCode === null && c.signalCode === null) && performance.now() < deadline)
      await sleep(50);
    for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }

  /** Stops them at once, synchronously (the process is exiting). */
  killNow(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
