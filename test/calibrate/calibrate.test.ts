/**
 * `migbench calibrate` on a real QEMU (TCG), as a user runs it after `npm run guest:build` (which
 * .ci/run runs): a pre-copy, a post-copy and a multifd calibration complete, print both sides, and
 * write references that `npm run fidelity -- --references DIR` reads; a missing QEMU, a guest that
 * does not boot and KVM that does not work each end in one line, with no QEMU left running.
 * Without the QEMU and guest the build makes, the test is skipped (and fails in CI).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = path.join(ROOT, 'bin/migbench.js');
const BUILT = [path.join(ROOT, 'build/qemu/qemu-system-x86_64'), path.join(ROOT, 'build/guest/vmlinuz')];
const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';

function calibrate(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'calibrate', ...args], { encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** QEMUs this test started still running (their workdirs are migbench-calibrate-*). */
function leftRunning(): string[] {
  const r = spawnSync('pgrep', ['-af', 'migbench-calibrate-'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.includes('qemu'));
}

const missing = BUILT.filter((f) => !existsSync(f));
const skip =
  missing.length === 0 ? false : `${missing.join(', ')} missing: npm run guest:build makes them (.ci/run does)`;

test(
  'pre-copy, post-copy and multifd calibrations on QEMU under TCG: both sides, and references fidelity reads',
  { skip: skip && !inCi ? skip : false, timeout: 600_000 },
  () => {
    assert.equal(missing.length, 0, String(skip));
    const out = mkdtempSync(path.join(tmpdir(), 'migbench-refs-'));
    const started = performance.now();
    const pre = calibrate(
      '--accel',
      'tcg',
      '--ram',
      '128MiB',
      '--wss',
      '64MiB',
      '--dirty-rate',
      '2000pages/s',
      '--max-bandwidth',
      '32MiB/s',
      '--out',
      out,
    );
    const seconds = (performance.now() - started) / 1000;
    assert.equal(pre.status, 0, pre.stderr);
    assert.match(pre.stdout, /│ Measure +│ +QEMU │ +migbench │ +Error │/);
    assert.match(pre.stdout, /│ converged +│ +yes │ +yes │/);
    assert.ok(seconds < 60, `${seconds.toFixed(1)} s: under a minute`);
    const post = calibrate(
      '--accel',
      'tcg',
      '--ram',
      '256MiB',
      '--wss',
      '128MiB',
      '--dirty-rate',
      '16384pages/s',
      '--max-bandwidth',
      '32MiB/s',
      '--postcopy-after',
      '2',
      '--out',
      out,
    );
    assert.equal(post.status, 0, post.stderr);
    const multifd = calibrate(
      '--accel',
      'tcg',
      '--ram',
      '256MiB',
      '--wss',
      '128MiB',
      '--dirty-rate',
      '8192pages/s',
      '--max-bandwidth',
      '64MiB/s',
      '--multifd',
      '2',
      '--out',
      out,
    );
    assert.equal(multifd.status, 0, multifd.stderr);
    assert.deepEqual(leftRunning(), []);

    const files = readdirSync(out).sort();
    assert.deepEqual(files, [
      'cal_r128_w64_bw32_r2000_dt300.json',
      'mf2_r256_w128_bw64_r8192_dt300.json',
      'pc_r256_w128_bw32_r16384_after2.json',
    ]);
    const ref = JSON.parse(readFileSync(path.join(out, files[0]), 'utf8')) as {
      env: { qemu: string; accel: string };
      summary: { converged: boolean; dirtier_rate_before_mean: number };
    };
    assert.match(ref.env.qemu, /QEMU emulator version (9|1\d)\./);
    assert.equal(ref.env.accel, 'tcg');
    assert.ok(ref.summary.converged && ref.summary.dirtier_rate_before_mean > 1000, JSON.stringify(ref.summary));
    const fidelity = spawnSync(
      process.execPath,
      [path.join(ROOT, 'dist/bench/fidelity.js'), '--references', out, '--json'],
      { encoding: 'utf8', timeout: 300_000, cwd: mkdtempSync(path.join(tmpdir(), 'migbench-fid-')) },
    );
    assert.equal(fidelity.status, 0, fidelity.stderr);
    const doc = JSON.parse(fidelity.stdout) as { scenarios: { name: string; kind: string }[] };
    assert.deepEqual(doc.scenarios.map((s) => s.kind).sort(), ['multifd', 'postcopy', 'precopy']);
  },
);

test(
  'a missing QEMU, a guest that does not boot, KVM that does not work: one line each, nothing left running',
  { skip: skip && !inCi ? skip : false, timeout: 300_000 },
  () => {
    const none = calibrate('--qemu', '/nonexistent/qemu-system-x86_64', '--accel', 'tcg');
    assert.equal(none.status, 2);
    assert.match(none.stderr, /^migbench: --qemu \/nonexistent\/qemu-system-x86_64: cannot run it/);
    const kernel = path.join(mkdtempSync(path.join(tmpdir(), 'migbench-badkernel-')), 'vmlinuz');
    writeFileSync(kernel, Buffer.alloc(4096, 7));
    const noBoot = calibrate('--accel', 'tcg', '--kernel', kernel, '--ram', '128MiB', '--wss', '64MiB');
    assert.equal(noBoot.status, 1);
    assert.equal(noBoot.stderr.split('\n').filter((l) => l.startsWith('migbench: ')).length, 1, noBoot.stderr);
    assert.match(noBoot.stderr, /^migbench: the (source|destination) QEMU exited .* before the guest was ready/m);
    // KVM: here it works (exit 0) or it does not (one line, exit 1); asked for, it never falls back.
    const kvm = calibrate('--accel', 'kvm', '--ram', '128MiB', '--wss', '64MiB', '--dirty-rate', '2000pages/s');
    assert.ok(
      kvm.status === 0 || (kvm.status === 1 && /^migbench: .*(KVM|kvm|QEMU exited|\/dev\/kvm)/m.test(kvm.stderr)),
      kvm.stderr,
    );
    assert.deepEqual(leftRunning(), []);
  },
);

test(
  'Ctrl-C while the guests boot stops both QEMUs and exits 130',
  { skip: skip && !inCi ? skip : false, timeout: 120_000 },
  async () => {
    const child = spawn(process.execPath, [BIN, 'calibrate', '--accel', 'tcg', '--ram', '128MiB', '--wss', '64MiB'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Once both QEMUs run (the workdir's QEMUs show in pgrep), interrupt.
    const deadline = Date.now() + 60_000;
    while (leftRunning().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(leftRunning().length, 2, `both QEMUs started: ${stderr}`);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 130, stderr);
    assert.match(stderr, /interrupted; both QEMUs stopped/);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(leftRunning(), []);
  },
);
