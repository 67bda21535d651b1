/**
 * Input checked at the door (issue 27): a results folder whose plan or records are malformed, and
 * input paths that are not files (a device such as /dev/zero), end in one clear line and exit 2,
 * before anything is read whole or rewritten.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));

function migbench(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A finished two-run suite folder. */
function folder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-malformed-'));
  const file = path.join(dir, 's.yaml');
  writeFileSync(
    file,
    'name: s\nbase: { ram: 16MiB, clock: virtual, link: 1Gbit/s }\nmatrix: { dirty-rate: [1MB/s, 20MB/s] }\n',
  );
  const out = path.join(dir, 'out');
  assert.equal(migbench('suite', file, '--out', out, '--quiet').status, 0);
  return out;
}

test('a plan that is not one is refused with exit 2, naming suite.json', () => {
  for (const edit of [
    (p: Record<string, unknown>) => ({ ...p, comparisons: 'x' }),
    () => null,
    (p: Record<string, unknown>) => ({ ...p, runs: [null] }),
  ]) {
    const out = folder();
    const file = path.join(out, 'suite.json');
    writeFileSync(file, JSON.stringify(edit(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)));
    const r = migbench('report', out);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^migbench: cannot read .*suite\.json: .*not a migbench suite plan/);
  }
});

test('a completed record without its result is left out with a warning, not a crash', () => {
  const out = folder();
  const file = path.join(out, 'results.jsonl');
  const [first, second] = readFileSync(file, 'utf8').trim().split('\n');
  writeFileSync(file, `${JSON.stringify({ ...JSON.parse(first), result: null })}\n${second}\n`);
  const r = migbench('report', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /results\.jsonl lines 1 are not records; ignored/);
});

test('input paths that are not regular files exit 2 at once', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-devzero-'));
  for (const args of [
    ['report', '/dev/zero'],
    ['suite', '/dev/zero', '--out', path.join(dir, 'o')],
    ['evacuate', '--host-file', '/dev/zero'],
    ['compare', '/dev/zero', '/dev/zero'],
  ]) {
    const t0 = performance.now();
    const r = migbench(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /not a folder|not a regular file/);
    assert.ok(performance.now() - t0 < 10_000, `${args[0]} answered at once`);
  }
});
