/**
 * An evacuation's report: the VMs' table and the host's (text), and an HTML page with a timeline
 * (one lane per VM: its pre-copy rounds, its suspension, its post-copy) and the NIC's throughput
 * over time split by VM.
 */
import { downtimeOverLimit, newTable as table } from './human.js';
import type { EvacuationResult, EvacuationResultConfig } from '../evacuate/result.js';
import { formatBitRate, formatBytes, formatMs } from '../util/format.js';
import { CHART_WIDTH, type ChartSpec } from './charts/render.js';
import { levelLayers } from './charts/reference.js';
import { esc, figure, htmlTable, page, type ReportMeta } from './html.js';

const MIB = 2 ** 20;

function fixed(n: number, digits: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Per VM, in the order they were listed. */
export function vmRows(r: EvacuationResult): string[][] {
  return r.vms.map((v) => {
    const t = v.result?.totals;
    return [
      v.name,
      fixed(v.ramBytes / MIB, 0),
      fixed(v.dirtyBytesPerSec / 1e6, 1),
      v.target ?? '-',
      v.startOrder === null ? '-' : String(v.startOrder + 1),
      v.startMs === null ? '-' : fixed(v.startMs / 1000, 2),
      v.endMs === null ? '-' : fixed(v.endMs / 1000, 2),
      t ? fixed(t.totalTimeMs / 1000, 2) : '-',
      t && v.status === 'migrated' ? fixed(t.downtimeMs, 1) : '-',
      t ? String(t.iterations) : '-',
      t ? fixed(t.bytesSent / MIB, 1) : '-',
      v.status === 'migrated'
        ? `migrated${v.result?.verified ? ', verified' : ''}${v.result && downtimeOverLimit(v.result) !== null ? `; DOWNTIME OVER ITS LIMIT (${fixed(v.result.config.downtimeLimitMs, 1)} ms)` : ''}`
        : `LEFT: ${v.reason ?? ''}`,
    ];
  });
}

export const VM_HEAD = [
  'VM',
  'RAM (MiB)',
  'Dirty rate (MB/s)',
  'Target',
  'Started (#)',
  'Start (s)',
  'End (s)',
  'Total (s)',
  'Downtime (ms)',
  'Rounds',
  'Sent (MiB)',
  'Outcome',
];

export function hostRows(r: EvacuationResult): [string, string, string][] {
  const h = r.host;
  const c = r.config;
  const nic = r.nic;
  return [
    ['Evacuation time (s)', fixed(h.evacuationTimeMs / 1000, 3), 'first start to last announce'],
    ['VMs migrated (VMs)', String(h.migrated), `of ${r.vms.length}; every one verified byte for byte`],
    [
      'VMs left behind (VMs)',
      String(h.leftBehind),
      h.leftBehind > 0
        ? r.vms
            .filter((v) => v.status !== 'migrated')
            .map((v) => v.name)
            .join(', ')
        : '',
    ],
    ['Downtime, sum (ms)', fixed(h.downtimeSumMs, 1), 'over the migrated VMs'],
    ['Downtime, max (ms)', fixed(h.downtimeMaxMs, 1), h.downtimeMaxVm ?? ''],
    [
      'Bytes sent (GiB)',
      fixed(h.bytesSent / 2 ** 30, 3),
      `RAM is ${formatBytes(r.vms.reduce((n, v) => n + v.ramBytes, 0))}`,
    ],
    [
      'NIC throughput, mean (Gbit/s)',
      fixed(nic.meanBitsPerSec / 1e9, 3),
      nic.utilisation === null
        ? 'unlimited NIC'
        : `${fixed(nic.utilisation * 100, 1)} % of the ${formatBitRate(nic.availableBitsPerSec ?? 0)} migrations may use`,
    ],
    [
      'NIC throughput, peak (Gbit/s)',
      fixed(nic.peakBitsPerSec / 1e9, 3),
      `in ${formatMs(nic.bucketMs)} buckets; NIC ${c.nicBitsPerSec === null ? 'unlimited' : formatBitRate(c.nicBitsPerSec)}${c.backgroundBitsPerSec > 0 ? `, ${formatBitRate(c.backgroundBitsPerSec)} background` : ''}`,
    ],
    [
      'Migrations at once, peak',
      String(h.peakConcurrent),
      `limit ${c.maxConcurrent} per source${c.maxPerTarget === null ? '' : `, ${c.maxPerTarget} per target`}`,
    ],
    ['Wall time (s)', fixed(h.wallTimeMs / 1000, 1), `real time, set-ups included (${c.clock} clock)`],
  ];
}

export function formatEvacuationHeader(c: EvacuationResultConfig, ramBytes: readonly number[]): string {
  const limits = [
    c.completionTimeoutPerGibMs === null
      ? null
      : `completion timeout ${formatMs(c.completionTimeoutPerGibMs)}/GiB -> ${c.onCompletionTimeout}`,
    c.progressTimeoutMs === null ? null : `progress timeout ${formatMs(c.progressTimeoutMs)} -> ${c.onProgressTimeout}`,
  ].filter((x) => x !== null);
  return [
    `evacuation of ${ramBytes.length} VMs (${formatBytes(ramBytes.reduce((n, b) => n + b, 0))}) over a ${c.nicBitsPerSec === null ? 'unlimited' : formatBitRate(c.nicBitsPerSec)} NIC` +
      `${c.backgroundBitsPerSec > 0 ? ` (${formatBitRate(c.backgroundBitsPerSec)} of it background traffic)` : ''} to ${c.targets.join(', ')}`,
    `at most ${c.maxConcurrent} at once${c.maxPerTarget === null ? '' : `, ${c.maxPerTarget} per target`} · order ${c.order}` +
      `${c.bandwidthPerMigrationBitsPerSec === null ? '' : ` · ${formatBitRate(c.bandwidthPerMigrationBitsPerSec)} per migration`}` +
      `${limits.length > 0 ? ` · ${limits.join(' · ')}` : ''} · ${c.clock} clock · seed ${c.seed}`,
  ].join('\n');
}

export function formatEvacuation(r: EvacuationResult, width = Infinity): string {
  const vt = table(VM_HEAD, [
    'left',
    'right',
    'right',
    'left',
    'right',
    'right',
    'right',
    'right',
    'right',
    'right',
    'right',
    'left',
  ]);
  for (const row of vmRows(r)) vt.push(row);
  const ht = table(['Host (unit)', 'Value', 'Reference'], ['left', 'right', 'left']);
  for (const row of hostRows(r)) ht.push(row);
  const status =
    r.status === 'completed'
      ? 'EVACUATED: every VM migrated and verified'
      : r.status === 'partial'
        ? `PARTIAL: ${r.host.leftBehind} VM${r.host.leftBehind === 1 ? '' : 's'} left on the source`
        : 'FAILED: no VM migrated';
  // A VM paused longer than the limit its policy aims for is said beside the headline, not under it.
  const over = r.vms.filter((v) => v.status === 'migrated' && v.result && downtimeOverLimit(v.result) !== null);
  const overText =
    over.length === 0
      ? ''
      : ` · ${over.length} VM${over.length === 1 ? '' : 's'} OVER ${over.length === 1 ? 'ITS' : 'THEIR'} DOWNTIME LIMIT: ${over
          .map(
            (v) => `${v.name} ${formatMs(v.result!.totals.downtimeMs)} > ${formatMs(v.result!.config.downtimeLimitMs)}`,
          )
          .join(', ')}`;
  return `${status}${overText}\n\n${vt.toString(width)}\n\n${ht.toString(width)}`;
}

// -------------------------------------------------------------------------------- HTML

/** One lane per VM: pre-copy rounds, the suspension (stop-and-copy to resume), post-copy. */
export function timelineSpec(r: EvacuationResult): ChartSpec {
  const values: { vm: string; phase: string; start: number; end: number; detail: string }[] = [];
  for (const v of r.vms) {
    if (v.startMs === null || v.result === undefined) continue;
    const at = (ms: number): number => (v.startMs as number) + ms;
    for (const it of v.result.iterations.filter((i) => i.phase === 'precopy')) {
      values.push({
        vm: v.name,
        phase: 'pre-copy round',
        start: at(it.startMs) / 1000,
        end: at(it.startMs + it.durationMs) / 1000,
        detail: `round ${it.index}: ${fixed(it.bytesSent / MIB, 1)} MiB`,
      });
    }
    const stage = (name: string) => v.result?.stages.find((s) => s.name === name);
    const stop = stage('stop-and-copy');
    const resume = stage('resume');
    if (stop && resume)
      values.push({
        vm: v.name,
        phase: 'suspended',
        start: at(stop.startMs) / 1000,
        end: at(resume.startMs + resume.durationMs) / 1000,
        detail: `downtime ${fixed(v.result.totals.downtimeMs, 1)} ms`,
      });
    const pc = stage('postcopy');
    if (pc)
      values.push({
        vm: v.name,
        phase: 'post-copy',
        start: at(pc.startMs) / 1000,
        end: at(pc.startMs + pc.durationMs) / 1000,
        detail: 'pages pushed and requested',
      });
    if (v.status !== 'migrated' && v.endMs !== null)
      values.push({
        vm: v.name,
        phase: 'cancelled / failed',
        start: v.endMs / 1000,
        end: v.endMs / 1000 + Math.max(0.002, r.host.evacuationTimeMs / 400000),
        detail: v.reason ?? '',
      });
  }
  return {
    title: 'timeline: one lane per VM',
    width: CHART_WIDTH * 2,
    height: Math.max(60, 22 * r.vms.length),
    data: { values },
    mark: { type: 'bar', stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      y: { field: 'vm', type: 'nominal', title: null, sort: r.vms.map((v) => v.name) },
      x: { field: 'start', type: 'quantitative', title: 'time since the first start (s)', axis: { titleLimit: 400 } },
      x2: { field: 'end' },
      color: {
        field: 'phase',
        type: 'nominal',
        title: 'phase',
        scale: {
          domain: ['pre-copy round', 'suspended', 'post-copy', 'cancelled / failed'],
          range: PHASE_COLOURS,
        },
      },
      tooltip: [
        { field: 'vm' },
        { field: 'phase' },
        { field: 'start', format: ',.3f' },
        { field: 'end', format: ',.3f' },
        { field: 'detail' },
      ],
    },
  };
}

/**
 * Phases are shades of grey (and black for a failure); VMs are colours (Tableau's 20, which tell
 * 20 VMs apart): a VM's colour is never read as a phase, or the other way round.
 */
export const PHASE_COLOURS = ['#a6a6a6', '#3a3a3a', '#d9d9d9', '#000000'];
export const VM_SCHEME = 'tableau20';

function vmColour(r: EvacuationResult): object {
  return { field: 'vm', type: 'nominal', title: 'VM', sort: r.vms.map((v) => v.name), scale: { scheme: VM_SCHEME } };
}

/** Each guest's pace during its migration (page writes/s as a share of its pace before), on the evacuation's clock. */
export function paceSpec(r: EvacuationResult): ChartSpec | undefined {
  const values: { vm: string; from: number; to: number; percent: number; phase: string }[] = [];
  for (const v of r.vms) {
    const g = v.result?.totals.guestPerf;
    if (v.startMs === null || !v.result || !g || g.beforePageWritesPerSec <= 0) continue;
    for (const i of v.result.iterations)
      values.push({
        vm: v.name,
        from: (v.startMs + i.startMs) / 1000,
        to: (v.startMs + i.startMs + i.durationMs) / 1000,
        percent: i.phase === 'precopy' ? (100 * i.guestPageWritesPerSec) / g.beforePageWritesPerSec : 0,
        phase: i.phase,
      });
  }
  if (values.length === 0) return undefined;
  return {
    title: "each guest's pace during its migration",
    width: CHART_WIDTH * 2,
    height: 220,
    layer: [
      {
        data: { values },
        mark: { type: 'rule', strokeWidth: 3 },
        encoding: {
          x: {
            field: 'from',
            type: 'quantitative',
            title: 'time since the first start (s)',
            axis: { titleLimit: 400 },
          },
          x2: { field: 'to' },
          y: { field: 'percent', type: 'quantitative', title: 'pace (% of before)' },
          color: vmColour(r),
          tooltip: [{ field: 'vm' }, { field: 'phase' }, { field: 'percent', format: ',.1f' }],
        },
      },
      ...levelLayers('before', 100, 'its pace before'),
    ],
  } as ChartSpec;
}

/** The NIC's throughput over time, stacked by VM. */
export function nicSpec(r: EvacuationResult): ChartSpec {
  const values: { t: number; vm: string; gbps: number }[] = [];
  for (const s of r.nic.series)
    s.bitsPerSec.forEach((b, i) => values.push({ t: (i * r.nic.bucketMs) / 1000, vm: s.vm, gbps: b / 1e9 }));
  const layers: unknown[] = [
    {
      data: { values },
      mark: { type: 'area', interpolate: 'step-after' },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'time since the first start (s)', axis: { titleLimit: 400 } },
        y: { field: 'gbps', type: 'quantitative', stack: 'zero', title: 'NIC throughput (Gbit/s)' },
        color: vmColour(r),
        order: { field: 'vm' },
      },
    },
  ];
  if (r.nic.availableBitsPerSec !== null) {
    const rate = formatBitRate(r.nic.availableBitsPerSec);
    const label = r.config.backgroundBitsPerSec > 0 ? `the NIC less background, ${rate}` : `the NIC, ${rate}`;
    layers.push(...levelLayers('nic', r.nic.availableBitsPerSec / 1e9, label));
  }
  return { title: 'the NIC, by VM', width: CHART_WIDTH * 2, height: 220, layer: layers } as ChartSpec;
}

export async function renderEvacuationHtml(r: EvacuationResult, meta: ReportMeta): Promise<string> {
  const parts: string[] = [];
  parts.push(
    '<h1>Host evacuation</h1>',
    `<p class="meta">${esc(
      formatEvacuationHeader(
        r.config,
        r.vms.map((v) => v.ramBytes),
      ),
    ).replace(/\n/g, '<br>')}</p>`,
  );
  const e = r.environment;
  parts.push(
    `<p class="meta">Node ${esc(e.node)} · ${esc(e.platform)}/${esc(e.arch)} · ${esc(e.cpu)} · ${e.cores} cores · started ${esc(r.startedAt)}</p>`,
  );
  parts.push('<h2>Host</h2>', htmlTable(['Host (unit)', 'Value', 'Reference'], hostRows(r), 1));
  parts.push('<h2>Timeline</h2>', `<div class="charts">${await figure(timelineSpec(r))}</div>`);
  parts.push('<h2>NIC</h2>', `<div class="charts">${await figure(nicSpec(r))}</div>`);
  const pace = paceSpec(r);
  if (pace) parts.push('<h2>Guests</h2>', `<div class="charts">${await figure(pace)}</div>`);
  parts.push('<h2>VMs</h2>', htmlTable(VM_HEAD, vmRows(r), 1));
  return page('migbench evacuate', parts.join('\n'), meta);
}
