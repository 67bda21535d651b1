/** The result schema is its own (src/result/schema.ts): versioned, mapped field by field, checked on reading. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RUN_CONFIG } from '../../src/config/options.js';
import { resultConfig } from '../../src/config/result-config.js';
import { readResultFile, ResultFileError } from '../../src/report/compare.js';
import { RESULT_SCHEMA_VERSION } from '../../src/result/schema.js';
import { runMigration } from '../../src/driver/migrate.js';
import { smallConfig } from '../fixtures/migrate.js';

/** RunConfig fields the schema names otherwise (its version 1 names). */
const RENAMED: Record<string, string> = { pageWritesPerSec: 'dirtyPagesPerSec' };
/** Result config fields derived from the options: the pre-copy loop is the policy's. */
const DERIVED = ['precopyLoop'];

test("every run option is in the result's config: a new one needs a decision in ResultConfig", () => {
  const expected = [...Object.keys(DEFAULT_RUN_CONFIG).map((k) => RENAMED[k] ?? k), ...DERIVED].sort();
  assert.deepEqual(Object.keys(resultConfig(DEFAULT_RUN_CONFIG)).sort(), expected);
  assert.equal(resultConfig(DEFAULT_RUN_CONFIG).dirtyPagesPerSec, DEFAULT_RUN_CONFIG.pageWritesPerSec);
  assert.equal(resultConfig(DEFAULT_RUN_CONFIG).precopyLoop, 'qemu');
  assert.equal(resultConfig({ ...DEFAULT_RUN_CONFIG, policy: 'qemu-rounds' }).precopyLoop, 'rounds');
});

test("the result's config is a copy, and the token never appears in it", () => {
  const config = { ...DEFAULT_RUN_CONFIG, token: 's3cret', codecs: ['zero' as const] };
  const echoed = resultConfig(config);
  assert.equal(echoed.token, '(hidden)');
  echoed.codecs.push('lz4');
  assert.deepEqual(config.codecs, ['zero'], "changing the result does not change the run's options");
});

test('a result of another schema version is refused with both versions named', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'migbench-schema-'));
  const r = await runMigration(smallConfig({ clock: 'virtual', ramBytes: 8 * 1024 * 1024 }));
  const current = join(dir, 'current.json');
  await writeFile(current, JSON.stringify(r));
  assert.equal((await readResultFile(current)).schemaVersion, RESULT_SCHEMA_VERSION);
  const future = join(dir, 'future.json');
  await writeFile(future, JSON.stringify({ ...r, schemaVersion: RESULT_SCHEMA_VERSION + 1 }));
  await assert.rejects(
    readResultFile(future),
    (e: unknown) =>
      e instanceof ResultFileError &&
      e.message.includes(`schema version ${RESULT_SCHEMA_VERSION + 1}`) &&
      e.message.includes(`reads version ${RESULT_SCHEMA_VERSION}`),
  );
});
