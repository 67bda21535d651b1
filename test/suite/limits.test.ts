/**
 * Suite files that would blow up are refused before anything is expanded, each in well under a
 * second, with one line naming the limit, and exit 2 from the CLI: configurations x repeats (the
 * probe's 656-byte file of 100 x 100 configurations x 1000 repeats crashed V8), the file's size,
 * the matrix blocks, one option's values; and duplicate keys and values are found in linear time
 * (50,000 keys took 24 s in the YAML library's check; such a file is now over the size limit).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSuitePlan } from '../../src/suite/load.js';
import { SuiteError } from '../../src/suite/parse.js';
import { BIN } from '../fixtures/receiver-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'migbench-suite-limits-'));
const values = (n: number, f: (i: number) => string): string =>
  `[${Array.from({ length: n }, (_, i) => f(i)).join(', ')}]`;

const CASES: { what: string; text: string; message: RegExp }[] = [
  {
    what: '100 x 100 configurations x 1000 repeats',
    text: `name: x\nbase:\n  clock: virtual\nmatrix:\n  seed: ${values(100, (i) => String(i + 1))}\n  write-size: ${values(100, (i) => String(i + 8))}\nrepeat: 1000\n`,
    message: /repeat: 10000 configurations x 1000 repeats is 10000000 runs; at most 100000/,
  },
  {
    what: 'a 1 MiB file',
    text: `name: x\ndescription: ${'a'.repeat(1024 * 1024)}\n`,
    message: /1048598 bytes; a suite file is at most 131072 bytes \(128 KiB\)/,
  },
  {
    what: "50,000 top-level keys (the probe's)",
    text: `name: x\n${Array.from({ length: 50_000 }, (_, i) => `k${i}: 1\n`).join('')}`,
    message: /bytes; a suite file is at most 131072 bytes/,
  },
  {
    what: '1,001 matrix blocks',
    text: `name: x\nmatrix:\n${Array.from({ length: 1001 }, (_, i) => `  - seed: [${i + 1}]\n`).join('')}`,
    message: /matrix: a list of 1001 blocks; at most 1000/,
  },
  {
    what: '10,001 values of one option',
    text: `name: x\nmatrix:\n  seed: ${values(10_001, (i) => String(i + 1))}\n`,
    message: /matrix\.seed: a list of 10001 values; at most 10000/,
  },
  {
    what: '10,000 top-level keys',
    text: `name: x\n${Array.from({ length: 10_000 }, (_, i) => `k${i}: 1\n`).join('')}`,
    message: /k0: unknown key/,
  },
  {
    what: '10,000 duplicate top-level keys',
    text: `${Array.from({ length: 10_000 }, () => 'name: x\n').join('')}`,
    message: /:2: name: is given twice/,
  },
  {
    what: '9,999 values and one repeated',
    text: `name: x\nmatrix:\n  seed: ${values(10_000, (i) => String(i === 9_999 ? 1 : i + 1))}\n`,
    message: /matrix\.seed\[9999\]: "1" is listed twice/,
  },
];

for (const c of CASES) {
  test(`refused at once: ${c.what}`, async () => {
    const file = path.join(dir, `${c.what.replace(/\W+/g, '-')}.yaml`);
    writeFileSync(file, c.text);
    const t0 = performance.now();
    await assert.rejects(loadSuitePlan(file), (e: unknown) => e instanceof SuiteError && c.message.test(e.message));
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `refused after ${ms.toFixed(0)} ms`);
    const r = spawnSync(process.execPath, [BIN, 'suite', file, '--out', path.join(dir, 'out'), '--dry-run'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, c.message);
    assert.equal(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('Try ')).length,
      1,
      'one line',
    );
  });
}
