/**
 * The trade-off a sweep explores: downtime against total time, one point per configuration (means
 * over repeats), joined in the order of the varied option; the values are on hover and in the
 * table the report prints beside it.
 */
import { CHART_HEIGHT, CHART_WIDTH, type ChartSpec } from './render.js';

export interface TradeoffPoint {
  downtimeMs: number;
  totalTimeMs: number;
  series: string;
  /** The varied option's value, as written. */
  label: string;
  /** Position of the value in the sweep. */
  order: number;
}

export function tradeoffSpec(title: string, seriesTitle: string, points: TradeoffPoint[]): ChartSpec {
  const singleSeries = new Set(points.map((p) => p.series)).size <= 1;
  const x = { field: 'downtimeMs', type: 'quantitative' as const, title: 'downtime (ms)' };
  const y = { field: 'totalTimeMs', type: 'quantitative' as const, title: 'total time (ms)', scale: { zero: false } };
  const color = {
    field: 'series',
    type: 'nominal' as const,
    title: seriesTitle,
    sort: null,
    legend: singleSeries ? null : { orient: 'bottom' as const, columns: 1 },
  };
  return {
    title,
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    data: { values: points },
    encoding: { x, y, color },
    layer: [
      {
        mark: { type: 'line', point: true },
        encoding: {
          order: { field: 'order', type: 'quantitative' },
          tooltip: [
            { field: 'label', title: 'value' },
            { field: 'series' },
            { field: 'downtimeMs', format: ',.1f' },
            { field: 'totalTimeMs', format: ',.1f' },
          ],
        },
      },
      // No text labels: where points crowd they collide. Each point's value is on hover, and the
      // report prints the points as a table beside the chart.
    ],
  };
}
