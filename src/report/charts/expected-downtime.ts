/**
 * After each pre-copy round, the downtime a switch-over then would have cost (pending bytes / the
 * round's bandwidth), against the downtime limit the policy weighs: a line across the chart when
 * it holds still, a step line when a ramp moves it; none for a policy that ignores it (Xen,
 * Hyper-V and their like stop on rounds and bytes, not on the limit).
 */
import type { MigrationResult } from '../../result/schema.js';
import { formatMs } from '../../util/format.js';
import { aimsForDowntimeLimit } from '../../result/limits.js';
import { REFERENCE_STYLE, levelLayers } from './reference.js';
import { CHART_HEIGHT, CHART_WIDTH, type ChartSpec } from './render.js';

export function expectedDowntimeSpec(
  result: MigrationResult,
  title = 'expected downtime after each pre-copy round',
): ChartSpec | undefined {
  const rounds = result.iterations.filter((i) => i.phase === 'precopy');
  if (rounds.length === 0) return undefined;
  const values = rounds.map((i) => ({ round: i.index, ms: i.expectedDowntimeMs }));
  const c = result.config;
  const aims = aimsForDowntimeLimit(c);
  const limits = rounds.map((i) => ({ round: i.index, ms: i.downtimeLimitMs ?? c.downtimeLimitMs }));
  const still = new Set(limits.map((l) => l.ms)).size === 1;
  const all = [...values, ...(aims ? limits : [])].map((v) => v.ms);
  const positive = all.filter((v) => v > 0);
  const log = positive.length === all.length && Math.max(...positive) / Math.min(...positive) > 50;
  const x = { field: 'round', type: 'ordinal' as const, title: 'pre-copy round', axis: { labelAngle: 0 } };
  const y = {
    field: 'ms',
    type: 'quantitative' as const,
    title: 'expected downtime (ms)',
    scale: log ? { type: 'log' as const } : {},
  };
  const limitLayers = !aims
    ? []
    : still
      ? levelLayers('limit', limits[0].ms, `downtime limit ${formatMs(limits[0].ms)}`)
      : [
          {
            name: 'reference_limit',
            data: { values: limits },
            mark: { type: 'line', interpolate: 'step', ...REFERENCE_STYLE },
            encoding: { x, y: { field: 'ms', type: 'quantitative' }, tooltip: [{ field: 'round' }, { field: 'ms' }] },
          },
        ];
  return {
    title,
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y,
          tooltip: [{ field: 'round' }, { field: 'ms', title: 'expected downtime (ms)', format: ',.1f' }],
        },
      },
      ...limitLayers,
    ],
  } as ChartSpec;
}
