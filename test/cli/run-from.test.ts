/** `run --from`: a recorded result runs again field for field (the virtual clock's), a suite's later repeat too. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN } from '../fixtures/receiver-process.js';
import type { MigrationResult } from '../../src/result/schema.js';
import { simulatedPart } from '../fixtures/simulated.js';
import { runMigration } from '../../src/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'migbench-from-'));
const migbench = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

test('run --from result.json gives the recorded virtual-clock result again, and refuses options beside it', () => {
  const first = migbench(
    'run',
    '--clock',
    'virtual',
    '--ram',
    '16MiB',
    '--dirty-rate',
    '20MB/s',
    '--link',
    '1Gbit/s',
    '--pattern',
    'hotset:0.2:0.8',
    '--codec',
    'zero,xbzrle',
    '--seed',
    '5',
    '--json',
  );
  assert.equal(first.status, 0, first.stderr);
  const file = path.join(dir, 'result.json');
  writeFileSync(file, first.stdout);
  const again = migbench('run', '--from', file, '--json');
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(
    simulatedPart(JSON.parse(again.stdout) as MigrationResult),
    simulatedPart(JSON.parse(first.stdout) as MigrationResult),
  );
  const mixed = migbench('run', '--from', file, '--ram', '32MiB');
  assert.equal(mixed.status, 2);
  assert.match(mixed.stderr, /--from runs the recorded configuration as it was: leave out --ram/);
});

test("run --from reproduces a suite's second repeat (its write-stream seed is in its result), and the library takes a result's config", async () => {
  const file = path.join(dir, 's.yaml');
  writeFileSync(
    file,
    [
      'name: rep',
      'base:',
      '  clock: virtual',
      '  ram: 16MiB',
      '  link: 1Gbit/s',
      'matrix:',
      '  dirty-rate: [30MB/s]',
      'repeat: 2',
      '',
    ].join('\n'),
  );
  const out = path.join(dir, 'out');
  assert.equal(migbench('suite', file, '--out', out, '--quiet').status, 0);
  const records = readFileSync(path.join(out, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { runId: string; repeat: number; result: MigrationResult });
  const second = records.find((r) => r.repeat === 1)!;
  const first = records.find((r) => r.repeat === 0)!;
  assert.notDeepEqual(simulatedPart(second.result), simulatedPart(first.result), 'the repeats differ');
  const again = migbench('run', '--from', `${path.join(out, 'results.jsonl')}#${second.runId}`, '--json');
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(simulatedPart(JSON.parse(again.stdout) as MigrationResult), simulatedPart(second.result));
  const ambiguous = migbench('run', '--from', path.join(out, 'results.jsonl'));
  assert.match(ambiguous.stderr, /holds 2 records: name one, as .*#RUN-ID/);
  const library = await runMigration(second.result.config);
  assert.deepEqual(simulatedPart(library), simulatedPart(second.result));
});

test("--write-seed runs a suite's later repeat again by its options, field for field", async () => {
  const { repeatConfig, resolveRunConfig } = await import('../../src/config/options.js');
  const base = { ram: '16MiB', clock: 'virtual', dirtyRate: '30MB/s', link: '1Gbit/s', seed: '5' } as const;
  const second = await runMigration(repeatConfig(resolveRunConfig(base), 1));
  const byOptions = await runMigration({ ...base, writeSeed: String(second.config.writeSeed) });
  assert.notEqual(second.config.writeSeed, 5, 'the repeat writes with its own seed');
  assert.deepEqual(simulatedPart(byOptions), simulatedPart(second));
  assert.equal(resolveRunConfig({ ...base }).writeSeed, 5, 'by default the write seed is the seed');
});
