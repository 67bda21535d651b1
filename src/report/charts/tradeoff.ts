/**
 * The trade-off a sweep explores: downtime against total time, one point per configuration (means
 * over repeats), joined in the order of the varied option and labelled with its value.
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

/** The first and last positions of a series' sweep. */
function ends(points: TradeoffPoint[], series: string): { first: number; last: number } {
  const orders = points.filter((p) => p.series === series).map((p) => p.order);
  return { first: Math.min(...orders), last: Math.max(...orders) };
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
    data: { values: points.map((p) => ({ ...p, ...ends(points, p.series) })) },
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
      // Only the ends of each sweep are labelled (where it starts and where it goes): every point's
      // value labelled collided where the points crowd; each point's value is on hover.
      {
        transform: [{ filter: 'datum.order === datum.first' }],
        mark: { type: 'text', align: 'right', dx: -7, dy: -7, fontSize: 10 },
        encoding: { text: { field: 'label' } },
      },
      {
        transform: [{ filter: 'datum.order === datum.last && datum.last !== datum.first' }],
        mark: { type: 'text', align: 'left', dx: 7, dy: 9, fontSize: 10 },
        encoding: { text: { field: 'label' } },
      },
    ],
  };
}
