/**
 * The short summary `migbench run` prints by default: the verdict and the handful of figures a
 * reader came for (total time, downtime against its limit, bytes as a multiple of RAM, rounds or
 * syncs, whether the target's memory was verified), each wrapped to the terminal's width. The round
 * tables and the rest are `--verbose` (formatResult in human.ts).
 */
import { aimsForDowntimeLimit, downtimeOver } from '../result/limits.js';
import type { MigrationResult } from '../result/schema.js';
import {
  formatBitRate,
  formatBytes,
  formatCount as count,
  formatFixed as fixed,
  formatMs,
  formatPercent as percent,
  wrapText,
} from '../util/format.js';

/** Bytes in binary units to three significant digits: 1.04 GiB, 356 MiB. */
function bytes3(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? String(Math.round(v)) : v.toPrecision(3)} ${units[u]}`;
}

/** The width output is laid out for when it does not go to a terminal (a pipe, a file, CI). */
export const DEFAULT_WIDTH = 100;
/** Narrower terminals than this still get this width: below it labels and values cannot share a line. */
const MIN_WIDTH = 60;

/** The width to lay text out for: the terminal's columns, else $COLUMNS, else DEFAULT_WIDTH. */
export function outputWidth(columns: number | undefined, env: NodeJS.ProcessEnv): number {
  const fromEnv = Number(env.COLUMNS);
  const w = columns ?? (Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_WIDTH);
  return Math.max(MIN_WIDTH, w);
}

/** Rows of a label and a value, the values wrapped to `width` and lined up after the labels. */
export function formatRows(rows: readonly (readonly [string, string])[], width: number): string {
  const labelWidth = Math.max(...rows.map(([k]) => k.length));
  const indent = labelWidth + 2;
  return rows.map(([k, v]) => wrapText(`${k.padEnd(labelWidth)}  ${v}`, width, indent)).join('\n');
}

/** The verdict: completed or failed (with why), verified or not, a downtime over its limit. */
export function verdictLine(r: MigrationResult): string {
  const over = downtimeOver(r);
  const parts =
    r.status === 'completed'
      ? ['COMPLETED', r.verified ? 'verified' : 'NOT VERIFIED: the target memory differs from the source']
      : [
          `FAILED: ${r.reason ?? 'no reason given'}`,
          r.sourceRunning ? 'the guest runs on the source' : 'the guest is not running on the source',
        ];
  if (over !== null) parts.push(`DOWNTIME OVER ITS LIMIT (${formatMs(over.downtimeMs)} > ${formatMs(over.limitMs)})`);
  return parts.join(' · ');
}

function downtimeText(r: MigrationResult): string {
  const c = r.config;
  const ms = r.totals.downtimeMs;
  if (r.status === 'failed' && r.sourceRunning && ms === 0) return 'none: the guest stayed running on the source';
  if (!aimsForDowntimeLimit(c)) return `${formatMs(ms)} (${c.policy} does not aim for a downtime limit)`;
  const over = downtimeOver(r);
  return over === null
    ? `${formatMs(ms)}, within the limit of ${formatMs(c.downtimeLimitMs)}`
    : `${formatMs(ms)}, OVER the limit of ${formatMs(c.downtimeLimitMs)} by ${formatMs(ms - c.downtimeLimitMs)}`;
}

function roundsText(r: MigrationResult): string {
  const n = r.totals.iterations;
  const pre = r.iterations.filter((i) => i.phase === 'precopy').length;
  const failed = r.status === 'failed' ? ' recorded before the failure' : '';
  const syncs = r.qemu ? ` · ${count(r.qemu.dirtySyncCount)} dirty-log syncs (QEMU's dirty-sync-count)` : '';
  return `${count(n)}${failed}: ${pre} pre-copy + ${n - pre} stop-and-copy${syncs}`;
}

function paceText(r: MigrationResult): string | null {
  const g = r.totals.guestPerf;
  if (!g || g.slowdownDuring === null) return null;
  const before = g.beforePageWritesPerSec;
  const after =
    g.afterPageWritesPerSec === null || before <= 0
      ? ''
      : `; on the target during post-copy ${percent(g.afterPageWritesPerSec / before)} (${count(g.afterPageWritesPerSec)})`;
  return `${percent(g.slowdownDuring)} of its pace before the migration (${count(g.duringPageWritesPerSec)} vs ${count(before)} page writes/s)${after}`;
}

function postcopyText(r: MigrationResult): string | null {
  const p = r.postcopy;
  if (!p) return null;
  const blocked = p.blockedMsPerVcpu.length === 0 ? 0 : Math.max(...p.blockedMsPerVcpu);
  return (
    `after ${p.afterRounds} rounds: ${count(p.pagesMissingAtResume)} pages missing at resume, ` +
    `${count(p.requests)} requests, a vCPU blocked up to ${formatMs(blocked)}, last page at ${formatMs(p.lastPageArrivedMs)}`
  );
}

/** The default output of a run: the verdict, then one row per figure, within `width` columns. */
export function formatSummary(r: MigrationResult, width: number = DEFAULT_WIDTH): string {
  const c = r.config;
  const t = r.totals;
  const failed = r.status === 'failed';
  const rows: [string, string][] = [
    ['total time', `${formatMs(t.totalTimeMs)}, ${failed ? 'connect to the failure' : 'connect to announce'}`],
    ['downtime', downtimeText(r)],
    ['bytes sent', `${bytes3(t.bytesSent)} = ${fixed(t.ramMultiplesSent, 2)} × RAM (${formatBytes(c.ramBytes)})`],
    ['rounds', roundsText(r)],
  ];
  if (r.switchoverReason !== undefined) rows.push(['switch-over', r.switchoverReason]);
  const post = postcopyText(r);
  if (post !== null) rows.push(['post-copy', post]);
  rows.push([
    'link',
    `${formatBitRate(t.achievedLinkBitsPerSec)} achieved of ${c.linkBitsPerSec === null ? 'an unlimited link' : formatBitRate(c.linkBitsPerSec)}`,
  ]);
  const pace = paceText(r);
  if (pace !== null) rows.push(['guest pace', pace]);
  if (r.workload) rows.push(['trace pace', `${fixed(r.workload.pacePercent, 1)} % of the recording's page writes`]);
  for (const l of r.limits ?? []) rows.push([`${l.limit} limit`, `at ${formatMs(l.atMs)}: ${l.why}, ${l.action}`]);
  rows.push([
    'verified',
    r.verified
      ? 'yes: the target memory equals the source at suspension, byte for byte'
      : failed
        ? 'no: the migration did not complete'
        : 'NO: the target memory differs from the source',
  ]);
  const more =
    `More: --verbose for the stages, rounds and totals${r.qemu ? " and QEMU's statistics" : ''}; ` +
    '--html FILE for charts; --json for everything.';
  return [wrapText(verdictLine(r), width, 2), formatRows(rows, width), '', wrapText(more, width)].join('\n');
}
