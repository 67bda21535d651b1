/**
 * Vega-Lite specs rendered to SVG in Node (vega's headless View, no canvas, no browser), for HTML
 * reports that need no network and no script. vega is imported on first use: it is large, and
 * only report writers need it.
 */
import type { TopLevelSpec } from 'vega-lite';

export type ChartSpec = TopLevelSpec;

/** Size of the plotting area of one chart, pixels. */
export const CHART_WIDTH = 560;
export const CHART_HEIGHT = 260;

/** Looks shared by every chart. */
export const CHART_CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  background: 'white',
  title: { fontSize: 13, anchor: 'start' as const, fontWeight: 600 as const, subtitleFontSize: 11, offset: 12 },
  // Labels the renderer, which measures text without a browser, finds too close are dropped; the
  // separation leaves room for a browser's wider fonts.
  axis: { labelFontSize: 10, titleFontSize: 11, labelOverlap: true as const, labelSeparation: 8 },
  // A title as long as its axis, never cut short of that.
  axisX: { titleLimit: CHART_WIDTH, labelFlush: false, tickCount: 8 },
  axisY: { titleLimit: CHART_HEIGHT },
  legend: { labelFontSize: 10, titleFontSize: 10, labelLimit: 260 },
  range: { category: { scheme: 'tableau10' } },
};

/** Vega-Lite's warnings about specs, kept rather than printed over the progress output. */
const warnings: string[] = [];

/** The warnings since the last call (tests expect none: each is a chart drawn other than meant). */
export function takeChartWarnings(): string[] {
  return warnings.splice(0);
}

const logger = {
  level(): number {
    return 2;
  },
  error(...args: unknown[]) {
    warnings.push(args.map(String).join(' '));
    return this;
  },
  warn(...args: unknown[]) {
    warnings.push(args.map(String).join(' '));
    return this;
  },
  info() {
    return this;
  },
  debug() {
    return this;
  },
};

export async function renderSvg(spec: ChartSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const full = { ...spec, config: { ...CHART_CONFIG, ...(spec.config ?? {}) } } as ChartSpec;
  const view = new vega.View(vega.parse(vl.compile(full, { logger: logger as never }).spec), {
    renderer: 'none',
    logger: logger as never,
    logLevel: vega.Warn,
  });
  try {
    return inlineSvg(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/**
 * Inside HTML an <svg> needs no namespace declarations; dropping them leaves the page without a
 * single http(s) URL, which makes "nothing is fetched" easy to check.
 */
function inlineSvg(svg: string): string {
  return svg.replace(/\s+xmlns(:xlink)?="[^"]*"/g, '').replace(/\s+version="1\.1"/, '');
}
