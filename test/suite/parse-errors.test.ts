/**
 * A suite file with a mistake gets one message naming the file, the line and the key: YAML syntax,
 * unknown keys (top level, run options, comparisons), values resolveRunConfig rejects (in base or
 * in a matrix list), and comparisons that cannot be drawn. Through the CLI: exit 2, one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expandSuite } from '../../src/suite/expand.js';
import { SuiteError, parseSuite } from '../../src/suite/parse.js';

const FILE = 'bad.yaml';

function errorOf(text: string): SuiteError {
  try {
    expandSuite(parseSuite(text, FILE));
  } catch (e) {
    if (e instanceof SuiteError) return e;
    throw e;
  }
  assert.fail('expected a SuiteError');
}

const CASES: { what: string; text: string; line: number; mentions: string[] }[] = [
  {
    what: 'bad YAML (a tab as indentation)',
    text: 'name: x\nbase:\n  ram: 16MiB\n\tlink: 1Gbit/s\n',
    line: 4,
    mentions: ['link: not valid YAML', 'Tabs'],
  },
  {
    what: 'a duplicate key',
    text: 'name: x\nbase:\n  ram: 16MiB\n  ram: 32MiB\n',
    line: 4,
    mentions: ['base.ram', 'given twice'],
  },
  {
    what: 'an unknown top-level key',
    text: 'name: x\nrepeats: 2\n',
    line: 2,
    mentions: ['repeats', 'unknown key', 'repeat'],
  },
  {
    what: 'a run option at the top level',
    text: 'name: x\nram: 16MiB\n',
    line: 2,
    mentions: ['ram', 'under base or matrix'],
  },
  {
    what: 'a missing name',
    text: 'base:\n  ram: 16MiB\n',
    line: 1,
    mentions: ['name', 'missing'],
  },
  {
    what: 'an unknown run option in base, with a suggestion',
    text: 'name: x\nbase:\n  ram: 16MiB\n  dirty-rat: 5MB/s\n',
    line: 4,
    mentions: ['base.dirty-rat', 'not a run option', 'dirty-rate'],
  },
  {
    what: 'an output option of run (not a run option)',
    text: 'name: x\nbase:\n  json: true\n',
    line: 3,
    mentions: ['base.json', 'not a run option'],
  },
  {
    what: 'an unknown run option in the matrix',
    text: 'name: x\nmatrix:\n  dirty-rate: [5MB/s]\n  sped: [1, 2]\n',
    line: 4,
    mentions: ['matrix.sped', 'not a run option'],
  },
  {
    what: 'a bad value in base',
    text: 'name: x\nbase:\n  ram: 16MiB\n  link: fast\n',
    line: 4,
    mentions: ['base.link', '--link must be a rate', '"fast"'],
  },
  {
    what: 'a bad value in a matrix list',
    text: 'name: x\nbase:\n  ram: 16MiB\nmatrix:\n  dirty-rate:\n    - 50MB/s\n    - lots\n',
    line: 7,
    mentions: ['matrix.dirty-rate[1]', '--dirty-rate', '"lots"'],
  },
  {
    what: 'a bad value in the second matrix block',
    text: 'name: x\nmatrix:\n  - policy: qemu\n  - policy: [xen, vmware]\n',
    line: 4,
    mentions: ['matrix[1].policy[1]', '--policy must be one of', '"vmware"'],
  },
  {
    what: 'a value that clashes with another option',
    text: 'name: x\nbase:\n  ram: 16MiB\n  throttle-max: 50%\n',
    line: 4,
    mentions: ['base.throttle-max', 'only applies with --auto-converge'],
  },
  {
    what: 'a list where one value belongs',
    text: 'name: x\nbase:\n  ram: [16MiB, 32MiB]\n',
    line: 3,
    mentions: ['base.ram', 'single value'],
  },
  {
    what: 'an empty matrix list',
    text: 'name: x\nmatrix:\n  ram: []\n',
    line: 3,
    mentions: ['matrix.ram', 'empty list'],
  },
  {
    what: 'a value listed twice',
    text: 'name: x\nmatrix:\n  ram: [16MiB, 32MiB, 16MiB]\n',
    line: 3,
    mentions: ['matrix.ram[2]', 'listed twice'],
  },
  {
    what: 'a bad repeat',
    text: 'name: x\nrepeat: 0\n',
    line: 2,
    mentions: ['repeat', 'whole number from 1'],
  },
  {
    what: 'a comparison of an option the matrix does not vary',
    text: 'name: x\nmatrix:\n  ram: [16MiB, 32MiB]\ncomparisons:\n  - vary: link\n    metric: downtime\n',
    line: 5,
    mentions: ['comparisons[0].vary', 'not in the matrix'],
  },
  {
    what: 'a comparison with an unknown metric',
    text: 'name: x\nmatrix:\n  ram: [16MiB, 32MiB]\ncomparisons:\n  - vary: ram\n    metric: speed\n',
    line: 6,
    mentions: ['comparisons[0].metric', 'downtime', '"speed"'],
  },
  {
    what: 'a comparison with an unknown key',
    text: 'name: x\nmatrix:\n  ram: [16MiB, 32MiB]\ncomparisons:\n  - vary: ram\n    metric: downtime\n    colour: red\n',
    line: 7,
    mentions: ['comparisons[0].colour', 'unknown key'],
  },
];

for (const c of CASES) {
  test(`${c.what}: the message names line ${c.line} and the key`, () => {
    const e = errorOf(c.text);
    assert.ok(e.message.startsWith(`${FILE}:${c.line}: `), e.message);
    assert.equal(e.line, c.line);
    for (const m of c.mentions) assert.ok(e.message.includes(m), `${JSON.stringify(e.message)} should mention ${m}`);
    assert.ok(!e.message.includes('\n'), 'one line');
  });
}

test('migbench suite with a bad file: exit 2, one line naming file, line and key, nothing run', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migbench-suite-bad-'));
  const file = path.join(dir, 'bad.yaml');
  writeFileSync(file, 'name: x\nbase:\n  ram: 16MiB\n  link: fast\n');
  const bin = fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));
  const r = spawnSync(process.execPath, [bin, 'suite', file, '--out', path.join(dir, 'out')], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(
    lines[0],
    `migbench: ${file}:4: base.link: --link must be a rate such as 10Gbit/s, 25Gbps, 1.25GB/s, 500MB/s or unlimited (got "fast")`,
  );
  assert.match(lines[1] ?? '', /^Try 'migbench suite --help'\.$/);
  assert.equal(lines.length, 2);
});
