/** Pages sent in each round, pre-copy and stop-and-copy told apart by colour. */
import type { MigrationResult } from '../../result/schema.js';
import { CHART_HEIGHT, CHART_WIDTH, type ChartSpec } from './render.js';
import { levelLayers } from './reference.js';

export function pagesPerRoundSpec(result: MigrationResult, title = 'pages sent per round'): ChartSpec | undefined {
  if (result.iterations.length === 0) return undefined;
  const values = result.iterations.map((i) => ({
    round: i.index,
    pages: i.pagesSent,
    dirty: i.dirtyPages,
    phase: i.phase,
  }));
  const bars = barEncoding();
  const ramPages = result.config.ramBytes / result.config.pageSizeBytes;
  return {
    title,
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    layer: [
      { data: { values }, mark: { type: 'bar' }, encoding: bars },
      ...levelLayers('ram', ramPages, `RAM ${ramPages.toLocaleString('en-US')} pages`),
    ],
  } as ChartSpec;
}

function barEncoding(): object {
  return {
    x: { field: 'round', type: 'ordinal', title: 'round', axis: { labelAngle: 0 } },
    y: { field: 'pages', type: 'quantitative', title: 'pages sent' },
    color: {
      field: 'phase',
      type: 'nominal',
      title: null,
      scale: { domain: ['precopy', 'stop-and-copy'] },
      legend: { orient: 'bottom' },
    },
    tooltip: [
      { field: 'round' },
      { field: 'phase' },
      { field: 'pages', format: ',' },
      { field: 'dirty', title: 'dirty pages found', format: ',' },
    ],
  };
}
