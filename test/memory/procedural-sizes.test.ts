/**
 * Guests larger than this machine (issue 26): procedural memory's need follows the pages' states,
 * not their bytes, so a 64 GiB guest runs in seconds on a 24 GiB machine (through the CLI, as a
 * user would run it), and the cap is 16 TiB. Larger runs (1 TiB, the 1.4 TiB host) are in bench/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolveRunConfig } from '../../src/config/options.js';
import { memoryNeed } from '../../src/config/admission.js';
import type { MigrationResult } from '../../src/result/schema.js';
import { BIN } from '../fixtures/receiver-process.js';

const GiB = 2 ** 30;

test("a procedural guest's need is its pages' states and its write log, not its bytes", () => {
  const need = (ram: string, memory: string) =>
    memoryNeed(resolveRunConfig({ clock: 'virtual', ram, dirtyRate: '1GB/s', link: '100Gbit/s', memory }));
  const tib = need('1TiB', 'procedural');
  assert.ok(tib.totalBytes < 8 * GiB, `1 TiB procedural: ${(tib.totalBytes / GiB).toFixed(2)} GiB`);
  assert.ok(need('1TiB', 'materialized').totalBytes > 2048 * GiB, 'materialized: twice the guest');
  // Each page more costs, on each side, its state (4 bytes), its room in the scan list (4 bytes),
  // its dirty bits and its slot's share of frames: some 17 bytes, against 8 KiB materialized.
  const perPage = (need('16TiB', 'procedural').totalBytes - tib.totalBytes) / ((15 * 1024 * GiB) / 4096);
  assert.ok(perPage > 16 && perPage < 20, `${perPage.toFixed(2)} bytes a page`);
});

test('migbench run --clock virtual --ram 64GiB completes and verifies on this machine', () => {
  const r = spawnSync(
    process.execPath,
    [BIN, 'run', '--clock', 'virtual', '--ram', '64GiB', '--dirty-rate', '10MB/s', '--link', '100Gbit/s', '--json'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as MigrationResult;
  assert.equal(result.status, 'completed');
  assert.equal(result.verified, true);
  assert.equal(result.config.memory, 'procedural');
  assert.equal(result.config.ramBytes, 64 * GiB);
  // Round 0 alone moves 64 GiB of pages at 100 Gbit/s: 5.5 s and more.
  assert.ok(result.totals.bytesSent > 64 * GiB, `${result.totals.bytesSent} bytes sent`);
  assert.ok(result.totals.totalTimeMs > 5500, `${result.totals.totalTimeMs} ms`);
});
