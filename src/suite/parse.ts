/**
 * Reads a suite file (YAML) into a SuiteSpec. Every error names the file, the line and the key:
 * `suite.yaml:7: base.dirty-rat: not a run option; did you mean dirty-rate?`. Values are checked
 * by expand.ts (resolveRunConfig sees each whole configuration), with the same kind of message.
 *
 *   name: convergence                 # required
 *   description: ...                  # optional
 *   base: { ram: 256MiB, link: 2Gbit/s }            # any `migbench run` option
 *   matrix: { dirty-rate: [50MB/s, 150MB/s] }       # crossed; or a list of such mappings
 *   repeat: 2                         # default 1
 *   comparisons:                      # optional
 *     - { vary: dirty-rate, metric: downtime, name: ..., title: ..., tradeoff: true }
 *
 * Option keys are kebab-case (`dirty-rate`) or camelCase (`dirtyRate`); values are strings,
 * numbers or booleans.
 */
import { InputError } from '../util/errors.js';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import { RUN_OPTION_KEYS, type RunOptionKey } from '../config/options.js';
import { METRICS, findMetric } from './metrics.js';
import type { MatrixBlock, OptionValue, SuiteComparison, SuiteSpec } from './schema.js';

export class SuiteError extends InputError {
  override readonly name = 'SuiteError';

  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly key: string | undefined,
    detail: string,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${key === undefined ? '' : `${key}: `}${detail}`);
  }
}

const TOP_KEYS = ['name', 'description', 'base', 'matrix', 'repeat', 'comparisons'] as const;
const COMPARISON_KEYS = ['name', 'title', 'vary', 'metric', 'tradeoff'] as const;
const MAX_REPEAT = 1000;
/**
 * Limits a suite file is held to before anything is expanded, so a small hostile or mistaken file
 * is refused at once instead of exhausting memory: its size, its matrix blocks, the values of one
 * option (configurations x repeats are bounded in expand.ts).
 */
export const MAX_SUITE_BYTES = 128 * 1024;
export const MAX_MATRIX_BLOCKS = 1000;
export const MAX_VALUES_PER_OPTION = 10_000;

/** `dirty-rate` as the user spells run options in a suite file. */
export function kebabOf(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `dirty-rate` or `dirtyRate` -> `dirtyRate`, if it is a run option. */
export function runOptionKeyOf(name: string): RunOptionKey | undefined {
  const camel = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return (RUN_OPTION_KEYS as readonly string[]).includes(camel) ? (camel as RunOptionKey) : undefined;
}

/** A parsed YAML document with what reading it needs: its top-level keys, line numbers, a failure that names the line. */
interface SuiteDoc {
  root: YAMLMap;
  top: Map<string, Pair>;
  lineOf: (node: Node | null | undefined) => number | undefined;
  fail: Fail;
}

export function parseSuite(text: string, file: string): SuiteSpec {
  const doc = suiteDocument(text, file);
  const { root, top } = doc;
  const fail: Fail = doc.fail;
  for (const [key, pair] of top) {
    if (!(TOP_KEYS as readonly string[]).includes(key)) {
      const hint =
        runOptionKeyOf(key) !== undefined
          ? `; run options go under base or matrix`
          : `; a suite has ${TOP_KEYS.join(', ')}`;
      fail(pair.key as Node, key, `unknown key${hint}`);
    }
  }
  const namePair = top.get('name');
  if (namePair === undefined) fail(root, 'name', 'missing: a suite needs a name');
  const name = scalarText(namePair.value as Node, 'name', fail, true);
  if (name.trim() === '') fail(namePair.value as Node, 'name', 'must not be empty');
  const descriptionPair = top.get('description');
  const description =
    descriptionPair === undefined ? '' : scalarText(descriptionPair.value as Node, 'description', fail, true);
  const matrix = matrixOf(doc);
  return {
    name: name.trim(),
    description: description.trim(),
    file,
    base: baseOf(doc),
    matrix,
    repeat: repeatOf(doc),
    comparisons: comparisonsOf(doc, matrix),
  };
}

/**
 * A run's options in a YAML file (`run --config FILE`): a mapping of run options to values, as a
 * suite's `base` (kebab-case or camelCase keys), read with the same checks and line numbers.
 */
export function parseRunOptionsFile(text: string, file: string): OptionValue[] {
  const doc = suiteDocument(
    text,
    file,
    'a run options file is a mapping of run options to values, such as `ram: 512MiB`',
  );
  return optionsOf(doc.root, '', doc);
}

/** The YAML document of a suite file, bounded in size, its syntax errors placed on their line. */
function suiteDocument(
  text: string,
  file: string,
  notMapping = 'a suite file is a mapping with name, base, matrix, repeat and comparisons',
): SuiteDoc {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_SUITE_BYTES)
    throw new SuiteError(
      file,
      undefined,
      undefined,
      `${bytes} bytes; a suite file is at most ${MAX_SUITE_BYTES} bytes (128 KiB)`,
    );
  const lineCounter = new LineCounter();
  // Duplicate keys are found by pairsOf in linear time (the YAML library's own check is quadratic).
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const lineOf = (node: Node | null | undefined): number | undefined => {
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  // Typed, so that TypeScript narrows after a call (it never returns).
  const fail: Fail = (node, key, detail) => {
    throw new SuiteError(file, lineOf(node), key, detail);
  };
  const yamlError = doc.errors[0];
  if (yamlError !== undefined) {
    const line = lineCounter.linePos(yamlError.pos[0]).line;
    // The key written on that line, if any, names where to look.
    const key = /^\s*(?:-\s+)?([A-Za-z_][\w-]*)\s*:/.exec(text.split(/\r?\n/)[line - 1] ?? '')?.[1];
    throw new SuiteError(file, line, key, `not valid YAML: ${yamlError.message.split('\n')[0]}`);
  }
  const root = doc.contents;
  if (!isMap(root)) fail(root, undefined, notMapping);
  return { root, top: pairsOf(root, fail), lineOf, fail };
}

/** `base`: run options every configuration has. */
function baseOf(doc: SuiteDoc): OptionValue[] {
  const basePair = doc.top.get('base');
  if (basePair === undefined || basePair.value === null) return [];
  if (!isMap(basePair.value))
    doc.fail(basePair.value as Node, 'base', 'must be a mapping of run options to values, such as `ram: 512MiB`');
  return optionsOf(basePair.value as YAMLMap, 'base', doc);
}

/** A mapping of run options to values (a suite's base, a run options file); `where` prefixes each path. */
function optionsOf(map: YAMLMap, where: string, { lineOf, fail }: SuiteDoc): OptionValue[] {
  const out: OptionValue[] = [];
  for (const [k, pair] of pairsOf(map, fail, where === '' ? undefined : where)) {
    const path = where === '' ? k : `${where}.${k}`;
    const key = optionKey(k, pair, where, fail);
    if (out.some((v) => v.key === key)) fail(pair.key as Node, path, `${kebabOf(key)} is given twice`);
    out.push({
      key,
      text: scalarText(pair.value as Node, path, fail),
      line: lineOf(pair.value as Node) ?? lineOf(pair.key as Node) ?? 0,
      path,
    });
  }
  return out;
}

/** `matrix`: a mapping of options to lists of values, or a list of such mappings (each crossed on its own). */
function matrixOf({ top, lineOf, fail }: SuiteDoc): MatrixBlock[] {
  const matrix: MatrixBlock[] = [];
  const matrixPair = top.get('matrix');
  if (matrixPair === undefined || matrixPair.value === null) return matrix;
  const m = matrixPair.value as Node;
  if (isMap(m)) {
    matrix.push(matrixBlock(m, 'matrix', lineOf, fail));
  } else if (isSeq(m)) {
    if (m.items.length === 0) fail(m, 'matrix', 'an empty list: give at least one mapping of options to values');
    if (m.items.length > MAX_MATRIX_BLOCKS)
      fail(m, 'matrix', `a list of ${m.items.length} blocks; at most ${MAX_MATRIX_BLOCKS}`);
    m.items.forEach((item, i) => {
      if (!isMap(item)) fail(item as Node, `matrix[${i}]`, 'must be a mapping of run options to lists of values');
      matrix.push(matrixBlock(item as YAMLMap, `matrix[${i}]`, lineOf, fail));
    });
  } else {
    fail(m, 'matrix', 'must be a mapping of run options to lists of values, or a list of such mappings');
  }
  return matrix;
}

/** `repeat`: runs of each configuration, 1 by default. */
function repeatOf({ top, fail }: SuiteDoc): number {
  const repeatPair = top.get('repeat');
  if (repeatPair === undefined) return 1;
  const t = scalarText(repeatPair.value as Node, 'repeat', fail);
  const repeat = Number(t);
  if (!/^\d+$/.test(t) || repeat < 1 || repeat > MAX_REPEAT) {
    fail(
      repeatPair.value as Node,
      'repeat',
      `must be a whole number from 1 to ${MAX_REPEAT} such as 3 (got ${JSON.stringify(t)})`,
    );
  }
  return repeat;
}

/** `comparisons`: the report's charts, each over an option the matrix varies. */
function comparisonsOf(doc: SuiteDoc, matrix: MatrixBlock[]): SuiteComparison[] {
  const { top } = doc;
  const fail: Fail = doc.fail;
  const comparisons: SuiteComparison[] = [];
  const comparisonsPair = top.get('comparisons');
  if (comparisonsPair === undefined || comparisonsPair.value === null) return comparisons;
  const c = comparisonsPair.value as Node;
  if (!isSeq(c))
    fail(c, 'comparisons', 'must be a list of mappings such as `- { vary: dirty-rate, metric: downtime }`');
  const varied = new Set(matrix.flatMap((b) => b.axes.map((a) => a.key)));
  (c.items as Node[]).forEach((item, i) => {
    const cmp = comparison(item, `comparisons[${i}]`, varied, fail);
    if (comparisons.some((other) => other.name === cmp.name))
      fail(item, `comparisons[${i}].name`, `${JSON.stringify(cmp.name)} is used twice`);
    comparisons.push(cmp);
  });
  return comparisons;
}

type Fail = (node: Node | null | undefined, key: string | undefined, detail: string) => never;

function pairsOf(map: YAMLMap, fail: Fail, where?: string): Map<string, Pair> {
  const out = new Map<string, Pair>();
  for (const pair of map.items as Pair[]) {
    const keyNode = pair.key as Node | null;
    if (!isScalar(keyNode) || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')) {
      fail(keyNode ?? (map as Node), where, 'keys must be plain names');
    }
    const key = String((keyNode as unknown as { value: unknown }).value);
    if (out.has(key))
      fail(keyNode, where === undefined ? key : `${where}.${key}`, 'is given twice (a key appears once in a mapping)');
    out.set(key, pair);
  }
  return out;
}

/** A single value: a string, a number or a boolean (true/false become `true`/`false`). */
function scalarText(node: Node | null | undefined, key: string, fail: Fail, textOnly = false): string {
  if (!isScalar(node)) {
    fail(
      node,
      key,
      textOnly ? 'must be text' : 'must be a single value such as 512MiB, 30 or true (not a list or mapping)',
    );
  }
  const v = (node as unknown as { value: unknown }).value;
  if (v === null || v === undefined) fail(node, key, 'needs a value');
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') {
    if (textOnly && typeof v === 'boolean') fail(node, key, 'must be text');
    return String(v);
  }
  return fail(node, key, 'must be a string, a number or true/false');
}

function optionKey(name: string, pair: Pair, where: string, fail: Fail): RunOptionKey {
  const key = runOptionKeyOf(name);
  if (key === undefined) {
    const guess = closestOption(name);
    fail(
      pair.key as Node,
      where === '' ? name : `${where}.${name}`,
      `not a run option${guess === undefined ? '' : `; did you mean ${guess}?`} (the options of 'migbench run --help', as dirty-rate or dirtyRate)`,
    );
  }
  return key as RunOptionKey;
}

function matrixBlock(
  map: YAMLMap,
  where: string,
  lineOf: (n: Node | null | undefined) => number | undefined,
  fail: Fail,
): MatrixBlock {
  const axes: MatrixBlock['axes'] = [];
  const pairs = pairsOf(map, fail, where);
  if (pairs.size === 0)
    fail(
      map as Node,
      where,
      'an empty mapping: give options and their values, such as `dirty-rate: [50MB/s, 200MB/s]`',
    );
  for (const [k, pair] of pairs) {
    const key = optionKey(k, pair, where, fail);
    const path = `${where}.${k}`;
    if (axes.some((a) => a.key === key)) fail(pair.key as Node, path, `${kebabOf(key)} is given twice`);
    const valueNode = pair.value as Node | null;
    const items: (Node | null)[] = isSeq(valueNode) ? (valueNode.items as (Node | null)[]) : [valueNode];
    if (items.length === 0) fail(valueNode, path, 'an empty list: give at least one value');
    if (items.length > MAX_VALUES_PER_OPTION)
      fail(valueNode, path, `a list of ${items.length} values; at most ${MAX_VALUES_PER_OPTION}`);
    const values: OptionValue[] = items.map((item, i) => ({
      key,
      text: scalarText(item, isSeq(valueNode) ? `${path}[${i}]` : path, fail),
      line: lineOf(item) ?? lineOf(pair.key as Node) ?? 0,
      path: isSeq(valueNode) ? `${path}[${i}]` : path,
    }));
    const seen = new Set<string>();
    values.forEach((v, i) => {
      if (seen.has(v.text)) fail(items[i], v.path, `${JSON.stringify(v.text)} is listed twice`);
      seen.add(v.text);
    });
    axes.push({ key, values });
  }
  return { axes, line: lineOf(map as Node) ?? 0 };
}

function comparison(node: Node, where: string, varied: ReadonlySet<RunOptionKey>, fail: Fail): SuiteComparison {
  if (!isMap(node)) fail(node, where, 'must be a mapping such as `{ vary: dirty-rate, metric: downtime }`');
  const pairs = pairsOf(node as YAMLMap, fail, where);
  for (const [k, pair] of pairs) {
    if (!(COMPARISON_KEYS as readonly string[]).includes(k)) {
      fail(pair.key as Node, `${where}.${k}`, `unknown key; a comparison has ${COMPARISON_KEYS.join(', ')}`);
    }
  }
  const varyPair = pairs.get('vary');
  if (varyPair === undefined) fail(node, `${where}.vary`, 'missing: which option varies, such as dirty-rate');
  const varyText = scalarText(varyPair.value as Node, `${where}.vary`, fail, true);
  const vary = runOptionKeyOf(varyText.trim());
  if (vary === undefined)
    fail(varyPair.value as Node, `${where}.vary`, `${JSON.stringify(varyText)} is not a run option`);
  if (!varied.has(vary)) {
    fail(
      varyPair.value as Node,
      `${where}.vary`,
      `${kebabOf(vary)} is not in the matrix; a comparison plots an option the matrix varies`,
    );
  }
  const metricPair = pairs.get('metric');
  if (metricPair === undefined)
    fail(node, `${where}.metric`, `missing: which metric to plot, one of ${METRICS.map((m) => m.name).join(', ')}`);
  const metricText = scalarText(metricPair.value as Node, `${where}.metric`, fail, true);
  const metric = findMetric(metricText);
  if (metric === undefined) {
    fail(
      metricPair.value as Node,
      `${where}.metric`,
      `must be one of ${METRICS.map((m) => m.name).join(', ')} (got ${JSON.stringify(metricText)})`,
    );
  }
  const namePair = pairs.get('name');
  const name =
    namePair === undefined
      ? `${metric.name}-vs-${kebabOf(vary)}`
      : scalarText(namePair.value as Node, `${where}.name`, fail, true).trim();
  const titlePair = pairs.get('title');
  const title =
    titlePair === undefined
      ? `${metric.label} by ${kebabOf(vary)}`
      : scalarText(titlePair.value as Node, `${where}.title`, fail, true).trim();
  const tradeoffPair = pairs.get('tradeoff');
  let tradeoff = true;
  if (tradeoffPair !== undefined) {
    const v = (tradeoffPair.value as { value?: unknown } | null)?.value;
    if (!isScalar(tradeoffPair.value) || typeof v !== 'boolean')
      fail(tradeoffPair.value as Node, `${where}.tradeoff`, 'must be true or false');
    tradeoff = v as boolean;
  }
  return { name, title, vary: vary, metric: metric.name, tradeoff };
}

/** The nearest run option within two edits, for "did you mean". */
function closestOption(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const key of RUN_OPTION_KEYS) {
    const candidate = kebabOf(key);
    const d = Math.min(
      editDistance(kebabOf(name).toLowerCase(), candidate),
      editDistance(name.toLowerCase(), key.toLowerCase()),
    );
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
