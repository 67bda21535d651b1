/** formatResult on a hand-made result: the status line, the three tables with units, and round elision. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resultConfig } from '../../src/config/result-config.js';
import { DEFAULT_RUN_CONFIG } from '../../src/config/options.js';
import { STAGE_NAMES, type IterationRecord, type MigrationResult } from '../../src/result/schema.js';
import { formatConfigHeader, formatResult, formatRoundLine } from '../../src/report/human.js';
import { formatSummary } from '../../src/report/summary.js';
import { toJson } from '../../src/report/json.js';

function round(index: number, last: boolean): IterationRecord {
  return {
    index,
    phase: last ? 'stop-and-copy' : 'precopy',
    startMs: 100 + index * 50,
    dirtyPages: 1000 + index,
    pagesSent: 1000 + index,
    bytesSent: (1000 + index) * 4104,
    durationMs: 50,
    scanMs: 0.25,
    dirtyPagesPerSec: 20_000 + index,
    achievedLinkBitsPerSec: 9.87e9,
    expectedDowntimeMs: 3.3,
    pagesResentUnchanged: 0,
    throttlePercent: 0,
    rateLimitBitsPerSec: null,
    downtimeLimitMs: 300,
    guestPageWritesPerSec: 24_000,
  };
}

function result(rounds: number): MigrationResult {
  const iterations = Array.from({ length: rounds }, (_, i) => round(i, i === rounds - 1));
  return {
    schemaVersion: 1,
    tool: 'migbench',
    startedAt: '2025-01-01T00:00:00.000Z',
    status: 'completed',
    sourceRunning: false,
    verified: true,
    switchoverReason: 'pending 1.2 MiB fits 300 ms',
    config: resultConfig(DEFAULT_RUN_CONFIG),
    environment: {
      node: 'v20.0.0',
      platform: 'linux',
      arch: 'x64',
      cpu: 'Test CPU',
      cores: 8,
      totalMemoryBytes: 2 ** 34,
      wasmSimd: true,
    },
    totals: {
      totalTimeMs: 12_314,
      downtimeMs: 12.5,
      bytesSent: 1.5 * 2 ** 30,
      pagesSent: 393_216,
      iterations: rounds,
      achievedLinkBitsPerSec: 9.5e9,
      achievedDirtyPagesPerSec: 24_000,
      guestPageWrites: 300_000,
      ramMultiplesSent: 1.5,
      wallTimeMs: 12_314,
    },
    stages: STAGE_NAMES.map((name, i) => ({ name, startMs: i * 10, durationMs: 10 })),
    iterations,
  };
}

/** Cells only: table borders and padding removed, whitespace collapsed, so wrapped headers read as one. */
function cells(text: string): string {
  return text.replace(/[│┌┐└┘├┤┬┴┼─]/g, ' ').replace(/\s+/g, ' ');
}

test('formatResult: status line, stage, round and totals tables with units in the headers', () => {
  const text = formatResult(result(4));
  assert.match(text.split('\n')[0], /^status: completed · verified: yes · switchover: pending 1\.2 MiB fits 300 ms$/);
  const headers = text
    .split('\n')
    .filter((l) => l.includes('('))
    .join('\n');
  // Headers wrap onto two lines inside a cell, so check the words and the units column by column.
  for (const unit of ['(ms)', '(pages)', '(MiB)', '(pages/s)', '(Gbit/s)', 'downtime (ms)'])
    assert.ok(headers.includes(unit), unit);
  for (const word of [
    'Stage',
    'Start',
    'Duration',
    'Round',
    'Phase',
    'Dirty',
    'Sent',
    'Scan',
    'Dirty rate',
    'Link rate',
    'Expected',
  ]) {
    assert.ok(text.includes(word), word);
  }
  const flat = cells(text);
  for (const row of [
    'Total time (ms) 12,314.0',
    'Downtime (ms) 12.5 limit 300.0 ms',
    'Bytes sent (GiB) 1.50 1.50 × RAM',
    'Pages sent (pages) 393,216',
    'Iterations (rounds) 4 3 pre-copy + 1 stop-and-copy',
    'Achieved link rate (Gbit/s) 9.50 configured 10.0 Gbit/s',
    'Achieved dirty rate (pages/s) 24,000 configured 24,414 pages/s',
  ]) {
    assert.ok(flat.includes(row), `totals row ${row}`);
  }
  for (const stage of STAGE_NAMES) assert.ok(flat.includes(` ${stage} `), stage);
  assert.ok(flat.includes(' 3 stop-and-copy 1,003 1,003 0 3.9 50.0 0.25 20,003 9.87 3.3 24,000 '), 'a full round row');
  assert.ok(!flat.includes('Ring-full'), 'ring columns only for --dirty-log ring');
  assert.doesNotMatch(text, /rounds not shown/);
});

test('formatResult: 30 rounds show the first 10 and the last 5 with an elision row', () => {
  const text = formatResult(result(30));
  const flat = cells(text.slice(text.indexOf('Rounds'), text.indexOf('Totals')));
  assert.ok(flat.includes('… 15 rounds not shown'), 'elision row');
  const shown = [...flat.matchAll(/ (\d+) (precopy|stop-and-copy) /g)].map((m) => Number(m[1]));
  assert.deepEqual(shown, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 25, 26, 27, 28, 29]);
});

test('formatResult: a failed run gives the reason and whether the source still runs', () => {
  const r: MigrationResult = {
    ...result(3),
    status: 'failed',
    verified: false,
    sourceRunning: true,
    reason: 'did not converge',
  };
  delete r.switchoverReason;
  assert.equal(
    formatResult(r).split('\n')[0],
    'status: failed · verified: no · reason: did not converge · source running: yes',
  );
});

test('formatConfigHeader and formatRoundLine carry the context and units', () => {
  const r = result(2);
  const header = formatConfigHeader(r.config, r.environment, '9.9.9');
  for (const s of [
    'migbench  9.9.9',
    'Node v20.0.0',
    'wasm SIMD yes',
    'Test CPU · 8 cores',
    '1.0 GiB RAM',
    '262,144 pages of 4.0 KiB',
    '24,414 page writes/s (100 MB/s)',
    '10.0 Gbit/s',
    'latency 0.100 ms',
    'downtime limit 300.0 ms',
    'timeout 120.00 s',
  ]) {
    assert.ok(header.includes(s), `header has ${s}`);
  }
  const line = formatRoundLine(r.iterations[0], 'pending 4 MiB');
  assert.match(
    line,
    /^round\s+0\s+precopy\s+dirty\s+1,000 pages\s+sent\s+3\.9 MiB in\s+50\.0 ms\s+at\s+9\.87 Gbit\/s\s+expected downtime\s+3\.3 ms\s+→ pending 4 MiB$/,
  );
});

test('toJson: the result itself, 2-space indented', () => {
  const r = result(2);
  const json = toJson(r);
  assert.deepEqual(JSON.parse(json), r);
  assert.match(json, /^{\n {2}"schemaVersion": 1,/);
});

test('a downtime over its policy limit is flagged in the status line and the totals, and only for policies that aim for it', () => {
  const over = result(3);
  over.totals.downtimeMs = 463.6;
  const text = formatResult(over);
  assert.match(text, /status: completed · verified: yes · DOWNTIME OVER ITS LIMIT: 463\.6 ms > 300\.0 ms/);
  assert.ok(cells(text).includes('Downtime (ms) 463.6 limit 300.0 ms — OVER IT by 163.6 ms'));
  assert.doesNotMatch(formatResult(result(3)), /OVER/, 'within the limit: no flag');
  const xen = result(3);
  xen.totals.downtimeMs = 463.6;
  xen.config = { ...xen.config, policy: 'xen' };
  assert.doesNotMatch(formatResult(xen), /OVER/, 'Xen ignores the limit');
});

test("a failed run's totals say what it did before it failed, and no downtime it never had", () => {
  const failed = result(1);
  failed.status = 'failed';
  failed.reason = 'connect: the receiver refused the migration';
  failed.sourceRunning = true;
  failed.verified = false;
  failed.iterations = [];
  failed.totals.iterations = 0;
  failed.totals.pagesSent = 0;
  failed.totals.downtimeMs = 0;
  const flat = cells(formatResult(failed));
  assert.ok(flat.includes('Downtime (ms) – none: the guest stayed running on the source'), flat);
  assert.ok(flat.includes('connect to the failure'));
  assert.ok(flat.includes('Pages sent (pages) 0 in the rounds recorded (not the one the failure cut short)'));
  assert.ok(flat.includes('0 pre-copy + 0 stop-and-copy, recorded before the failure'));
});

test('formatSummary: the verdict and the figures a reader came for, within 100 columns; over-limit and failures said as such', () => {
  const ok = formatSummary(result(3), 100);
  const lines = ok.split('\n');
  assert.ok(
    lines.every((l) => l.length <= 100),
    ok,
  );
  assert.equal(lines[0], 'COMPLETED · verified');
  assert.match(ok, /^total time +12\.31 s, connect to announce$/m);
  assert.match(ok, /^downtime +12\.5 ms, within the limit of 300\.0 ms$/m);
  assert.match(ok, /^bytes sent +1\.50 GiB = 1\.50 × RAM \(1\.0 GiB\)$/m);
  assert.match(ok, /^rounds +3: 2 pre-copy \+ 1 stop-and-copy$/m);
  assert.match(ok, /--verbose/);
  const over = result(3);
  over.totals.downtimeMs = 463.6;
  const overText = formatSummary(over, 100);
  assert.match(overText, /^COMPLETED · verified · DOWNTIME OVER ITS LIMIT \(463\.6 ms > 300\.0 ms\)$/m);
  assert.match(overText, /463\.6 ms, OVER the limit of 300\.0 ms by 163\.6 ms/);
  const xen = result(3);
  xen.totals.downtimeMs = 463.6;
  xen.config = { ...xen.config, policy: 'xen' };
  assert.match(formatSummary(xen), /463\.6 ms \(xen does not aim for a downtime limit\)/);
  assert.doesNotMatch(formatSummary(xen), /OVER/);
  const failed = result(1);
  Object.assign(failed, {
    status: 'failed',
    reason: 'did not converge within the timeout of 60.00 s',
    sourceRunning: true,
    verified: false,
  });
  failed.totals.downtimeMs = 0;
  const failedText = formatSummary(failed, 60);
  assert.match(
    failedText,
    /^FAILED: did not converge within the timeout of 60\.00 s · the\n {2}guest runs on the source$/m,
  );
  assert.match(failedText, /none: the guest stayed running on the source/);
  assert.match(failedText, /connect to the failure/);
  assert.ok(
    failedText.split('\n').every((l) => l.length <= 60),
    failedText,
  );
});

test('the verbose tables fit the width asked for: wide ones cut into column groups, word columns wrapped', () => {
  const r = result(3);
  r.switchoverReason = 'pending 337.2 MiB < threshold 357.7 MiB (300 ms at the last window bandwidth), after 2 syncs';
  const wide = formatResult(r);
  assert.ok(Math.max(...wide.split('\n').map((l) => l.length)) > 100, 'unbounded: the rounds table is wider than 100');
  const text = formatResult(r, 100);
  for (const l of text.split('\n')) assert.ok(l.length <= 100, `${l.length} columns: ${l}`);
  // Every column of the rounds table is still there, each group repeating the round number.
  const flat = cells(text);
  for (const h of ['Resent', 'Dirty rate', 'Link rate', 'Expected']) assert.ok(flat.includes(h), h);
  assert.equal((text.match(/│ Round │/g) ?? []).length, 2);
  const line = formatRoundLine(r.iterations[0], r.switchoverReason, 100);
  assert.ok(
    line.split('\n').every((l) => l.length <= 100),
    line,
  );
  assert.match(line, /\n {4}→ pending 337\.2 MiB/);
});
