/**
 * Reference lines: what a reader measures a chart's points against (a limit, the RAM, the link
 * rate, a timeout), a dashed grey rule with its words at the right end. Each layer is named
 * `reference_*`, so the report tests find them in the drawn SVG.
 */
import { CHART_WIDTH } from './render.js';

export const REFERENCE_STYLE = { color: '#555', strokeDash: [5, 4], strokeWidth: 1.2 };
export const REFERENCE_TEXT = { type: 'text' as const, align: 'right' as const, dy: -6, fontSize: 10, color: '#555' };

/** A horizontal line at `y` (in the chart's y units) with `label` above its right end. */
export function levelLayers(name: string, y: number, label: string): object[] {
  const data = { values: [{ y, label }] };
  const encoding = { y: { field: 'y', type: 'quantitative' } };
  return [
    { name: `reference_${name}`, data, mark: { type: 'rule', ...REFERENCE_STYLE }, encoding },
    {
      name: `reference_${name}_label`,
      data,
      mark: { ...REFERENCE_TEXT, x: CHART_WIDTH - 4 },
      encoding: { ...encoding, text: { field: 'label' } },
    },
  ];
}
