/**
 * What users of benchmark tools expect of the command line: round lines as they happen when stdout
 * is piped (on stderr), SIGTERM (a scheduler's cancel) handled as Ctrl-C, `model` refusing what it
 * does not model, and --reduce refusing a full run's folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));

function migbench(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('piped, run --verbose prints each round on stderr as it ends; without --verbose or with --quiet none', () => {
  const args = [
    'run',
    '--ram',
    '16MiB',
    '--dirty-rate',
    '50MB/s',
    '--link',
    '1Gbit/s',
    '--clock',
    'virtual',
    '--policy',
    'xen',
  ];
  const r = migbench(...args, '--json', '--verbose');
  assert.equal(r.status, 0, r.stderr);
  const rounds = JSON.parse(r.stdout).iterations.length;
  assert.equal((r.stderr.match(/^round +\d+ /gm) ?? []).length, rounds, r.stderr);
  assert.equal(migbench(...args, '--json').stderr, '');
  const quiet = migbench(...args, '--json', '--quiet', '--verbose');
  assert.equal(quiet.stderr, '');
});

test('model refuses the options it does not model, as unknown', () => {
  for (const [flag, value] of [
    ['--codec', 'zero'],
    ['--seed', '3'],
    ['--target', 'tcp://127.0.0.1:9'],
    ['--dirty-cost', 'none'],
  ]) {
    const r = migbench('model', flag, value);
    assert.equal(r.status, 2, flag);
    assert.match(r.stderr, new RegExp(`unknown option '${flag}'`));
  }
  assert.equal(migbench('model', '--ram', '1GiB', '--dirty-rate', '100MB/s').status, 0);
});

test('--reduce refuses the folder of a full run of the suite, and the other way round', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-reduce-'));
  const file = path.join(dir, 's.yaml');
  writeFileSync(
    file,
    'name: s\nbase: { ram: 16MiB, clock: virtual, dirty-rate: 5MB/s }\nmatrix: { link: [1Gbit/s, 2Gbit/s] }\n',
  );
  const out = path.join(dir, 'out');
  assert.equal(migbench('suite', file, '--out', out, '--quiet').status, 0);
  const reduced = migbench('suite', file, '--out', out, '--reduce', '--quiet');
  assert.equal(reduced.status, 2);
  assert.match(reduced.stderr, /holds the full results of suite "s"; give the reduced run another --out directory/);
});

test('SIGTERM ends a suite as Ctrl-C does: the run in progress is dropped, the summaries are written, exit 1', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-sigterm-'));
  const file = path.join(dir, 's.yaml');
  // Real clock, a slow link: each run takes seconds.
  writeFileSync(
    file,
    'name: s\nbase: { ram: 16MiB, dirty-rate: 1MB/s, link: 20Mbit/s }\nmatrix: { seed: [1, 2, 3] }\n',
  );
  const out = path.join(dir, 'out');
  const child = spawn(process.execPath, [BIN, 'suite', file, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await new Promise((r) => setTimeout(r, 4000));
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 1, stderr);
  assert.match(stderr, /interrupted/);
  assert.ok(existsSync(path.join(out, 'summary.md')), 'summaries written');
});
