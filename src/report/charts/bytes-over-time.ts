/** Bytes sent so far against time, with the window in which the guest was suspended shaded. */
import type { MigrationResult } from '../../result/schema.js';
import { CHART_HEIGHT, CHART_WIDTH, type ChartSpec } from './render.js';

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
  const suspend = result.stages.find((s) => s.name === 'stop-and-copy');
  const resume = result.stages.find((s) => s.name === 'resume');
  if (suspend === undefined) return { title, width: CHART_WIDTH, height: CHART_HEIGHT, ...line };
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
    ],
  };
}
