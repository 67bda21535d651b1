/** `run --config FILE`: a run's options in YAML, under those of the command line; mistakes at their line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MigrationResult } from '../../src/result/schema.js';

const BIN = fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'migbench-config-'));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, 'run', ...args], { encoding: 'utf8', timeout: 60_000, cwd: tmpdir() });

test('the file gives the options, the command line overrides them, relative paths are from the file', () => {
  const file = path.join(dir, 'run.yaml');
  const policy = path.join(dir, 'after-two.mjs');
  writeFileSync(
    policy,
    `export default () => ({ name: 'after-two', decide: (s) => s.roundsDone >= 2 ? { action: 'switchover', why: 'two' } : { action: 'continue', why: 'one' } });`,
  );
  writeFileSync(file, 'clock: virtual\nram: 32MiB\ndirtyRate: 20MB/s\nlink: 1Gbit/s\npolicy: ./after-two.mjs\n');
  const r = run('--config', file, '--link', '2Gbit/s', '--json');
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as MigrationResult;
  assert.equal(result.config.ramBytes, 32 * 2 ** 20);
  assert.equal(result.config.linkBitsPerSec, 2e9, 'the command line wins');
  assert.equal(result.config.policy, 'after-two', 'the policy file, found beside the config file');
  assert.equal(result.totals.iterations, 3);
});

test('a bad value is said at its line of the file; a key that is not an option with a guess; --from beside it refused', () => {
  const bad = path.join(dir, 'bad.yaml');
  writeFileSync(bad, 'clock: virtual\nram: 32MiB\nlink: fast\n');
  const r = run('--config', bad);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad\.yaml:3: link: --link must be a rate/);
  const typo = path.join(dir, 'typo.yaml');
  writeFileSync(typo, 'ram: 32MiB\ndirty-rat: 20MB/s\n');
  assert.match(run('--config', typo).stderr, /typo\.yaml:2: dirty-rat: not a run option; did you mean dirty-rate\?/);
  assert.match(run('--config', typo, '--from', 'x.json').stderr, /--config and --from both say what to run/);
  assert.match(run('--config', path.join(dir, 'none.yaml')).stderr, /--config .*none\.yaml cannot be read: ENOENT/);
});
