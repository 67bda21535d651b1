/**
 * Human-readable text for a run: the context header, one line per round while it runs, and the
 * result tables. Pure functions returning strings; the CLI decides where they go.
 * Units are in every column header (or, in the totals table, in every row label), so the cells
 * hold bare numbers that line up.
 */
import { aimsForDowntimeLimit, downtimeOver } from '../result/limits.js';
import { formatRows } from './summary.js';
import { guestCostMs, hostCostMs } from '../dirtylog/cost-meter.js';
import Table from 'cli-table3';
import type { WritePattern } from '../guest/pattern.js';
import type {
  CodecSummary,
  ResultConfig,
  Environment,
  IterationRecord,
  MigrationResult,
  StageRecord,
} from '../result/schema.js';
import {
  formatBitRate,
  formatByteRate,
  formatBytes,
  formatCount as count,
  formatFixed as fixed,
  formatMs,
  formatPercent as percent,
  wrapText,
} from '../util/format.js';

/** Rounds tables longer than HEAD + TAIL + 1 show the first HEAD and last TAIL rounds. */
export const ROUNDS_HEAD = 10;
export const ROUNDS_TAIL = 5;

export type HeaderEnvironment = Pick<Environment, 'node' | 'platform' | 'arch' | 'cpu' | 'cores' | 'wasmSimd'>;

// ------------------------------------------------------------------------------------ header

/** The context a reader needs to trust the numbers: tool, machine, and the configuration. */
export function formatConfigHeader(
  config: ResultConfig,
  env: HeaderEnvironment,
  toolVersion: string,
  layout: { width?: number; verbose?: boolean } = {},
): string {
  const verbose = layout.verbose ?? true;
  const pages = config.ramBytes / config.pageSizeBytes;
  const dirtyBytesPerSec = config.dirtyPagesPerSec * config.pageSizeBytes;
  const rows: [string, string][] = [
    [
      'migbench',
      `${toolVersion} · Node ${env.node} · ${env.platform}/${env.arch} · wasm SIMD ${env.wasmSimd ? 'yes' : 'no'}`,
    ],
    ['cpu', `${env.cpu} · ${env.cores} cores`],
    [
      'guest',
      `${formatBytes(config.ramBytes)} RAM = ${count(pages)} pages of ${formatBytes(config.pageSizeBytes)}` +
        ` · ${config.vcpus} vCPU${config.vcpus === 1 ? '' : 's'} · seed ${config.seed}`,
    ],
    ...((config.trace
      ? [
          [
            'workload',
            `trace ${config.trace.file} · ${count(config.dirtyPagesPerSec)} page writes/s recorded mean` +
              `${config.trace.speed === 1 ? '' : ` at ${config.trace.speed}x`}${config.trace.loop ? ' · looped' : ''}`,
          ],
        ]
      : [
          ['content', formatContent(config.content)],
          [
            'dirtying',
            `${count(config.dirtyPagesPerSec)} page writes/s (${formatByteRate(dirtyBytesPerSec)})` +
              ` · ${formatPattern(config.pattern)} · ${formatBytes(config.writeSizeBytes)} per write`,
          ],
        ]) as [string, string][]),
    [
      'link',
      `${formatLink(config.linkBitsPerSec)} · latency ${formatMs(config.latencyMs)}` +
        (config.maxBandwidthBitsPerSec == null
          ? ''
          : ` · max-bandwidth ${formatLink(config.maxBandwidthBitsPerSec)} until suspension`),
    ],
    [
      'tracking',
      `${config.dirtyLog === 'ring' ? `ring of ${count(config.ringSizeEntries)} entries per vCPU` : config.dirtyLog}` +
        ` · ${config.dirtyCost === undefined || config.dirtyCost === 'none' ? 'no host costs (--dirty-cost none)' : `KVM's costs (--dirty-cost ${config.dirtyCost})`}`,
    ],
    [
      'policy',
      `${config.policy}${verbose && config.precopyLoop === 'qemu' ? " (QEMU's own loop: a round is the interval from one dirty-log sync to the next)" : ''}` +
        ` · downtime limit ${formatMs(config.downtimeLimitMs)}` +
        (config.precopyLoop === 'qemu' ? '' : ` · max iterations ${config.maxIterations ?? "policy's own"}`) +
        ` · timeout ${config.timeoutMs === null ? 'none' : formatMs(config.timeoutMs)}`,
    ],
  ];
  return formatRows(rows, layout.width ?? Infinity);
}

export function formatContent(c: ResultConfig['content']): string {
  const shares = (m: { zeroPercent: number; textPercent: number; randomPercent: number }): string =>
    `${m.zeroPercent} % zero · ${m.textPercent} % text · ${m.randomPercent} % random`;
  const pl = c.placement;
  if (pl === undefined) return `${shares(c)} pages`;
  if (pl.hot !== undefined) return `hot set ${shares(pl.hot)} · the rest ${shares(c)}`;
  return `${shares(c)} pages · zero pages outside the hot set while they fit`;
}

export function formatPattern(p: WritePattern): string {
  switch (p.kind) {
    case 'uniform':
      return 'uniform';
    case 'sequential':
      return p.fraction === undefined ? 'sequential' : `sequential over ${percent(p.fraction)} of pages`;
    case 'hotset':
      return `hotset (${percent(p.fraction)} of pages take ${percent(p.probability)} of writes)`;
  }
}

function formatLink(bitsPerSec: number | null): string {
  return bitsPerSec === null ? 'unlimited' : formatBitRate(bitsPerSec);
}

// -------------------------------------------------------------------------------- round line

/** One line per round as it completes, for a terminal watching the run. */
export function formatRoundLine(it: IterationRecord, policyDecision?: string, width = Infinity): string {
  const line = [
    `round ${String(it.index).padStart(3)}`,
    it.phase.padEnd(13),
    `dirty ${count(it.dirtyPages).padStart(11)} pages`,
    `sent ${formatBytes(it.bytesSent).padStart(10)} in ${formatMs(it.durationMs).padStart(10)}`,
    `at ${formatBitRate(it.achievedLinkBitsPerSec).padStart(12)}`,
    `expected downtime ${formatMs(it.expectedDowntimeMs).padStart(10)}`,
  ].join('  ');
  const fitted = wrapText(line, width, 11);
  if (policyDecision === undefined || policyDecision === '') return fitted;
  const joined = `${line}  → ${policyDecision}`;
  return joined.length <= width ? joined : `${fitted}\n${wrapText(`    → ${policyDecision}`, width, 6)}`;
}

// ------------------------------------------------------------------------------------ result

/** Status line, then the stages, rounds and totals tables. */
export function formatResult(result: MigrationResult, width = Infinity): string {
  return [
    wrapText(formatStatusLine(result), width, 2),
    '',
    'Stages',
    formatStagesTable(result.stages, width),
    '',
    `Rounds (${result.iterations.length})`,
    formatRoundsTable(result.iterations, width),
    '',
    'Totals',
    formatTotalsTable(result, width),
    ...(result.totals.codec
      ? [
          '',
          `Codecs (${result.config.codecs.join(', ')}; ${result.config.compressThreads || 'no'} encoder threads)`,
          formatCodecTable(result, width),
        ]
      : []),
    ...(result.postcopy ? ['', 'Post-copy', formatPostcopyTable(result, width)] : []),
    ...(result.qemu
      ? ['', "QEMU's statistics (query-migrate's names; QEMU's wire bytes)", formatQemuTable(result, width)]
      : []),
  ].join('\n');
}

/** QEMU's own statistics of a --policy qemu run, beside migbench's. */
export function qemuTableOf(r: MigrationResult): ResultTable | null {
  const q = r.qemu;
  if (!q) return null;
  const t = newTable(['Statistic (unit)', 'Value', "migbench's own"], ['left', 'right', 'left']);
  const syncs = q.pagesPerSync;
  const shown =
    syncs.length > 12
      ? `${syncs.slice(0, 8).map(count).join(', ')}, … ${syncs.slice(-3).map(count).join(', ')}`
      : syncs.map(count).join(', ');
  t.push(
    [
      'dirty-sync-count (syncs)',
      count(q.dirtySyncCount),
      `${count(r.totals.iterations)} rounds (a round ends at a sync)`,
    ],
    ['pages per sync (pages)', shown, 'newly set in the bitmap'],
    [
      'transferred (MiB)',
      fixed(q.transferredBytes / 2 ** 20, 1),
      `${fixed(r.totals.bytesSent / 2 ** 20, 1)} MiB in migbench's frames`,
    ],
    ['normal (pages)', count(q.normalPages), 'sent whole'],
    ['duplicate (pages)', count(q.duplicatePages), 'zero pages'],
    ['ram_save_iterate calls', count(q.iterations), '18 bytes of framing each'],
    [
      'expected-downtime (ms)',
      q.expectedDowntimeMs === null ? '-' : fixed(q.expectedDowntimeMs, 1),
      `${fixed(r.totals.downtimeMs, 1)} ms measured`,
    ],
    ['cpu-throttle-percentage, highest (%)', count(q.maxThrottlePercent), ''],
  );
  if (q.downtimeMs !== undefined && q.postcopyBytes === undefined)
    t.push(['downtime (ms)', fixed(q.downtimeMs, 1), 'the stop to the device state written']);
  if (q.multifdBytes !== undefined)
    t.push(['multifd-bytes (MiB)', fixed(q.multifdBytes / 2 ** 20, 1), 'channels, counted once written']);
  if (q.postcopyBytes !== undefined) {
    const ms = (x: number | null | undefined): string => (x == null ? '-' : fixed(x, 1));
    t.push(
      ['postcopy-bytes (MiB)', fixed(q.postcopyBytes / 2 ** 20, 1), 'pages sent after the switch'],
      ['post-copy switch (bytes)', count(q.postcopySwitchBytes ?? 0), 'discards, commands, package (twice)'],
      ['postcopy-requests (requests)', count(q.postcopyRequests ?? 0), 'page faults on the target'],
      ['downtime (ms)', ms(q.downtimeMs), 'from the stop to the package written'],
      ['STOP to RESUME (ms)', ms(q.stopToResumeMs), 'source stop to target resume'],
      ['postcopy-blocktime (ms)', ms(q.postcopyBlocktimeMs), 'all vCPUs blocked at once'],
      [
        'postcopy-vcpu-blocktime (ms)',
        (q.postcopyVcpuBlocktimeMs ?? []).map((x) => fixed(x, 1)).join(' / '),
        'per vCPU',
      ],
    );
  }
  return t;
}

export function formatQemuTable(r: MigrationResult, width = Infinity): string {
  return qemuTableOf(r)?.toString(width) ?? '';
}

/** Per round and in total: bytes before and after encoding, ratio, zero pages, xbzrle's cache, CPU. */
export function codecTableOf(r: MigrationResult): ResultTable | null {
  const t = newTable(
    [
      'Round',
      'Before\n(MiB)',
      'After\n(MiB)',
      'Ratio',
      'Zero\npages',
      'xbzrle\nhits',
      'xbzrle\nmisses',
      'xbzrle\noverflows',
      'Encode\nCPU (ms)',
    ],
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
  const row = (label: string, c: CodecSummary): string[] => [
    label,
    fixed(c.bytesIn / 2 ** 20, 1),
    fixed(c.bytesOut / 2 ** 20, 1),
    c.ratio === null ? 'all zero' : fixed(c.ratio, 2),
    count(c.zeroPages),
    count(c.xbzrleCacheHits),
    count(c.xbzrleCacheMisses),
    count(c.xbzrleOverflows),
    fixed(c.encodeMs, 1),
  ];
  const rounds = r.iterations.filter((i) => i.codec !== undefined);
  const shown =
    rounds.length > ROUNDS_HEAD + ROUNDS_TAIL + 1
      ? [...rounds.slice(0, ROUNDS_HEAD), ...rounds.slice(-ROUNDS_TAIL)]
      : rounds;
  for (const i of shown) t.push(row(String(i.index), i.codec as CodecSummary));
  if (r.totals.codec) t.push(row('total', r.totals.codec));
  return t;
}

export function formatCodecTable(r: MigrationResult, width = Infinity): string {
  return codecTableOf(r)?.toString(width) ?? '';
}

export function postcopyTableOf(r: MigrationResult): ResultTable | null {
  const pc = r.postcopy;
  if (!pc) return null;
  const t = newTable(['Measure (unit)', 'Value'], ['left', 'right']);
  t.push(
    // QEMU's loop switches after a count of syncs (the request's dirty-sync-count), not of rounds.
    [r.qemu ? 'Switched after (dirty syncs)' : 'Switched after (pre-copy rounds)', count(pc.afterRounds)],
    ['Pages missing at resume (pages)', count(pc.pagesMissingAtResume)],
    ['Page requests by vCPUs (requests)', count(pc.requests)],
    ['Sent on request (pages)', count(pc.pagesSentOnRequest)],
    ['Pushed in the background (pages)', count(pc.pagesPushed)],
    ['Blocked per vCPU (ms)', pc.blockedMsPerVcpu.map((ms) => fixed(ms, 1)).join(' / ')],
    ['Last page arrived (ms)', fixed(pc.lastPageArrivedMs, 1)],
    [
      'Guest writes on target (writes/s)',
      `${count(pc.guestPageWritesPerSec)} (configured ${count(r.config.dirtyPagesPerSec)})`,
    ],
  );
  return t;
}

export function formatPostcopyTable(r: MigrationResult, width = Infinity): string {
  return postcopyTableOf(r)?.toString(width) ?? '';
}

export function formatStatusLine(r: MigrationResult): string {
  const parts = [`status: ${r.status}`, `verified: ${r.verified ? 'yes' : 'no'}`];
  if (r.status === 'failed') {
    parts.push(`reason: ${r.reason ?? 'not given'}`);
    parts.push(`source running: ${r.sourceRunning ? 'yes' : 'no'}`);
  }
  const over = downtimeOverLimit(r);
  if (over !== null) parts.push(over);
  if (r.switchoverReason !== undefined) parts.push(`switchover: ${r.switchoverReason}`);
  return parts.join(' · ');
}

/** A completed run whose downtime passed the limit its policy aims for (downtimeOver), said as such; null otherwise. */
export function downtimeOverLimit(r: MigrationResult): string | null {
  const over = downtimeOver(r);
  return over === null ? null : `DOWNTIME OVER ITS LIMIT: ${formatMs(over.downtimeMs)} > ${formatMs(over.limitMs)}`;
}

type Cell = string | { content: string; colSpan: number; hAlign: Table.HorizontalAlignment };

/**
 * A table of a result: text for terminals (cli-table3: no colours, the same text goes to
 * terminals, pipes and files; compact, no rule between rows) or an HTML table for reports. A
 * header's line breaks are kept in both.
 */
export class ResultTable {
  readonly rows: Cell[][] = [];
  /** Columns that name a row: a table cut into column groups repeats them in each. */
  keyColumns = 1;

  constructor(
    readonly head: string[],
    readonly align: Table.HorizontalAlignment[],
  ) {}

  push(...rows: Cell[][]): void {
    this.rows.push(...rows);
  }

  /**
   * The table as text. Wider than `width` columns, it is cut into tables of as many columns as fit,
   * one under the other, each repeating the first column (the row's name) so its rows still read.
   */
  toString(width = Infinity): string {
    const all = this.head.map((_, i) => i);
    const whole = this.render(all);
    if (tableWidth(whole) <= width || this.head.length <= 2) return whole;
    // A table of a few columns whose last holds words (a reference, a note): that column wraps.
    if (this.head.length <= 3 && this.align[this.head.length - 1] === 'left') {
      const others = tableWidth(this.render(all.slice(0, -1)));
      const last = Math.max(20, width - others - 1);
      return this.render(all, last);
    }
    const parts: string[] = [];
    const keys = all.slice(0, Math.max(1, Math.min(this.keyColumns, this.head.length - 1)));
    let group = [...keys];
    for (let i = keys.length; i < this.head.length; i++) {
      const tried = [...group, i];
      if (group.length > keys.length && tableWidth(this.render(tried)) > width) {
        parts.push(this.render(group));
        group = [...keys, i];
      } else group = tried;
    }
    parts.push(this.render(group));
    return parts.join('\n');
  }

  /** The table of these columns; `lastWidth`: the last column that wide (borders included), its words wrapped. */
  private render(columns: readonly number[], lastWidth?: number): string {
    const pick = <T>(xs: readonly T[]): T[] => columns.map((i) => xs[i]);
    const t = new Table({
      head: pick(this.head),
      colAligns: pick(this.align),
      style: { head: [], border: [], compact: true },
      ...(lastWidth === undefined
        ? {}
        : { colWidths: [...columns.slice(0, -1).map(() => null), lastWidth], wordWrap: true }),
    });
    const rows = this.rows.map((r) =>
      r.length === 1 && typeof r[0] !== 'string' ? [{ ...r[0], colSpan: columns.length }] : pick(r),
    );
    t.push(...(rows as Table.HorizontalTableRow[]));
    return t.toString();
  }

  toHtml(): string {
    const esc = (x: string): string =>
      x.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    const cls = (i: number): string => (this.align[i] === 'right' ? ' class="num"' : '');
    const head = this.head.map((h, i) => `<th${cls(i)}>${esc(h).replace(/\n/g, '<br>')}</th>`).join('');
    const body = this.rows
      .map(
        (r) =>
          `<tr>${r.map((c, i) => (typeof c === 'string' ? `<td${cls(i)}>${esc(c)}</td>` : `<td colspan="${c.colSpan}" class="note">${esc(c.content)}</td>`)).join('')}</tr>`,
      )
      .join('');
    return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
  }
}

function tableWidth(text: string): number {
  return Math.max(...text.split('\n').map((l) => [...l].length));
}

export function newTable(head: string[], colAligns: Table.HorizontalAlignment[]): ResultTable {
  return new ResultTable(head, colAligns);
}

export function stagesTableOf(stages: readonly StageRecord[]): ResultTable | null {
  const t = newTable(['Stage', 'Start\n(ms)', 'Duration\n(ms)'], ['left', 'right', 'right']);
  for (const s of stages) t.push([s.name, fixed(s.startMs, 1), fixed(s.durationMs, 1)]);
  return t;
}

export function formatStagesTable(stages: readonly StageRecord[], width = Infinity): string {
  return stagesTableOf(stages)?.toString(width) ?? '';
}

interface RoundColumn {
  head: string;
  align: 'left' | 'right';
  cell: (i: IterationRecord) => string;
}

export function roundsTableOf(iterations: readonly IterationRecord[]): ResultTable | null {
  const bytes = binaryUnit(Math.max(0, ...iterations.map((i) => i.bytesSent)));
  const link = bitRateUnit(Math.max(0, ...iterations.map((i) => finiteOr0(i.achievedLinkBitsPerSec))));
  const columns: RoundColumn[] = [
    { head: 'Round', align: 'right', cell: (i) => String(i.index) },
    { head: 'Phase', align: 'left', cell: (i) => i.phase },
    { head: 'Dirty\n(pages)', align: 'right', cell: (i) => count(i.dirtyPages) },
    { head: 'Sent\n(pages)', align: 'right', cell: (i) => count(i.pagesSent) },
    { head: 'Resent\nunchanged', align: 'right', cell: (i) => count(i.pagesResentUnchanged) },
    { head: `Sent\n(${bytes.name})`, align: 'right', cell: (i) => fixed(i.bytesSent / bytes.divisor, bytes.digits) },
    { head: 'Duration\n(ms)', align: 'right', cell: (i) => fixed(i.durationMs, 1) },
    { head: 'Scan\n(ms)', align: 'right', cell: (i) => fixed(i.scanMs, 2) },
    { head: 'Dirty rate\n(pages/s)', align: 'right', cell: (i) => count(i.dirtyPagesPerSec) },
    {
      head: `Link rate\n(${link.name})`,
      align: 'right',
      cell: (i) => fixed(i.achievedLinkBitsPerSec / link.divisor, 2),
    },
    { head: 'Expected\ndowntime (ms)', align: 'right', cell: (i) => fixed(i.expectedDowntimeMs, 1) },
  ];
  if (iterations.some((i) => i.throttlePercent > 0)) {
    columns.push({ head: 'Throttle\n(%)', align: 'right', cell: (i) => fixed(i.throttlePercent, 0) });
  }
  if (iterations.some((i) => i.rateLimitBitsPerSec !== null)) {
    columns.push({
      head: 'Rate limit\n(Mbit/s)',
      align: 'right',
      cell: (i) => (i.rateLimitBitsPerSec === null ? 'link' : fixed(i.rateLimitBitsPerSec / 1e6, 0)),
    });
  }
  if (new Set(iterations.map((i) => i.downtimeLimitMs)).size > 1) {
    columns.push({ head: 'Downtime\nlimit (ms)', align: 'right', cell: (i) => fixed(i.downtimeLimitMs, 0) });
  }
  columns.push({ head: 'Guest\nwrites/s', align: 'right', cell: (i) => count(i.guestPageWritesPerSec) });
  if (iterations.some((i) => i.ringFullStalls !== undefined)) {
    columns.push(
      { head: 'Ring-full\nstalls', align: 'right', cell: (i) => count(i.ringFullStalls ?? 0) },
      { head: 'Stalled\n(ms)', align: 'right', cell: (i) => fixed(i.ringStallMs ?? 0, 1) },
    );
  }
  if (iterations.some((i) => i.dirtyCost !== undefined)) {
    columns.push(
      {
        head: 'Host dirty-\ntrack (ms)',
        align: 'right',
        cell: (i) => (i.dirtyCost ? fixed(hostCostMs(i.dirtyCost), 2) : ''),
      },
      {
        head: 'Guest faults\n(ms, vCPUs)',
        align: 'right',
        cell: (i) => (i.dirtyCost ? fixed(guestCostMs(i.dirtyCost), 1) : ''),
      },
    );
  }
  const t = newTable(
    columns.map((c) => c.head),
    columns.map((c) => c.align),
  );
  const row = (i: IterationRecord): string[] => columns.map((c) => c.cell(i));
  if (iterations.length <= ROUNDS_HEAD + ROUNDS_TAIL + 1) {
    for (const i of iterations) t.push(row(i));
  } else {
    for (const i of iterations.slice(0, ROUNDS_HEAD)) t.push(row(i));
    const hidden = iterations.length - ROUNDS_HEAD - ROUNDS_TAIL;
    t.push([{ content: `… ${hidden} rounds not shown (see --json) …`, colSpan: columns.length, hAlign: 'center' }]);
    for (const i of iterations.slice(-ROUNDS_TAIL)) t.push(row(i));
  }
  return t;
}

export function formatRoundsTable(iterations: readonly IterationRecord[], width = Infinity): string {
  return roundsTableOf(iterations)?.toString(width) ?? '';
}

/** The Totals' downtime row: against the limit (flagged when over it), or none for a failed run whose guest never paused. */
function downtimeRow(r: MigrationResult): [string, string, string] {
  const c = r.config;
  const ms = r.totals.downtimeMs;
  if (r.status === 'failed' && r.sourceRunning && ms === 0)
    return ['Downtime (ms)', '–', 'none: the guest stayed running on the source'];
  const aims = aimsForDowntimeLimit(c);
  return [
    'Downtime (ms)',
    fixed(ms, 1),
    `limit ${formatMs(c.downtimeLimitMs)}${aims ? '' : ` (a qemu policy target; ${c.policy} ignores it)`}` +
      (downtimeOverLimit(r) === null ? '' : ` — OVER IT by ${formatMs(ms - c.downtimeLimitMs)}`),
  ];
}

export function totalsTableOf(r: MigrationResult): ResultTable | null {
  const c = r.config;
  const tot = r.totals;
  const precopyRounds = r.iterations.filter((i) => i.phase === 'precopy').length;
  const link = bitRateUnit(Math.max(finiteOr0(tot.achievedLinkBitsPerSec), c.linkBitsPerSec ?? 0));
  const bytes = binaryUnit(tot.bytesSent);
  const configuredDirty = c.dirtyPagesPerSec;
  const t = newTable(['Measure (unit)', 'Value', 'Reference'], ['left', 'right', 'left']);
  // A failed run's figures are what it did before it failed: said so.
  const failed = r.status === 'failed';
  t.push(
    [
      'Total time (ms)',
      fixed(tot.totalTimeMs, 1),
      `${failed ? 'connect to the failure' : 'connect to announce'}${tot.totalTimeMs >= 1000 ? ` = ${formatMs(tot.totalTimeMs)}` : ''}`,
    ],
    downtimeRow(r),
    [
      `Bytes sent (${bytes.name})`,
      fixed(tot.bytesSent / bytes.divisor, bytes.digits),
      `${fixed(tot.ramMultiplesSent, 2)} × RAM (${formatBytes(c.ramBytes)})`,
    ],
    [
      'Pages sent (pages)',
      count(tot.pagesSent),
      `${failed ? 'in the rounds recorded (not the one the failure cut short); ' : ''}RAM is ${count(c.ramBytes / c.pageSizeBytes)} pages`,
    ],
    [
      'Iterations (rounds)',
      count(tot.iterations),
      `${precopyRounds} pre-copy + ${tot.iterations - precopyRounds} stop-and-copy${failed ? ', recorded before the failure' : ''}`,
    ],
    [
      `Achieved link rate (${link.name})`,
      fixed(tot.achievedLinkBitsPerSec / link.divisor, 2),
      `configured ${formatLink(c.linkBitsPerSec)}`,
    ],
    [
      'Achieved dirty rate (pages/s)',
      count(tot.achievedDirtyPagesPerSec),
      `configured ${count(configuredDirty)} pages/s = ${formatByteRate(configuredDirty * c.pageSizeBytes)}` +
        (configuredDirty > 0 ? ` (${percent(tot.achievedDirtyPagesPerSec / configuredDirty)} achieved)` : ''),
    ],
    ['Guest page writes (writes)', count(tot.guestPageWrites), 'by all vCPUs while live'],
  );
  const w = r.workload;
  if (w)
    t.push([
      'Trace pace (%)',
      fixed(w.pacePercent, 1),
      `${count(w.writes)} of the ${count(w.recordedWrites)} page writes the trace has in the time the guest ran`,
    ]);
  const d = tot.dirtyCost;
  if (d) {
    const parts = (Object.entries(d.host) as [string, number][])
      .filter(([, ms]) => ms > 0)
      .map(([k, ms]) => `${k.replace(/Ms$/, '')} ${fixed(ms, 2)}`);
    t.push(
      [
        'Dirty tracking, host (ms)',
        fixed(hostCostMs(d), 2),
        `the migration thread waited (--dirty-cost ${c.dirtyCost ?? 'kvm'}): ${parts.join(', ') || 'nothing'}`,
      ],
      [
        'Dirty tracking, guest (ms)',
        fixed(guestCostMs(d), 1),
        `summed over vCPUs: ${count(d.guest.faults)} write-protect faults ${fixed(d.guest.faultMs, 1)} ms` +
          (d.guest.ringFullExits > 0
            ? `, ${count(d.guest.ringFullExits)} ring-full exits ${fixed(d.guest.ringFullExitMs, 1)} ms`
            : ''),
      ],
    );
  }
  const g = tot.guestPerf;
  if (g) {
    const pace = (rate: number | null, ms: number | null): string =>
      rate === null ? 'n/a' : `${count(rate)} writes/s${ms === null ? '' : ` = ${fixed(ms, 0)} ms per GiB`}`;
    t.push(
      [
        'Guest pace before (writes/s)',
        count(g.beforePageWritesPerSec),
        pace(g.beforePageWritesPerSec, g.beforeMsPerGiB),
      ],
      [
        'Guest pace during (writes/s)',
        count(g.duringPageWritesPerSec),
        `${pace(g.duringPageWritesPerSec, g.duringMsPerGiB)}${g.slowdownDuring === null ? '' : ` (${percent(g.slowdownDuring)} of before)`}`,
      ],
    );
    if (g.afterPageWritesPerSec !== null) {
      t.push([
        'Guest pace after (writes/s)',
        count(g.afterPageWritesPerSec),
        `${pace(g.afterPageWritesPerSec, g.afterMsPerGiB)} on the target, post-copy`,
      ]);
    }
  }
  return t;
}

export function formatTotalsTable(r: MigrationResult, width = Infinity): string {
  return totalsTableOf(r)?.toString(width) ?? '';
}

// ---------------------------------------------------------------------------- number helpers

interface ColumnUnit {
  name: string;
  divisor: number;
  digits: number;
}

/** The largest binary unit the column's maximum reaches, so every cell reads in one unit. */
function binaryUnit(maxBytes: number): ColumnUnit {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let unit: ColumnUnit = { name: 'B', divisor: 1, digits: 0 };
  units.forEach((name, i) => {
    const divisor = 1024 ** (i + 1);
    if (maxBytes >= divisor) unit = { name, divisor, digits: i >= 2 ? 2 : 1 };
  });
  return unit;
}

/** The largest decimal bit-rate unit the column's maximum reaches. */
function bitRateUnit(maxBitsPerSec: number): ColumnUnit {
  const units = ['kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'];
  let unit: ColumnUnit = { name: 'bit/s', divisor: 1, digits: 0 };
  units.forEach((name, i) => {
    const divisor = 1000 ** (i + 1);
    if (maxBitsPerSec >= divisor) unit = { name, divisor, digits: 2 };
  });
  return unit;
}

function finiteOr0(v: number): number {
  return Number.isFinite(v) ? v : 0;
}
