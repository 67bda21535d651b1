/**
 * How hard the vCPUs were held back in each round (auto-converge, SDPS). Undefined, so no chart,
 * when the result carries no throttle or nothing was throttled: a flat zero line says nothing.
 */
import type { MigrationResult } from '../../result/schema.js';
import { CHART_HEIGHT, CHART_WIDTH, type ChartSpec } from './render.js';

export function throttleSpec(result: MigrationResult, title = 'vCPU throttle per round'): ChartSpec | undefined {
  const values = result.iterations
    .filter((i) => typeof i.throttlePercent === 'number')
    .map((i) => ({ round: i.index, percent: i.throttlePercent, phase: i.phase }));
  if (!values.some((v) => v.percent > 0)) return undefined;
  return {
    title,
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    data: { values },
    mark: { type: 'line', point: true, interpolate: 'step-after' },
    encoding: {
      x: { field: 'round', type: 'ordinal', title: 'round', axis: { labelAngle: 0 } },
      y: { field: 'percent', type: 'quantitative', title: 'throttle (%)', scale: { domain: [0, 100] } },
      tooltip: [{ field: 'round' }, { field: 'phase' }, { field: 'percent', format: '.1f' }],
    },
  };
}
