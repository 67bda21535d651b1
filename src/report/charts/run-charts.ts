/** The charts of one run, in report order; a chart whose data the result lacks is left out. */
import type { MigrationResult } from '../../result/schema.js';
import { bytesOverTimeSpec } from './bytes-over-time.js';
import { expectedDowntimeSpec } from './expected-downtime.js';
import { guestPaceSpec } from './guest-pace.js';
import { pagesPerRoundSpec } from './pages-per-round.js';
import type { ChartSpec } from './render.js';
import { throttleSpec } from './throttle.js';

export function runChartSpecs(result: MigrationResult): ChartSpec[] {
  return [
    pagesPerRoundSpec(result),
    bytesOverTimeSpec(result),
    expectedDowntimeSpec(result),
    guestPaceSpec(result),
    throttleSpec(result),
  ].filter((s): s is ChartSpec => s !== undefined);
}
