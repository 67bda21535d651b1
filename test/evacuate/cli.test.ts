/** `migbench evacuate` through the real CLI: the example on the virtual clock, a host file, and its errors with file:line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { interrupted } from '../fixtures/interrupted.js';
import { existsSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));

function migbench(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('migbench evacuate prints the VM and host tables; --json and --html write the result', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-evac-'));
  const html = path.join(dir, 'e.html');
  const r = migbench(
    'evacuate',
    '--vm',
    'ram=16MiB,dirty-rate=20MB/s',
    '--vm',
    'ram=32MiB,dirty-rate=80MB/s,name=db',
    '--vm',
    'ram=8MiB',
    '--link',
    '1Gbit/s',
    '--max-concurrent',
    '2',
    '--clock',
    'virtual',
    '--html',
    html,
    '--export-json',
    path.join(dir, 'e.json'),
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /EVACUATED: every VM migrated and verified/);
  assert.match(r.stdout, /Evacuation time \(s\)/);
  assert.match(r.stdout, /│ db +│/);
  const result = JSON.parse(readFileSync(path.join(dir, 'e.json'), 'utf8'));
  assert.equal(result.kind, 'evacuation');
  assert.equal(result.vms.length, 3);
  const page = readFileSync(html, 'utf8');
  assert.match(page, /timeline: one lane per VM/);
  assert.match(page, /the NIC, by VM/);
  assert.ok(!/https?:\/\//.test(page), 'nothing fetched');
});

test('a host file: VMs, every-vm and options; a bad value is reported at its file:line with its key', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-host-'));
  const file = path.join(dir, 'host.yaml');
  writeFileSync(
    file,
    'vms:\n  - { name: a, ram: 16MiB }\n  - { name: b, ram: 8MiB, dirty-rate: 10MB/s }\nevery-vm: { vcpus: 1 }\nlink: 1Gbit/s\nmax-concurrent: 1\n',
  );
  const ok = migbench('evacuate', '--host-file', file, '--clock', 'virtual', '--json');
  assert.equal(ok.status, 0, ok.stderr);
  const r = JSON.parse(ok.stdout);
  assert.equal(r.config.maxConcurrent, 1);
  assert.equal(r.vms[1].name, 'b');
  assert.equal(r.host.peakConcurrent, 1);

  writeFileSync(file, 'vms:\n  - { name: a, ram: 16MiB }\nlink: 1Gbit/s\nmax-concurrent: lots\n');
  const bad = migbench('evacuate', '--host-file', file);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /host\.yaml:4: max-concurrent: --max-concurrent/);

  writeFileSync(file, 'vms:\n  - { name: a, ram: 16MiB }\n  - { name: b, rma: 8MiB }\n');
  const typo = migbench('evacuate', '--host-file', file);
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /host\.yaml:3: vms\[1\]\.rma: not a VM option/);
  assert.equal(typo.stdout, '');
});

test('migbench evacuate --help lists the host options and the run options for every VM; bad input exits 2 before anything runs', () => {
  const help = migbench('evacuate', '--help');
  assert.equal(help.status, 0);
  for (const flag of [
    '--vm',
    '--host-file',
    '--max-concurrent',
    '--max-per-target',
    '--order',
    '--background',
    '--bandwidth-per-migration',
    '--completion-timeout-per-gib',
    '--on-completion-timeout',
    '--progress-timeout',
    '--dirty-rate',
    '--policy',
    '--codec',
  ]) {
    assert.ok(help.stdout.includes(flag), flag);
  }
  const none = migbench('evacuate');
  assert.equal(none.status, 2);
  assert.match(none.stderr, /at least one VM/);
  const html = migbench('evacuate', '--vm', 'ram=16MiB', '--html', '/nonexistent-dir/e.html');
  assert.equal(html.status, 2);
  assert.match(html.stderr, /--html must be a file path in an existing directory/);
});

for (const clock of ['real', 'virtual'] as const) {
  test(`SIGTERM ends a ${clock}-clock evacuation within seconds, its result written (a VM set up ahead included)`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'migbench-evac-term-'));
    const json = path.join(dir, 'e.json');
    // Slow enough that it is mid-way at the signal: one at a time, the next VM set up and waiting.
    const vm = clock === 'real' ? 'ram=16MiB,dirty-rate=1MB/s' : 'ram=1GiB,dirty-rate=100MB/s';
    const r = await interrupted(
      ['evacuate', '--vm', vm, '--vm', vm, '--vm', vm, '--link', clock === 'real' ? '40Mbit/s' : '1Gbit/s'].concat([
        '--max-concurrent',
        '1',
        '--clock',
        clock,
        '--export-json',
        json,
      ]),
      clock === 'real' ? 3000 : 1500,
    );
    assert.equal(r.signal, null, `ended by ${r.signal}: it did not exit on SIGTERM (${r.stderr})`);
    assert.ok(r.exitMs < 5_000, `exited ${(r.exitMs / 1000).toFixed(1)} s after SIGTERM`);
    assert.match(r.stderr, /interrupted/);
    assert.ok(existsSync(json), 'the result was written');
  });
}
