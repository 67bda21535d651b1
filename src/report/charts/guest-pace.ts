/**
 * The guest's pace over time (guestperf's main chart): the page writes per second its vCPUs
 * achieved in each pre-copy round, none while it is suspended, and on the target during post-copy,
 * against its pace before the migration. Dirty tracking's faults and throttling show as the dip.
 */
import type { MigrationResult } from '../../result/schema.js';
import { levelLayers } from './reference.js';
import { CHART_HEIGHT, CHART_WIDTH, type ChartSpec } from './render.js';

const PHASES = ['pre-copy', 'suspended', 'post-copy, on the target'];

export function guestPaceSpec(result: MigrationResult, title = "the guest's pace over time"): ChartSpec | undefined {
  const g = result.totals.guestPerf;
  if (!g || result.iterations.length === 0) return undefined;
  // The run's intervals where the result has them (100 ms each), else its rounds.
  const values: { from: number; to: number; rate: number; phase: string }[] = result.series
    ? result.series
        .filter((i) => i.durationMs > 0)
        .map((i) => ({
          from: i.startMs,
          to: i.startMs + i.durationMs,
          rate: i.guestPageWritesPerSec,
          phase: i.suspended ? PHASES[1] : PHASES[0],
        }))
    : result.iterations.map((i) => ({
        from: i.startMs,
        to: i.startMs + i.durationMs,
        rate: i.phase === 'precopy' ? i.guestPageWritesPerSec : 0,
        phase: i.phase === 'precopy' ? PHASES[0] : PHASES[1],
      }));
  const post = result.stages.find((s) => s.name === 'postcopy');
  if (post && result.postcopy)
    values.push({
      from: post.startMs,
      to: post.startMs + post.durationMs,
      rate: result.postcopy.guestPageWritesPerSec,
      phase: PHASES[2],
    });
  const x = { field: 'from', type: 'quantitative' as const, title: 'time since connect (ms)' };
  return {
    title,
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    layer: [
      {
        data: { values },
        mark: { type: 'rule', strokeWidth: 4 },
        encoding: {
          x,
          x2: { field: 'to' },
          y: { field: 'rate', type: 'quantitative', title: 'guest page writes/s' },
          color: {
            field: 'phase',
            type: 'nominal',
            title: null,
            scale: { domain: PHASES },
            legend: { orient: 'bottom' },
          },
          tooltip: [
            { field: 'phase' },
            { field: 'from', title: 'from (ms)', format: ',.1f' },
            { field: 'to', title: 'to (ms)', format: ',.1f' },
            { field: 'rate', title: 'page writes/s', format: ',.0f' },
          ],
        },
      },
      ...levelLayers(
        'before',
        g.beforePageWritesPerSec,
        `before the migration: ${Math.round(g.beforePageWritesPerSec).toLocaleString('en-US')} writes/s`,
      ),
    ],
  } as ChartSpec;
}
