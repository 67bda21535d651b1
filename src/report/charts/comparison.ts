/**
 * A comparison: a metric (mean over repeats, with a min-max rule when there were several) against
 * the option the comparison varies, one colour per setting of the other varied options. A numeric
 * option gets a numeric axis (logarithmic over a wide range) and lines; anything else (strategy,
 * codec or policy names) gets grouped bars in the suite file's order.
 */
import { CHART_HEIGHT, CHART_WIDTH, type ChartSpec } from './render.js';
import { REFERENCE_STYLE, REFERENCE_TEXT, levelLayers } from './reference.js';

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

/**
 * A configuration with failed runs: drawn as a red cross at the value its failed runs reached (a
 * run that timed out at 60 s, at 60 s of total time), or in a band at the top of the chart when
 * they reached none (no downtime: the guest never left the source); named in the legend, its
 * reason on hover. Never at 0, where it would read as the best result.
 */
export interface ComparisonFailure {
  x: number | string;
  xLabel: string;
  series: string;
  failed: number;
  runs: number;
  reason: string;
  /** The metric's mean over the failed runs that reached a value (display units); null: none did. */
  reached: number | null;
}

/**
 * A line a reader measures the points against: a level (the downtime limit, the RAM, the link
 * rate, the timeout) or y = slope * x (the metric against the option that bounds it).
 */
export type ReferenceLine =
  { kind: 'level'; value: number; label: string } | { kind: 'diagonal'; slope: number; label: string };

/** The failed runs' colour and the legend's words for them. */
export const FAILED_COLOUR = '#c0392b';
const FAILED_LEGEND = 'failed runs';

export function comparisonSpec(
  title: string | undefined,
  yTitle: string,
  seriesTitle: string,
  axis: ComparisonAxis,
  points: ComparisonPoint[],
  failures: ComparisonFailure[] = [],
  references: ReferenceLine[] = [],
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
    axis.kind === 'quantitative'
      ? lineLayers(axis, points, failures, enc, references)
      : barLayers(axis, points, failures, enc, references);
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

/** Failed runs are results too: a red cross where they got to (or in the top band), in the legend, the reason on hover. */
function failedLayers(axis: ComparisonAxis, failures: ComparisonFailure[], x: object, xOffset?: object): object[] {
  if (failures.length === 0) return [];
  const values = failures.map((f) => ({ ...f, label: `${f.failed} of ${f.runs} failed` }));
  const mark = { type: 'point' as const, shape: 'cross', size: 110, strokeWidth: 2.5, filled: true };
  const encoding = {
    x,
    ...(xOffset === undefined ? {} : { xOffset }),
    color: { value: FAILED_COLOUR },
    shape: {
      datum: FAILED_LEGEND,
      type: 'nominal' as const,
      scale: { range: ['cross'] },
      legend: {
        title: null,
        orient: 'bottom' as const,
        symbolFillColor: FAILED_COLOUR,
        symbolStrokeColor: FAILED_COLOUR,
      },
    },
    tooltip: [
      { field: 'xLabel', type: 'nominal' as const, title: axis.title },
      { field: 'series', type: 'nominal' as const },
      { field: 'label', type: 'nominal' as const, title: 'runs' },
      { field: 'reached', type: 'quantitative' as const, title: 'reached', format: ',.4~r' },
      { field: 'reason', type: 'nominal' as const },
    ],
  };
  const reached = values.filter((v) => v.reached !== null);
  const none = values.filter((v) => v.reached === null);
  return [
    ...(reached.length === 0
      ? []
      : [
          {
            name: 'failed',
            data: { values: reached },
            mark,
            encoding: { ...encoding, y: { field: 'reached', type: 'quantitative' as const } },
          },
        ]),
    ...(none.length === 0
      ? []
      : [{ name: 'failed_top', data: { values: none }, mark, encoding: { ...encoding, y: { value: 8 } } }]),
  ];
}

/** The reference lines, each a dashed grey rule with its words at its right end. */
function referenceLayers(references: ReferenceLine[], xs: readonly number[] | null): object[] {
  return references.flatMap((r, i): object[] => {
    if (r.kind === 'level') return levelLayers(String(i), r.value, r.label);
    if (xs === null || xs.length < 2) return [];
    // y = slope * x through the swept values, drawn on the chart's scales.
    return [
      {
        name: `reference_${i}`,
        data: { values: xs.map((x) => ({ x })) },
        transform: [{ calculate: `datum.x * ${r.slope}`, as: 'ry' }],
        mark: { type: 'line', ...REFERENCE_STYLE },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          y: { field: 'ry', type: 'quantitative' },
          color: { value: '#555' },
        },
      },
      {
        name: `reference_${i}_label`,
        data: { values: [{ x: Math.max(...xs), ry: Math.max(...xs) * r.slope, label: `y = x: ${r.label}` }] },
        mark: { ...REFERENCE_TEXT, dx: -6 },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          y: { field: 'ry', type: 'quantitative' },
          text: { field: 'label' },
        },
      },
    ];
  });
}

/** A numeric axis: a line per series, ticks at the swept values (not the scale's round numbers), labelled as the suite file writes them. */
function lineLayers(
  axis: ComparisonAxis,
  points: ComparisonPoint[],
  failures: ComparisonFailure[],
  { y, color, tooltip }: Encodings,
  references: ReferenceLine[],
): object[] {
  const swept = [...new Map([...points, ...failures].map((p) => [p.x as number, p.xLabel])).entries()].sort(
    (a, b) => a[0] - b[0],
  );
  const labels = swept.map(([v, text]) => `datum.value === ${v} ? ${JSON.stringify(text)}`).join(' : ');
  // Series with the same values would hide each other: each is drawn a little to the side of the
  // swept value (a few pixels; the ticks and the tooltips keep the value itself).
  const dodged = dodge(
    axis,
    points,
    swept.map(([v]) => v),
  );
  const x = {
    field: 'xd',
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
      data: { values: dodged },
      mark: { type: 'line', point: true },
      encoding: { x, y, color, order: { field: 'x', type: 'quantitative' }, tooltip },
    },
    {
      data: { values: dodged },
      transform: [SPREAD],
      mark: { type: 'rule' },
      encoding: { x, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' }, color },
    },
    ...referenceLayers(
      references,
      swept.map(([v]) => v),
    ),
    ...failedLayers(
      axis,
      failures.map((f) => ({ ...f, xd: f.x })),
      x,
    ),
  ];
}

/** Each point with `xd`: its x moved aside by its series' place (multiplied on a log axis), about 1 % of the axis per series. */
function dodge(axis: ComparisonAxis, points: ComparisonPoint[], xs: number[]): (ComparisonPoint & { xd: number })[] {
  const series = [...new Set(points.map((p) => p.series))];
  if (series.length < 2 || xs.length < 2) return points.map((p) => ({ ...p, xd: p.x as number }));
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const step = axis.log ? Math.log(hi / lo) * 0.012 : (hi - lo) * 0.012;
  return points.map((p) => {
    const k = series.indexOf(p.series) - (series.length - 1) / 2;
    const x = p.x as number;
    return { ...p, xd: axis.log ? x * Math.exp(k * step) : x + k * step };
  });
}

/** Categories: bars side by side per series, every category named (the estimated label widths, with no canvas in Node, overstate overlap). */
function barLayers(
  axis: ComparisonAxis,
  points: ComparisonPoint[],
  failures: ComparisonFailure[],
  { y, color, tooltip }: Encodings,
  references: ReferenceLine[],
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
    ...referenceLayers(references, null),
    ...failedLayers(axis, failures, x, xOffset),
  ];
}
