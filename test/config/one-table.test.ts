/**
 * The run options are one table (src/config/options.ts): DEFAULT_RUN_CONFIG is its defaults
 * resolved, help shows them, and the option tables of docs/ (run.md, evacuation.md) say the same.
 */
import { test } from 'node:test';
import { EVACUATION_OPTION_SPECS, evacuationFlag } from '../../src/evacuate/config.js';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import {
  DEFAULT_RUN_CONFIG,
  RUN_OPTION_KEYS,
  RUN_OPTION_SPECS,
  flagOf,
  resolveRunConfig,
} from '../../src/config/options.js';

/** The option tables users read: every docs/*.md (run.md and evacuation.md hold them). */
const docsDir = new URL('../../../docs/', import.meta.url);
const readme = readdirSync(docsDir)
  .filter((f) => f.endsWith('.md'))
  .map((f) => readFileSync(new URL(f, docsDir), 'utf8'))
  .join('\n');

test('the table has one entry per run option, in help order, each with a default and an example', () => {
  assert.deepEqual(
    RUN_OPTION_SPECS.map((s) => s.key),
    [...RUN_OPTION_KEYS],
  );
  for (const s of RUN_OPTION_SPECS) {
    assert.ok(s.flags.startsWith(flagOf(s.key)), `${s.key}: flags ${s.flags}`);
    assert.ok(s.defaultText.length > 0 && s.example.length > 0, s.key);
  }
});

test('DEFAULT_RUN_CONFIG is what no options resolve to', () => {
  assert.deepEqual(resolveRunConfig({}), DEFAULT_RUN_CONFIG);
  assert.equal(DEFAULT_RUN_CONFIG.ramBytes, 2 ** 30);
  assert.equal(
    DEFAULT_RUN_CONFIG.pageWritesPerSec,
    Math.floor(100e6 / 4096),
    'the default dirty rate is 100MB/s in 4 KiB pages',
  );
});

test('the option tables in docs/ give the defaults the table gives', () => {
  const rows = [...readme.matchAll(/^\| `(--[a-z-]+)[^`|]*` \| `([^`]+)` \|/gm)];
  assert.ok(rows.length >= 15, `${rows.length} docs rows with a typed default`);
  for (const [, flag, shown] of rows) {
    // A run option, or one of evacuate's own (its table).
    const spec =
      RUN_OPTION_SPECS.find((s) => flagOf(s.key) === flag) ??
      EVACUATION_OPTION_SPECS.find((s) => evacuationFlag(s.key) === flag);
    assert.ok(spec, `docs/ documents ${flag}, a run option or an evacuate option`);
    assert.equal(shown, spec.defaultText, `docs/'s default of ${flag}`);
  }
});
