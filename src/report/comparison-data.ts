/**
 * What a suite report plots for each comparison, computed from the plan and the last record of
 * each run: per configuration that varies the comparison's option, the metric's mean, min and max
 * over completed runs, grouped into series by the other varied options.
 *
 * The x axis is numeric when the option sets one numeric RunConfig field that is one-to-one with
 * its values (30ms -> downtimeLimitMs 30, 256MiB -> ramBytes); otherwise (names, `unlimited`) the
 * values are categories in suite file order. So any run option can be compared, including options
 * added after this was written.
 */
import { kebabOf } from '../suite/parse.js';
import { metricByName, type Metric } from '../suite/metrics.js';
import type { OptionTexts, PlannedRun, SuiteComparison, SuitePlan, SuiteRecord } from '../suite/schema.js';
import { statsOf } from '../suite/summary.js';
import type { ComparisonAxis, ComparisonFailure, ComparisonPoint, ReferenceLine } from './charts/comparison.js';
import { formatBitRate, formatBytes, formatMs } from '../util/format.js';
import { aimsForDowntimeLimit } from '../result/limits.js';
import type { TradeoffPoint } from './charts/tradeoff.js';
import { resolveRunConfig, type RunOptionKey } from '../config/options.js';
import type { RunConfig } from '../config/types.js';

export interface ComparisonView {
  comparison: SuiteComparison;
  metric: Metric;
  axis: ComparisonAxis;
  seriesTitle: string;
  points: ComparisonPoint[];
  /** Configurations of the sweep with failed runs: where, how many, and why. */
  failures: FailurePoint[];
  /** Lines to read the metric against: the limit the policies aim for, the RAM, the link, the timeout. */
  references: ReferenceLine[];
  tradeoff: TradeoffPoint[];
}

/** A configuration of the sweep with failed runs (drawn as such). */
export type FailurePoint = ComparisonFailure;

interface ConfigGroup {
  configId: string;
  varied: OptionTexts;
  options: OptionTexts;
  config: PlannedRun['config'];
  swept: PlannedRun['swept'];
  completed: SuiteRecord[];
  failed: SuiteRecord[];
}

export function configGroups(plan: SuitePlan, latest: ReadonlyMap<string, SuiteRecord>): ConfigGroup[] {
  const groups = new Map<string, ConfigGroup>();
  for (const run of plan.runs) {
    let g = groups.get(run.configId);
    if (g === undefined) {
      g = {
        configId: run.configId,
        varied: run.varied,
        swept: run.swept,
        options: run.options,
        config: run.config,
        completed: [],
        failed: [],
      };
      groups.set(run.configId, g);
    }
    const r = latest.get(run.runId);
    if (r?.status === 'completed' && r.result !== undefined) g.completed.push(r);
    else if (r !== undefined) g.failed.push(r);
  }
  return [...groups.values()];
}

/** `dirty-rate=50MB/s, ram=256MiB`: the varied options other than `except`, in column order. */
export function seriesLabel(plan: SuitePlan, varied: OptionTexts, except?: RunOptionKey): string {
  const parts = plan.variedKeys
    .filter((k) => k !== except && varied[k] !== undefined)
    .map((k) => `${kebabOf(k)}=${varied[k]}`);
  return parts.length === 0 ? 'all' : parts.join(', ');
}

export function comparisonViews(plan: SuitePlan, latest: ReadonlyMap<string, SuiteRecord>): ComparisonView[] {
  const groups = configGroups(plan, latest);
  return plan.comparisons.map((comparison) => comparisonView(plan, groups, comparison));
}

function comparisonView(plan: SuitePlan, allGroups: ConfigGroup[], comparison: SuiteComparison): ComparisonView {
  const metric = metricByName(comparison.metric);
  const key = comparison.vary;
  // Only the configurations of blocks that sweep the option: a block that fixes it at one value
  // (post-copy after 1 round, swept over the link) is another sweep, not a point of this one.
  const setting = allGroups.filter((g) => g.varied[key] !== undefined);
  const sweeping = setting.filter((g) => g.swept === undefined || g.swept.includes(key));
  const groups = sweeping.length > 0 ? sweeping : setting;
  const order: string[] = [];
  for (const g of groups) if (!order.includes(g.varied[key]!)) order.push(g.varied[key]!);
  const numeric = numericField(groups, key);
  const axis: ComparisonAxis =
    numeric === undefined
      ? { kind: 'ordinal', title: kebabOf(key), log: false, order }
      : {
          kind: 'quantitative',
          title: numeric.unit === '' ? kebabOf(key) : `${kebabOf(key)} (${numeric.unit})`,
          log: numeric.log,
          order,
        };
  // Series tell apart the other options that vary among these configurations (not those that
  // are constant here, such as a policy fixed by the matrix block).
  const seriesKeys = plan.variedKeys.filter((k) => k !== key && new Set(groups.map((g) => g.varied[k])).size > 1);
  const seriesTitle = seriesKeys.map(kebabOf).join(', ') || 'series';
  // An option a configuration's block does not vary has the value its run has (the base's, or the default).
  const seriesOf = (g: ConfigGroup): string =>
    seriesKeys.map((k) => optionInWords(k, g.varied[k] ?? g.options[k] ?? 'default')).join(', ') || 'all';

  const points: ComparisonPoint[] = [];
  const failures: FailurePoint[] = [];
  const tradeoff: TradeoffPoint[] = [];
  for (const g of groups) {
    const xLabel = g.varied[key]!;
    const series = seriesOf(g);
    if (g.failed.length > 0) {
      const reasons = [...new Set(g.failed.map((r) => r.reason ?? r.result?.reason ?? 'failed'))];
      failures.push({
        x: numeric === undefined ? xLabel : numeric.valueOf(g) * numeric.scale,
        xLabel,
        series,
        failed: g.failed.length,
        runs: g.failed.length + g.completed.length,
        reason: reasons.join('; '),
        reached: reachedBy(g.failed, metric),
      });
    }
    const values = g.completed.map((r) => metric.value(r.result!)).filter((v): v is number => v !== undefined);
    const s = statsOf(values);
    if (s !== undefined) {
      const scale = metric.displayScale;
      points.push({
        x: numeric === undefined ? xLabel : numeric.valueOf(g) * numeric.scale,
        xLabel,
        series,
        mean: s.mean * scale,
        min: s.min * scale,
        max: s.max * scale,
        n: s.n,
      });
    }
    const down = statsOf(g.completed.map((r) => r.result!.totals.downtimeMs));
    const total = statsOf(g.completed.map((r) => r.result!.totals.totalTimeMs));
    if (down !== undefined && total !== undefined) {
      tradeoff.push({
        downtimeMs: down.mean,
        totalTimeMs: total.mean,
        series,
        label: xLabel,
        order: order.indexOf(xLabel),
      });
    }
  }
  const references = referencesOf(metric, key, groups, numeric, failures.length > 0);
  return { comparison, metric, axis, seriesTitle, points, failures, references, tradeoff };
}

/** The metric's mean over failed runs that got somewhere (a time, bytes, rounds), display units; null when none did. */
function reachedBy(failed: SuiteRecord[], metric: Metric): number | null {
  const values = failed
    .map((r) => (r.result === undefined ? undefined : metric.value(r.result)))
    .filter((v): v is number => v !== undefined && Number.isFinite(v) && v > 0);
  return values.length === 0 ? null : (values.reduce((a, b) => a + b, 0) / values.length) * metric.displayScale;
}

/** The one value `f` gives every configuration, or undefined when they differ. */
function shared<T>(groups: ConfigGroup[], f: (c: RunConfig) => T): T | undefined {
  const values = new Set(groups.map((g) => f(g.config)));
  return values.size === 1 ? f(groups[0].config) : undefined;
}

/**
 * What a reader measures the metric against: the downtime limit (only where every policy aims for
 * it: QEMU's; Xen and Hyper-V ignore it), the RAM for bytes, the link for its rate, the timeout
 * where runs failed. Against the option that sets it, the line is y = x.
 */
function referencesOf(
  metric: Metric,
  key: RunOptionKey,
  groups: ConfigGroup[],
  numeric: NumericField | undefined,
  anyFailed: boolean,
): ReferenceLine[] {
  if (groups.length === 0) return [];
  const diagonal = (toMetric: number, label: string): ReferenceLine[] =>
    numeric === undefined ? [] : [{ kind: 'diagonal', slope: (toMetric / numeric.scale) * metric.displayScale, label }];
  switch (metric.name) {
    case 'downtime': {
      if (!groups.every((g) => aimsForDowntimeLimit(g.config))) return [];
      if (key === 'downtimeLimit') return diagonal(1, 'the downtime limit');
      const limit = shared(groups, (c) => c.downtimeLimitMs);
      return limit === undefined
        ? []
        : [{ kind: 'level', value: limit * metric.displayScale, label: `downtime limit ${formatMs(limit)}` }];
    }
    case 'total-time': {
      const timeout = shared(groups, (c) => c.timeoutMs);
      return !anyFailed || timeout === undefined || timeout === null
        ? []
        : [{ kind: 'level', value: timeout * metric.displayScale, label: `timeout ${formatMs(timeout)}` }];
    }
    case 'bytes-sent': {
      if (key === 'ram') return diagonal(1, 'the RAM');
      const ram = shared(groups, (c) => c.ramBytes);
      return ram === undefined
        ? []
        : [{ kind: 'level', value: ram * metric.displayScale, label: `RAM ${formatBytes(ram)}` }];
    }
    case 'ram-multiples':
      return [{ kind: 'level', value: 1, label: 'the RAM once' }];
    case 'link-rate': {
      if (key === 'link') return diagonal(1, 'the link rate');
      const link = shared(groups, (c) => c.linkBitsPerSec);
      return link === undefined || link === null
        ? []
        : [{ kind: 'level', value: link * metric.displayScale, label: `link ${formatBitRate(link)}` }];
    }
    default:
      return [];
  }
}

/** An option's value in words for a legend: `hot set 5 %, 90 % of writes`, `auto-converge`, `dirty-rate 50MB/s`. */
export function optionInWords(key: RunOptionKey, text: string): string {
  const pct = (f: string): string => `${Number((Number(f) * 100).toPrecision(3))} %`;
  if (key === 'pattern') {
    const [kind, a, b] = text.split(':');
    if (kind === 'hotset' && a !== undefined && b !== undefined) return `hot set ${pct(a)}, ${pct(b)} of writes`;
    if (kind === 'sequential' && a !== undefined) return `sequential over ${pct(a)}`;
    return `${kind} writes`;
  }
  if (text === 'true') return kebabOf(key);
  if (text === 'false') return `no ${kebabOf(key)}`;
  return `${kebabOf(key)} ${text}`;
}

interface NumericField {
  valueOf(g: ConfigGroup): number;
  scale: number;
  unit: string;
  log: boolean;
}

/**
 * The RunConfig field the option sets, when it is numeric and one-to-one with the option's text.
 * Fields the option sets are those that change when it is left out (other options, e.g. rates
 * that --reduce scaled along with RAM, are held); the first numeric one-to-one field wins.
 */
function numericField(groups: ConfigGroup[], key: RunOptionKey): NumericField | undefined {
  if (groups.length === 0) return undefined;
  const given = groups.map((g) => tryResolve({ ...g.options, [key]: g.varied[key] }));
  if (given.some((c) => c === undefined)) return undefined;
  const leaves = given.map((c) => flatten(c));
  const changed = new Set<string>();
  groups.forEach((g, i) => {
    const rest: OptionTexts = { ...g.options };
    delete rest[key];
    const without = tryResolve(rest);
    if (without === undefined) return;
    const base = flatten(without);
    for (const [path, v] of Object.entries(leaves[i])) if (base[path] !== v) changed.add(path);
  });
  for (const path of Object.keys(leaves[0]).filter((p) => changed.has(p))) {
    const byText = new Map<string, number>();
    let ok = true;
    groups.forEach((g, i) => {
      const v = leaves[i][path];
      const text = g.varied[key]!;
      if (typeof v !== 'number' || !Number.isFinite(v) || (byText.has(text) && byText.get(text) !== v)) ok = false;
      else byText.set(text, v);
    });
    const distinct = new Set(byText.values());
    if (!ok || distinct.size !== byText.size || distinct.size < 2) continue;
    const values = new Map(groups.map((g, i) => [g.configId, leaves[i][path] as number]));
    const { scale, unit } = unitOf(path, Math.max(...distinct));
    const min = Math.min(...distinct);
    return { valueOf: (g) => values.get(g.configId)!, scale, unit, log: min > 0 && Math.max(...distinct) / min >= 20 };
  }
  return undefined;
}

function tryResolve(options: OptionTexts): RunConfig | undefined {
  try {
    return resolveRunConfig(options);
  } catch {
    return undefined;
  }
}

function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix === '' ? k : `${prefix}.${k}`, out);
  } else {
    out[prefix] = value;
  }
  return out;
}

/** Display unit from the field's name (units are in every RunConfig field name). */
function unitOf(path: string, max: number): { scale: number; unit: string } {
  if (path.endsWith('Bytes'))
    return max >= 2 ** 30 ? { scale: 2 ** -30, unit: 'GiB' } : { scale: 2 ** -20, unit: 'MiB' };
  if (path.endsWith('BitsPerSec'))
    return max >= 1e9 ? { scale: 1e-9, unit: 'Gbit/s' } : { scale: 1e-6, unit: 'Mbit/s' };
  if (path.endsWith('PagesPerSec')) return { scale: 1, unit: 'page writes/s' };
  if (path.endsWith('Ms')) return { scale: 1, unit: 'ms' };
  if (path.endsWith('Percent')) return { scale: 1, unit: '%' };
  return { scale: 1, unit: '' };
}
