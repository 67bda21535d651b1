/** Bytes sent so far against time, with the window in which the guest was suspended shaded. */
import type { MigrationResult } from '../../result/schema.js';
import { CHART_HEIGHT, CHART_WIDTH, type ChartSpec } from './render.js';
import { REFERENCE_STYLE, REFERENCE_TEXT, levelLayers } from './reference.js';
import { formatBitRate, formatBytes } from '../../util/format.js';

const MIB = 1024 * 1024;

export function bytesOverTimeSpec(result: MigrationResult, title = 'bytes sent over time'): ChartSpec | undefined {
  if (result.iterations.length === 0) return undefined;
  const first = result.iterations[0];
  const values = [{ t: first.startMs, mib: 0, round: 'start' }];
  let bytes = 0;
  for (const i of result.iterations) {
    bytes += i.bytesSent;
    values.push({ t: i.startMs + i.durationMs, mib: bytes / MIB, round: `end of round ${i.index} (${i.phase})` });
  }
  const line = {
    data: { values },
    mark: { type: 'line' as const, point: true },
    encoding: {
      x: { field: 't', type: 'quantitative' as const, title: 'time since connect (ms)' },
      y: { field: 'mib', type: 'quantitative' as const, title: 'sent (MiB)' },
      tooltip: [
        { field: 'round' },
        { field: 't', title: 'ms', format: ',.1f' },
        { field: 'mib', title: 'MiB', format: ',.1f' },
      ],
    },
  };
  const references = [
    ...levelLayers('ram', result.config.ramBytes / MIB, `RAM ${formatBytes(result.config.ramBytes)}`),
    ...linkLayers(result, values[0].t, values[values.length - 1].t),
  ];
  const suspend = result.stages.find((s) => s.name === 'stop-and-copy');
  const resume = result.stages.find((s) => s.name === 'resume');
  if (suspend === undefined)
    return { title, width: CHART_WIDTH, height: CHART_HEIGHT, layer: [line, ...references] } as ChartSpec;
  const window = [
    {
      start: suspend.startMs,
      end: resume === undefined ? suspend.startMs + suspend.durationMs : resume.startMs + resume.durationMs,
      label: 'suspended',
    },
  ];
  return {
    title,
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    layer: [
      {
        data: { values: window },
        mark: { type: 'rect', color: '#e15759', opacity: 0.18 },
        encoding: { x: { field: 'start', type: 'quantitative' }, x2: { field: 'end' } },
      },
      {
        data: { values: window },
        mark: { type: 'text', align: 'right', baseline: 'bottom', dx: -3, dy: -3, fontSize: 9, color: '#b03030' },
        encoding: { x: { field: 'start', type: 'quantitative' }, y: { value: CHART_HEIGHT }, text: { field: 'label' } },
      },
      line,
      ...references,
    ],
  } as ChartSpec;
}

/** What the link could have carried from the first round on: a line at the link's rate (none for an unlimited link). */
function linkLayers(result: MigrationResult, fromMs: number, toMs: number): object[] {
  const bits = result.config.linkBitsPerSec;
  if (bits === null) return [];
  const mibPerMs = bits / 8 / 1000 / MIB;
  const top = Math.min(toMs, fromMs + result.totals.bytesSent / MIB / mibPerMs);
  const values = [
    { t: fromMs, mib: 0 },
    { t: top, mib: (top - fromMs) * mibPerMs },
  ];
  // Its words a third of the way up, right of the line: clear of the RAM's at the right end.
  const at = fromMs + (top - fromMs) / 3;
  const label = [{ t: at, mib: (at - fromMs) * mibPerMs, label: `the link, ${formatBitRate(bits)}` }];
  return [
    {
      name: 'reference_link',
      data: { values },
      mark: { type: 'line', ...REFERENCE_STYLE },
      encoding: { x: { field: 't', type: 'quantitative' }, y: { field: 'mib', type: 'quantitative' } },
    },
    {
      name: 'reference_link_label',
      data: { values: label },
      mark: { ...REFERENCE_TEXT, align: 'left', dx: 6, dy: 4 },
      encoding: {
        x: { field: 't', type: 'quantitative' },
        y: { field: 'mib', type: 'quantitative' },
        text: { field: 'label' },
      },
    },
  ];
}
