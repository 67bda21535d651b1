/** `migbench --help` and `migbench run --help` exit 0 and describe every option with a default and an example. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RUN_OPTION_SPECS } from '../../src/config/options.js';

const BIN = fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));

function help(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Commander wraps help to the width; compare with whitespace collapsed. */
const flat = (s: string): string => s.replace(/\s+/g, ' ');

test('migbench --help lists the commands', () => {
  const r = help('--help');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /Usage: migbench/);
  assert.match(r.stdout, /^\s+run\b/m);
  assert.match(r.stdout, /--version/);
});

test('migbench help run is migbench run --help', () => {
  const r = help('help', 'run');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, help('run', '--help').stdout);
  assert.match(help('--help').stdout, /help \[command\]/);
});

test('migbench --version prints the package version', () => {
  const r = help('--version');
  assert.equal(r.status, 0);
  assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+/);
});

test('migbench run --help lists every option with its default and an example, then examples', () => {
  const r = help('run', '--help');
  assert.equal(r.status, 0, r.stderr);
  const text = flat(r.stdout);
  assert.ok(RUN_OPTION_SPECS.length >= 13);
  for (const spec of RUN_OPTION_SPECS) {
    assert.ok(text.includes(spec.flags), `help lists ${spec.flags}`);
    assert.ok(
      text.includes(`(default: ${spec.defaultText}; e.g. ${spec.example})`),
      `help gives ${spec.flags} a default and an example`,
    );
  }
  for (const flag of ['--json', '--export-json <file>', '--quiet', '--help'])
    assert.ok(text.includes(flag), `help lists ${flag}`);
  const examples = r.stdout.slice(r.stdout.indexOf('Examples:'));
  assert.ok(r.stdout.includes('Examples:'));
  assert.ok(examples.split('\n').filter((l) => l.trim().startsWith('migbench run')).length >= 3);
});
