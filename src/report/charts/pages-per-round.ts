/** Pages sent in each round, pre-copy and stop-and-copy told apart by colour. */
import type { MigrationResult } from '../../result/schema.js';
import { CHART_HEIGHT, CHART_WIDTH, type ChartSpec } from './render.js';

export function pagesPerRoundSpec(result: MigrationResult, title = 'pages sent per round'): ChartSpec | undefined {
  if (result.iterations.length === 0) return undefined;
  const values = result.iterations.map((i) => ({
    round: i.index,
    pages: i.pagesSent,
    dirty: i.dirtyPages,
    phase: i.phase,
  }));
  return {
    title,
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'round', type: 'ordinal', title: 'round', axis: { labelAngle: 0 } },
      y: { field: 'pages', type: 'quantitative', title: 'pages sent' },
      color: {
        field: 'phase',
        type: 'nominal',
        title: null,
        scale: { domain: ['precopy', 'stop-and-copy'] },
        legend: { orient: 'top-right' },
      },
      tooltip: [
        { field: 'round' },
        { field: 'phase' },
        { field: 'pages', format: ',' },
        { field: 'dirty', title: 'dirty pages found', format: ',' },
      ],
    },
  };
}
