/**
 * A comparison: a metric (mean over repeats, with a min-max rule when there were several) against
 * the option the comparison varies, one colour per setting of the other varied options. A numeric
 * option gets a numeric axis (logarithmic over a wide range) and lines; anything else (strategy,
 * codec or policy names) gets grouped bars in the suite file's order.
 */
import { CHART_HEIGHT, CHART_WIDTH, type ChartSpec } from './render.js';

export interface ComparisonPoint {
  /** Numeric value of the option on a quantitative axis, or its text on an ordinal one. */
  x: number | string;
  /** The option as written in the suite file. */
  xLabel: string;
  series: string;
  mean: number;
  min: number;
  max: number;
  n: number;
}

export interface ComparisonAxis {
  kind: 'quantitative' | 'ordinal';
  title: string;
  log: boolean;
  /** The option's values in suite file order (the ordinal axis' order). */
  order: string[];
}

/** A configuration with failed runs: drawn as a red cross at the foot of the chart, its reason on hover. */
export interface ComparisonFailure {
  x: number | string;
  xLabel: string;
  series: string;
  failed: number;
  runs: number;
  reason: string;
}

export function comparisonSpec(
  title: string | undefined,
  yTitle: string,
  seriesTitle: string,
  axis: ComparisonAxis,
  points: ComparisonPoint[],
  failures: ComparisonFailure[] = [],
): ChartSpec {
  const singleSeries = new Set(points.map((p) => p.series)).size <= 1;
  const enc: Encodings = {
    y: { field: 'mean', type: 'quantitative' as const, title: yTitle },
    color: {
      field: 'series',
      type: 'nominal' as const,
      title: seriesTitle,
      sort: null,
      legend: singleSeries ? null : { orient: 'bottom' as const, columns: 1 },
    },
    tooltip: [
      { field: 'xLabel', type: 'nominal' as const, title: axis.title },
      { field: 'series', type: 'nominal' as const },
      { field: 'mean', type: 'quantitative' as const, format: ',.4~r' },
      { field: 'min', type: 'quantitative' as const, format: ',.4~r' },
      { field: 'max', type: 'quantitative' as const, format: ',.4~r' },
      { field: 'n', type: 'quantitative' as const, title: 'runs' },
    ],
  };
  const layers =
    axis.kind === 'quantitative' ? lineLayers(axis, points, failures, enc) : barLayers(axis, points, failures, enc);
  return {
    ...(title === undefined ? {} : { title }),
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    layer: layers,
  } as ChartSpec;
}

/** What every layer of a comparison encodes alike. */
interface Encodings {
  y: object;
  color: object;
  tooltip: object[];
}

/** Only where a point is a mean of several runs: its min-max rule. */
const SPREAD = { filter: 'datum.n > 1' };

/** Failed runs are results too: a red cross at the foot of the chart, the reason on hover. */
function failedLayer(axis: ComparisonAxis, failures: ComparisonFailure[], x: object): object[] {
  if (failures.length === 0) return [];
  return [
    {
      data: { values: failures.map((f) => ({ ...f, label: `${f.failed} of ${f.runs} failed` })) },
      mark: { type: 'point' as const, shape: 'cross', color: '#c0392b', size: 90, strokeWidth: 2, filled: true },
      encoding: {
        x,
        y: { value: CHART_HEIGHT - 6 },
        tooltip: [
          { field: 'xLabel', type: 'nominal' as const, title: axis.title },
          { field: 'series', type: 'nominal' as const },
          { field: 'label', type: 'nominal' as const, title: 'runs' },
          { field: 'reason', type: 'nominal' as const },
        ],
      },
    },
  ];
}

/** A numeric axis: a line per series, ticks at the swept values (not the scale's round numbers), labelled as the suite file writes them. */
function lineLayers(
  axis: ComparisonAxis,
  points: ComparisonPoint[],
  failures: ComparisonFailure[],
  { y, color, tooltip }: Encodings,
): object[] {
  const swept = [...new Map([...points, ...failures].map((p) => [p.x as number, p.xLabel])).entries()].sort(
    (a, b) => a[0] - b[0],
  );
  const labels = swept.map(([v, text]) => `datum.value === ${v} ? ${JSON.stringify(text)}`).join(' : ');
  const x = {
    field: 'x',
    type: 'quantitative' as const,
    title: axis.title,
    scale: axis.log ? { type: 'log' as const, nice: false, padding: 16 } : { zero: false, nice: false, padding: 16 },
    axis: {
      values: swept.map(([v]) => v),
      ...(swept.length > 0 ? { labelExpr: `${labels} : ''` } : {}),
      labelOverlap: false,
      grid: true,
    },
  };
  return [
    {
      data: { values: points },
      mark: { type: 'line', point: true },
      encoding: { x, y, color, order: { field: 'x', type: 'quantitative' }, tooltip },
    },
    {
      data: { values: points },
      transform: [SPREAD],
      mark: { type: 'rule' },
      encoding: { x, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' }, color },
    },
    ...failedLayer(axis, failures, x),
  ];
}

/** Categories: bars side by side per series, every category named (the estimated label widths, with no canvas in Node, overstate overlap). */
function barLayers(
  axis: ComparisonAxis,
  points: ComparisonPoint[],
  failures: ComparisonFailure[],
  { y, color, tooltip }: Encodings,
): object[] {
  const x = {
    field: 'xLabel',
    type: 'ordinal' as const,
    title: axis.title,
    sort: axis.order,
    axis: { labelAngle: 0, labelOverlap: false },
  };
  const xOffset = { field: 'series', type: 'nominal' as const, sort: null };
  return [
    { data: { values: points }, mark: { type: 'bar' }, encoding: { x, xOffset, y, color, tooltip } },
    {
      data: { values: points },
      transform: [SPREAD],
      mark: { type: 'rule' },
      encoding: { x, xOffset, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } },
    },
    ...failedLayer(axis, failures, x),
  ];
}
