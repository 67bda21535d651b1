/**
 * An evacuation suite's summary (src/evacuate/suite.ts): per configuration, evacuation time, worst
 * and summed downtime, VMs left behind and bytes over its repeats; and the answer to "is one at a
 * time fastest?" when the matrix varies max-concurrent.
 */
import type { EvacuationResult } from './result.js';
import { statsOf, type Stats } from '../suite/summary.js';

/** What a summary needs of a plan. */
export interface SummaryPlan {
  variedKeys: string[];
  runs: { runId: string; configId: string; varied: Record<string, string> }[];
}

type Stat = Pick<Stats, 'mean' | 'min' | 'max'>;

export interface EvacuationSummaryRow {
  varied: Record<string, string>;
  runs: number;
  completed: number;
  evacuationS: Stat | null;
  worstDowntimeMs: Stat | null;
  sumDowntimeMs: Stat | null;
  leftBehind: Stat | null;
  sentGiB: Stat | null;
  /** One result of the configuration, for its timeline. */
  sample?: EvacuationResult;
}

function stat(xs: number[]): Stats | null {
  return statsOf(xs) ?? null;
}

export function summarizeEvacuations(
  plan: SummaryPlan,
  latest: ReadonlyMap<string, { result?: EvacuationResult }>,
): EvacuationSummaryRow[] {
  const byConfig = new Map<string, SummaryPlan['runs']>();
  for (const r of plan.runs) byConfig.set(r.configId, [...(byConfig.get(r.configId) ?? []), r]);
  return [...byConfig.values()].map((runs) => {
    const results = runs.map((r) => latest.get(r.runId)?.result).filter((x): x is EvacuationResult => x !== undefined);
    return {
      varied: runs[0].varied,
      runs: runs.length,
      completed: results.length,
      evacuationS: stat(results.map((x) => x.host.evacuationTimeMs / 1000)),
      worstDowntimeMs: stat(results.map((x) => x.host.downtimeMaxMs)),
      sumDowntimeMs: stat(results.map((x) => x.host.downtimeSumMs)),
      leftBehind: stat(results.map((x) => x.host.leftBehind)),
      sentGiB: stat(results.map((x) => x.host.bytesSent / 2 ** 30)),
      sample: results[0],
    };
  });
}

function cell(s: Stat | null, digits: number): string {
  if (s === null) return '-';
  const f = (n: number): string => n.toFixed(digits);
  return s.min === s.max ? f(s.mean) : `${f(s.mean)} (${f(s.min)} – ${f(s.max)})`;
}

export const SUMMARY_HEAD = [
  'evacuation (s)',
  'worst downtime (ms)',
  'downtime sum (ms)',
  'left behind (VMs)',
  'sent (GiB)',
];

export function summaryCells(plan: SummaryPlan, rows: EvacuationSummaryRow[]): { head: string[]; rows: string[][] } {
  return {
    head: [...plan.variedKeys, ...SUMMARY_HEAD],
    rows: rows.map((r) => [
      ...plan.variedKeys.map((k) => r.varied[k] ?? ''),
      cell(r.evacuationS, 3),
      cell(r.worstDowntimeMs, 1),
      cell(r.sumDowntimeMs, 1),
      cell(r.leftBehind, 0),
      cell(r.sentGiB, 3),
    ]),
  };
}

/**
 * The suite's answer, when it varies max-concurrent: for each setting of the other varied options,
 * the limit with the shortest evacuation and the one with the smallest worst downtime (means, and
 * whether the min-max ranges of the best and the runner-up overlap).
 */
export function findings(plan: SummaryPlan, rows: EvacuationSummaryRow[]): string[] {
  if (!plan.variedKeys.includes('max-concurrent')) return [];
  const others = plan.variedKeys.filter((k) => k !== 'max-concurrent');
  const groups = new Map<string, EvacuationSummaryRow[]>();
  for (const r of rows) {
    const label =
      others
        .filter((k) => r.varied[k] !== undefined)
        .map((k) => `${k} ${r.varied[k]}`)
        .join(', ') || 'all';
    groups.set(label, [...(groups.get(label) ?? []), r]);
  }
  const lines: string[] = [];
  const best = (
    rs: EvacuationSummaryRow[],
    pick: (r: EvacuationSummaryRow) => Stat | null,
  ): { row: EvacuationSummaryRow; s: Stat; next?: { row: EvacuationSummaryRow; s: Stat } } | null => {
    const ranked = rs
      .flatMap((r) => {
        const s = pick(r);
        return s === null || (r.leftBehind?.max ?? 0) > 0 ? [] : [{ row: r, s }];
      })
      .sort((a, b) => a.s.mean - b.s.mean);
    return ranked.length === 0 ? null : { ...ranked[0], next: ranked[1] };
  };
  let oneFastest = 0;
  let oneBestDowntime = 0;
  for (const [label, rs] of [...groups].filter(([, g]) => g.length >= 2)) {
    const t = best(rs, (r) => r.evacuationS);
    const d = best(rs, (r) => r.worstDowntimeMs);
    if (t === null || d === null) continue;
    const tie = (b: NonNullable<typeof t>): string =>
      b.next && b.next.s.min <= b.s.max
        ? ` (its range overlaps max-concurrent ${b.next.row.varied['max-concurrent']}'s)`
        : '';
    if (t.row.varied['max-concurrent'] === '1') oneFastest++;
    if (d.row.varied['max-concurrent'] === '1') oneBestDowntime++;
    lines.push(
      `- ${label}: fastest evacuation at max-concurrent ${t.row.varied['max-concurrent']} (${t.s.mean.toFixed(3)} s${t.next ? ` vs ${t.next.s.mean.toFixed(3)} s at ${t.next.row.varied['max-concurrent']}` : ''})${tie(t)}; ` +
        `smallest worst downtime at max-concurrent ${d.row.varied['max-concurrent']} (${d.s.mean.toFixed(1)} ms${d.next ? ` vs ${d.next.s.mean.toFixed(1)} ms at ${d.next.row.varied['max-concurrent']}` : ''})${tie(d)}.`,
    );
  }
  if (lines.length === 0) return [];
  return [
    `One migration at a time was fastest for the evacuation in ${oneFastest} of ${lines.length} settings, and gave the smallest worst downtime in ${oneBestDowntime} of ${lines.length} (configurations that left a VM behind are not ranked).`,
    ...lines,
  ];
}
