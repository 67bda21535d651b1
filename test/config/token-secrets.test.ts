/**
 * The token: from --token (with a warning: ps shows it), --token-file or MIGBENCH_TOKEN, and
 * never written to a file a run or a suite leaves (results.jsonl, suite.json: '(hidden)').
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { resolveRunConfig } from '../../src/config/options.js';
import { OptionError } from '../../src/util/errors.js';
import { loadSuitePlan } from '../../src/suite/load.js';
import { runSuite } from '../../src/harness/run-suite.js';
import { startReceiver } from '../fixtures/receiver.js';
import { BIN } from '../fixtures/receiver-process.js';

const SECRET = 'correct-horse-battery';

test('the token comes from --token, --token-file (its first line) or MIGBENCH_TOKEN', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-token-'));
  const file = path.join(dir, 'token');
  writeFileSync(file, `${SECRET}\nsecond line ignored\n`);
  const target = 'tcp://127.0.0.1:7000';
  assert.equal(resolveRunConfig({ target, token: 'given' }).token, 'given');
  assert.equal(resolveRunConfig({ target, tokenFile: file }).token, SECRET);
  process.env.MIGBENCH_TOKEN = 'from-env';
  try {
    assert.equal(resolveRunConfig({ target }).token, 'from-env');
    assert.equal(resolveRunConfig({ target, token: 'given' }).token, 'given', 'an explicit token wins');
  } finally {
    delete process.env.MIGBENCH_TOKEN;
  }
  assert.equal(resolveRunConfig({ target }).token, null);
  assert.throws(
    () => resolveRunConfig({ target, token: 'a', tokenFile: file }),
    (e: unknown) => e instanceof OptionError && /not both/.test(e.message),
  );
  assert.throws(
    () => resolveRunConfig({ target, tokenFile: path.join(dir, 'missing') }),
    (e: unknown) => e instanceof OptionError && /cannot be read: ENOENT/.test(e.message),
  );
  assert.throws(
    () => resolveRunConfig({ tokenFile: file }),
    (e: unknown) => e instanceof OptionError && /--token-file only applies with --target/.test(e.message),
  );
});

test("a suite's token is hidden in suite.json and results.jsonl", async () => {
  const receiver = await startReceiver({ token: SECRET });
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-token-suite-'));
  const file = path.join(dir, 'suite.yaml');
  writeFileSync(
    file,
    [
      'name: secret',
      'base:',
      `  target: tcp://127.0.0.1:${receiver.address.port}`,
      `  token: ${SECRET}`,
      '  ram: 16MiB',
      '  dirty-cost: none',
      'matrix:',
      '  multifd: [1, 2]',
      '',
    ].join('\n'),
  );
  try {
    const plan = await loadSuitePlan(file);
    const out = path.join(dir, 'out');
    const outcome = await runSuite(plan, { outDir: out, toolVersion: 'test' });
    assert.equal(outcome.executed, 2);
    for (const f of ['suite.json', 'results.jsonl', 'summary.csv', 'summary.md', 'report.html']) {
      const text = readFileSync(path.join(out, f), 'utf8');
      assert.ok(!text.includes(SECRET), `${f} holds the token`);
    }
    assert.match(readFileSync(path.join(out, 'results.jsonl'), 'utf8'), /"token":"\(hidden\)"/);
    const lines = readFileSync(path.join(out, 'results.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string });
    assert.deepEqual(
      lines.map((l) => l.status),
      ['completed', 'completed'],
      'the token itself still reached the receiver',
    );
  } finally {
    await receiver.server.close();
  }
});

test('--token on the command line is warned about; MIGBENCH_TOKEN is not', async () => {
  const receiver = await startReceiver({ token: SECRET });
  const run = (
    args: string[],
    env: NodeJS.ProcessEnv,
  ): Promise<{ code: number | null; stderr: string; stdout: string }> =>
    new Promise((resolve) => {
      const child = spawn(
        process.execPath,
        [
          BIN,
          'run',
          '--target',
          `tcp://127.0.0.1:${receiver.address.port}`,
          '--ram',
          '16MiB',
          '--quiet',
          '--json',
          ...args,
        ],
        { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      let stdout = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.on('close', (code) => resolve({ code, stderr, stdout }));
    });
  try {
    const given = await run(['--token', SECRET], {});
    assert.equal(given.code, 0, given.stderr);
    assert.match(
      given.stderr,
      /warning: --token on the command line is visible to other users of this machine \(ps\); use MIGBENCH_TOKEN or --token-file/,
    );
    assert.ok(!given.stdout.includes(SECRET), 'the result does not hold the token');
    const env = await run([], { MIGBENCH_TOKEN: SECRET });
    assert.equal(env.code, 0, env.stderr);
    assert.doesNotMatch(env.stderr, /warning/);
  } finally {
    await receiver.server.close();
  }
});
