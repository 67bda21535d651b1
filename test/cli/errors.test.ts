/**
 * Bad input through the real CLI: exit code 2, one `migbench:` line naming the option (plus at most
 * the help hint), nothing on stdout, no stack trace. Validation fails before any migration starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));

function migbench(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CASES: { args: string[]; mentions: string[] }[] = [
  { args: ['run', '--ram', '0'], mentions: ['--ram', '"0"', '512MiB'] },
  { args: ['receive', '--max-ram', 'lots'], mentions: ['--max-ram', '"lots"', '16GiB'] },
  { args: ['run', '--ram', '12XB'], mentions: ['--ram', '"12XB"', '512MiB'] },
  { args: ['run', '--ram', '1GB'], mentions: ['--ram', 'multiple of the page size'] },
  { args: ['run', '--page-size', '3000'], mentions: ['--page-size', 'power of two'] },
  { args: ['run', '--write-size', '8KiB'], mentions: ['--write-size', 'page size'] },
  { args: ['run', '--link', 'fast'], mentions: ['--link', '"fast"', '10Gbit/s', '1.25GB/s', 'unlimited'] },
  { args: ['run', '--pattern', 'zigzag'], mentions: ['--pattern', '"zigzag"', 'hotset:0.1:0.9'] },
  { args: ['run', '--vcpus', '-1'], mentions: ['--vcpus', '"-1"', 'from 1 to 64'] },
  { args: ['run', '--dirty-rate', 'fast'], mentions: ['--dirty-rate', '"fast"', '200MB/s'] },
  { args: ['run', '--timeout', 'soon'], mentions: ['--timeout', '"soon"', '120s'] },
  { args: ['run', '--latency', '1'], mentions: ['--latency', '"1"', 'unit'] },
  { args: ['run', '--policy', 'vmware'], mentions: ['--policy', 'qemu, qemu-rounds, hyperv, xen'] },
  { args: ['run', '--seed', '4294967296'], mentions: ['--seed', '4294967295'] },
  { args: ['run', '--export-json', '/nonexistent-dir/result.json'], mentions: ['--export-json', 'existing directory'] },
  { args: ['run', '--frobnicate'], mentions: ['unknown option', '--frobnicate'] },
  { args: ['run', '--ram'], mentions: ['--ram', 'missing'] },
  { args: ['frobnicate'], mentions: ['unknown command', 'frobnicate'] },
];

for (const { args, mentions } of CASES) {
  test(`migbench ${args.join(' ')}: exit 2, one line naming the problem`, () => {
    const r = migbench(...args);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.ok(lines.length === 1 || lines.length === 2, r.stderr);
    assert.match(lines[0], /^migbench: /);
    for (const m of mentions) assert.ok(lines[0].includes(m), `${JSON.stringify(lines[0])} should mention ${m}`);
    if (lines.length === 2) assert.match(lines[1], /^Try 'migbench( run| receive)? --help'\.$/);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  });
}
