/**
 * After each pre-copy round, the downtime a switch-over then would have cost (pending bytes / the
 * round's bandwidth), against the downtime limit the policy weighed (it moves with a ramp).
 */
import type { MigrationResult } from '../../result/schema.js';
import { CHART_HEIGHT, CHART_WIDTH, type ChartSpec } from './render.js';

const MEASURES = ['expected downtime', 'downtime limit'];

export function expectedDowntimeSpec(
  result: MigrationResult,
  title = 'expected downtime after each pre-copy round',
): ChartSpec | undefined {
  const rounds = result.iterations.filter((i) => i.phase === 'precopy');
  if (rounds.length === 0) return undefined;
  const values = rounds.flatMap((i) => [
    { round: i.index, ms: i.expectedDowntimeMs, measure: 'expected downtime' },
    ...(i.downtimeLimitMs === undefined ? [] : [{ round: i.index, ms: i.downtimeLimitMs, measure: 'downtime limit' }]),
  ]);
  const positive = values.map((v) => v.ms).filter((v) => v > 0);
  const log = positive.length === values.length && Math.max(...positive) / Math.min(...positive) > 50;
  return {
    title,
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'round', type: 'ordinal', title: 'round', axis: { labelAngle: 0 } },
      y: { field: 'ms', type: 'quantitative', title: 'ms', scale: log ? { type: 'log' } : {} },
      // One legend: colour and dash encode the same field with the same legend settings.
      color: {
        field: 'measure',
        type: 'nominal',
        title: null,
        scale: { domain: MEASURES },
        legend: { orient: 'top-right' },
      },
      strokeDash: {
        field: 'measure',
        type: 'nominal',
        title: null,
        scale: {
          domain: MEASURES,
          range: [
            [1, 0],
            [4, 3],
          ],
        },
        legend: { orient: 'top-right' },
      },
      tooltip: [{ field: 'round' }, { field: 'measure' }, { field: 'ms', format: ',.1f' }],
    },
  };
}
