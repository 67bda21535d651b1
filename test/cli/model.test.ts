import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));

test('migbench model predicts without running: lambda, rounds, and a non-converging case said so', () => {
  const ok = spawnSync(
    process.execPath,
    [BIN, 'model', '--ram', '4GiB', '--link', '10Gbit/s', '--dirty-rate', '600MB/s', '--json'],
    { encoding: 'utf8' },
  );
  assert.equal(ok.status, 0, ok.stderr);
  const m = JSON.parse(ok.stdout) as { lambda: number; converges: boolean; rounds: unknown[] };
  assert.ok(Math.abs(m.lambda - 0.48) < 0.01, `lambda ${m.lambda}`);
  assert.equal(m.converges, true);
  assert.ok(m.rounds.length >= 3);
  const bad = spawnSync(
    process.execPath,
    [BIN, 'model', '--policy', 'qemu-rounds', '--link', '1Gbit/s', '--dirty-rate', '400MB/s', '--max-iterations', '20'],
    { encoding: 'utf8' },
  );
  assert.equal(bad.status, 0, bad.stderr);
  assert.match(bad.stdout, /does not converge: did not converge within 20 iterations/);
  const wrong = spawnSync(process.execPath, [BIN, 'model', '--link', 'fast'], { encoding: 'utf8' });
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /^migbench: --link must be a rate/);
});

test('run --model says what the model has no term for: multifd channels, a post-copy ending', () => {
  const out = (args: string[]): string =>
    spawnSync(process.execPath, [BIN, 'run', '--clock', 'virtual', '--model', ...args], { encoding: 'utf8' }).stdout;
  assert.match(
    out([
      '--ram',
      '64MiB',
      '--link',
      'unlimited',
      '--max-bandwidth',
      '32MB/s',
      '--multifd',
      '4',
      '--dirty-rate',
      '1000pages/s',
    ]),
    /The model has no multifd: the run's 4 channels are not in it\./,
  );
  assert.match(
    out(['--ram', '64MiB', '--link', '1Gbit/s', '--dirty-rate', '200MB/s', '--postcopy-after', '2']),
    /The model has no post-copy: it predicts a stop-and-copy ending\./,
  );
});
