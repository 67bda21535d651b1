/** Every example in examples/ runs: the stop policy and the aid through the CLI, the library sweep with node (it imports 'migbench' by name). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function node(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000, cwd: ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('examples/policies/stop-when-flat.js: migbench run --policy completes verified, and the result names the policy', () => {
  const r = node(
    'bin/migbench.js',
    'run',
    '--policy',
    './examples/policies/stop-when-flat.js',
    '--policy-opt',
    'shrink=0.1,patience=2',
    '--ram',
    '64MiB',
    '--dirty-rate',
    '150MB/s',
    '--link',
    '1Gbit/s',
    '--clock',
    'virtual',
    '--json',
  );
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.verified, true);
  assert.equal(result.config.policy, 'stop-when-flat');
  assert.match(result.config.userPolicy.file, /examples\/policies\/stop-when-flat\.js$/);
});

test('examples/aids/throttle-when-hot.js: migbench run --aid completes verified, throttled', () => {
  const r = node(
    'bin/migbench.js',
    'run',
    '--policy',
    'xen',
    '--aid',
    './examples/aids/throttle-when-hot.js',
    '--aid-opt',
    'step=0.2',
    '--ram',
    '64MiB',
    '--dirty-rate',
    '400MB/s',
    '--link',
    '1Gbit/s',
    '--clock',
    'virtual',
    '--json',
  );
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.verified, true);
  assert.ok(result.iterations.some((i: { throttlePercent: number }) => i.throttlePercent >= 20));
});

test('examples/codecs/run-length.js: migbench run --codec completes verified, and the codec took pages', () => {
  const r = node(
    'bin/migbench.js',
    'run',
    '--codec',
    './examples/codecs/run-length.js,lz4',
    '--content',
    'mixed:40:40:20',
    '--write-size',
    '64',
    '--ram',
    '64MiB',
    '--clock',
    'virtual',
    '--json',
  );
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.verified, true);
  assert.ok(result.totals.codec.byCodec['run-length'].pages > 0);
});

test('examples/loops/time-budget.js: migbench run --precopy-loop completes verified, switching over when the budget is spent', () => {
  const r = node(
    'bin/migbench.js',
    'run',
    '--policy',
    'xen',
    '--precopy-loop',
    './examples/loops/time-budget.js',
    '--loop-opt',
    'budget-ms=1500',
    '--ram',
    '128MiB',
    '--dirty-rate',
    '300MB/s',
    '--link',
    '1Gbit/s',
    '--clock',
    'virtual',
    '--json',
  );
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.verified, true);
  assert.equal(result.config.userLoop.name, 'time-budget');
  assert.match(result.switchoverReason, /the pre-copy budget of 1500 ms is spent/);
});

test('examples/library/sweep.js imports migbench by name and prints a table of four verified runs', () => {
  const r = node('examples/library/sweep.js');
  assert.equal(r.status, 0, r.stderr);
  for (const rate of ['10MB/s', '50MB/s', '100MB/s', '200MB/s'])
    assert.match(r.stdout, new RegExp(`'${rate.replace('/', '\\/')}'`));
  assert.equal((r.stdout.match(/'completed' │ true/g) ?? []).length, 4, r.stdout);
});
