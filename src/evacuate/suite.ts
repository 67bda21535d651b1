/**
 * Evacuation suites: a suite file with `kind: evacuation` runs `migbench evacuate` configurations,
 * the matrix varying the host's options (the limit, the order, the NIC, the time limits) or run
 * options for every VM, over one host description (`host`, as a host file) or several named ones
 * (`hosts`: the matrix then varies `host`, by name; a block of a list of blocks may name its own,
 * as run suites' blocks do). Into DIR go
 * suite.json (the plan), results.jsonl (one line per finished evacuation, resumable as run suites
 * are), summary.md and summary.csv (per configuration: evacuation time, worst and summed downtime,
 * VMs left behind, bytes; mean and min-max over repeats; and, when the matrix varies
 * max-concurrent, which limit was fastest for the evacuation and for the worst downtime), and
 * report.html (those against max-concurrent, one line per setting of the rest, and the first
 * configuration's timeline and NIC).
 *
 *   name: evacuation
 *   kind: evacuation
 *   host: { vms: [...], every-vm: {...}, link: 10Gbit/s, clock: virtual }
 *   matrix: { max-concurrent: [1, 2, 4, 8], order: [listed, smallest-first] }
 *   repeat: 1
 * or
 *   hosts: { small: { vms: [...], ... }, large: { vms: [...], ... } }
 *   matrix:
 *     - { host: small, max-concurrent: [1, 2, 4, 8], order: [listed, smallest-first] }
 *     - { host: large, max-concurrent: [1, 2, 4, 8] }
 */
import { createHash } from 'node:crypto';
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import { SuiteError, MAX_SUITE_BYTES } from '../suite/parse.js';
import { OptionError } from '../util/errors.js';
import { hideSecrets } from '../suite/schema.js';
import { deriveSeed } from '../util/prng.js';
import {
  EVACUATION_KEYS,
  VM_OPTION_KEYS,
  evacuationFlag,
  resolveEvacuation,
  type EvacuationConfig,
  type EvacuationKey,
  type EvacuationText,
} from './config.js';
import { readHost, readYamlFile, placeError, type Fail, type HostFile } from './host-file.js';
import type { EvacuationResult } from './result.js';
import type { RunOptionKey } from '../config/options.js';

/** One crossed block of the matrix: each axis an evacuate option (kebab-case), a run option for every VM, or `host`. */
export interface EvacuationBlock {
  axes: { key: string; values: { text: string; line: number }[] }[];
}

export interface EvacuationSuiteSpec {
  name: string;
  description: string;
  file: string;
  /** The hosts by name: one, named '' (`host`), or those of `hosts`, whose names the `host` axis takes. */
  hosts: Map<string, HostFile>;
  /** The union of the blocks' crosses. */
  blocks: EvacuationBlock[];
  repeat: number;
}

export interface EvacuationRun {
  runId: string;
  configId: string;
  repeat: number;
  /** The matrix values that made it, kebab-case keys. */
  varied: Record<string, string>;
  config: EvacuationConfig;
}

export interface EvacuationSuitePlan {
  kind: 'evacuation';
  planVersion: 1;
  name: string;
  description: string;
  file: string;
  reduced: boolean;
  repeat: number;
  variedKeys: string[];
  /** With --shard: which shard this folder holds (0-based) of how many, and its runs (the plan keeps every run). */
  shard?: { index: number; count: number; runIds: string[] };
  runs: EvacuationRun[];
}

export interface EvacuationRecord {
  recordVersion: 1;
  suite: string;
  runId: string;
  configId: string;
  repeat: number;
  varied: Record<string, string>;
  status: 'completed' | 'partial' | 'failed';
  reason?: string;
  finishedAt: string;
  wallMs: number;
  result?: EvacuationResult;
}

const TOP_KEYS = ['name', 'kind', 'description', 'host', 'hosts', 'matrix', 'repeat'] as const;
const MAX_RUNS = 1000;

/** Whether a suite file is an evacuation suite (`kind: evacuation`). */
export function isEvacuationSuite(text: string): boolean {
  return /^kind:\s*evacuation\s*$/m.test(text);
}

export function parseEvacuationSuite(text: string, file: string): EvacuationSuiteSpec {
  const { root, lineOf, fail } = readYamlFile(text, file, MAX_SUITE_BYTES, 'a suite file');
  if (!isMap(root)) return fail(root, undefined, 'a suite file is a mapping');
  const get = (key: string): Node | undefined =>
    ((root as YAMLMap).items.find((p) => isScalar(p.key) && p.key.value === key)?.value ?? undefined) as
      Node | undefined;
  for (const p of (root as YAMLMap).items) {
    const k = isScalar(p.key) ? String(p.key.value) : '';
    if (!(TOP_KEYS as readonly string[]).includes(k))
      fail(p.key as Node, k, `unknown key; an evacuation suite has ${TOP_KEYS.join(', ')}`);
  }
  const str = (key: string, required: boolean): string => {
    const n = get(key);
    if (n === undefined) return required ? fail(root, key, `missing: an evacuation suite needs its ${key}`) : '';
    if (!isScalar(n)) return fail(n, key, 'a text');
    return String(n.value);
  };
  const name = str('name', true);
  const description = str('description', false);
  const hosts = new Map<string, HostFile>();
  const hostNode = get('host');
  const hostsNode = get('hosts');
  if ((hostNode === undefined) === (hostsNode === undefined))
    fail(
      hostNode ?? hostsNode ?? root,
      hostNode ? 'host' : 'hosts',
      'an evacuation suite has one source host (host: vms, every-vm and evacuate options) or several named ones (hosts: NAME: { vms: ... })',
    );
  if (hostNode !== undefined) hosts.set('', readHost(hostNode, file, lineOf, fail, 'host.'));
  else {
    if (!isMap(hostsNode) || hostsNode.items.length === 0)
      fail(hostsNode, 'hosts', 'a mapping of host names to hosts, such as { small: { vms: [...] } }');
    for (const p of (hostsNode as YAMLMap).items) {
      const name = isScalar(p.key) ? String(p.key.value) : '';
      if (!/^[A-Za-z0-9][\w.-]*$/.test(name))
        fail(p.key as Node, 'hosts', 'a host name of letters, digits, ., _ and -');
      hosts.set(name, readHost(p.value as Node, file, lineOf, fail, `hosts.${name}.`));
    }
  }
  const matrix = get('matrix');
  const blocks: EvacuationBlock[] = [];
  if (matrix === undefined) blocks.push({ axes: [] });
  else if (isSeq(matrix)) {
    if (matrix.items.length === 0) fail(matrix, 'matrix', 'a mapping, or a list of mappings (blocks)');
    matrix.items.forEach((b, i) => blocks.push(readBlock(b as Node, `matrix[${i}]`, hosts, lineOf, fail)));
  } else blocks.push(readBlock(matrix, 'matrix', hosts, lineOf, fail));
  const repeatText = get('repeat');
  const repeat = repeatText === undefined ? 1 : Number(isScalar(repeatText) ? repeatText.value : NaN);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 100)
    fail(repeatText, 'repeat', 'a whole number from 1 to 100');
  return { name, description, file, hosts, blocks, repeat };
}

/** One block: each key a list of values, or one value; `host` names hosts of `hosts`. */
function readBlock(
  node: Node,
  at: string,
  hosts: Map<string, HostFile>,
  lineOf: (n: Node) => number | undefined,
  fail: Fail,
): EvacuationBlock {
  if (!isMap(node)) fail(node, at, 'a mapping of options to lists of values, such as { max-concurrent: [1, 2, 4] }');
  const axes: EvacuationBlock['axes'] = [];
  for (const p of (node as YAMLMap).items) {
    const k = isScalar(p.key) ? String(p.key.value) : '';
    const camel = k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const known =
      (EVACUATION_KEYS as readonly string[]).includes(camel) || VM_OPTION_KEYS.includes(camel as RunOptionKey);
    if (k === 'host') {
      if (hosts.has(''))
        fail(p.key as Node, `${at}.host`, 'the suite has one host; name several under hosts to vary it');
    } else if (!known) fail(p.key as Node, `${at}.${k}`, 'not an evacuate option nor a run option for every VM');
    if (camel === 'target') fail(p.key as Node, `${at}.${k}`, "the targets are the host's");
    const list = p.value as Node;
    const items = isSeq(list) ? (list.items as Node[]) : isScalar(list) ? [list] : [];
    if (items.length === 0)
      fail(list ?? (p.key as Node), `${at}.${k}`, 'a list of values such as [1, 2, 4], or one value');
    const values = items.map((n, i) => {
      if (!isScalar(n)) return fail(n, `${at}.${k}[${i}]`, 'a value');
      const text = String(n.value);
      if (k === 'host' && !hosts.has(text))
        fail(n, `${at}.host`, `no host "${text}" under hosts (${[...hosts.keys()].join(', ')})`);
      return { text, line: lineOf(n) ?? 0 };
    });
    axes.push({ key: k, values });
  }
  // Several hosts and a block that names none: it crosses them all.
  if (!hosts.has('') && !axes.some((a) => a.key === 'host'))
    axes.unshift({ key: 'host', values: [...hosts.keys()].map((text) => ({ text, line: lineOf(node) ?? 0 })) });
  return { axes };
}

export interface EvacuationPlanOptions {
  reduce?: boolean;
  clock?: 'real' | 'virtual';
}

/** Guests of a reduced evacuation: the largest VM shrinks to this; the others keep their ratio to it. */
const REDUCED_LARGEST_BYTES = 32 * 2 ** 20;
/** As run suites (src/suite/reduce.ts): rates shrink 8 times less than RAM, so each run is about 8 times shorter. */
const REDUCED_TIME_FACTOR = 8;

export function planEvacuationSuite(spec: EvacuationSuiteSpec, opts: EvacuationPlanOptions = {}): EvacuationSuitePlan {
  type Combo = { key: string; text: string; line: number }[];
  const crossed = spec.blocks.map((block) => {
    const axes = opts.reduce
      ? block.axes.map((a) => ({ ...a, values: [a.values[0], a.values[a.values.length - 1]] }))
      : block.axes;
    let combos: Combo[] = [[]];
    for (const a of axes)
      combos = combos.flatMap((c) => a.values.map((v) => [...c, { key: a.key, text: v.text, line: v.line }]));
    return opts.reduce ? combos.filter((c, i) => i === 0 || i === combos.length - 1) : combos;
  });
  const combos = crossed.flat();
  const repeat = opts.reduce ? 1 : spec.repeat;
  if (combos.length * repeat > MAX_RUNS)
    throw new SuiteError(
      spec.file,
      undefined,
      'matrix',
      `${combos.length} configurations x ${repeat} repeats; at most ${MAX_RUNS} evacuations`,
    );
  const seen = new Set<string>();
  const configs = combos.flatMap((combo) => {
    const hostName = combo.find((c) => c.key === 'host')?.text ?? '';
    const host = spec.hosts.get(hostName) as HostFile;
    const options = combo.filter((c) => c.key !== 'host');
    const text = withValues(host.text, options);
    if (opts.clock) text.host.clock = opts.clock;
    let config = resolveAt(spec, host, text, options);
    if (opts.reduce) config = resolveAt(spec, host, reduceText(text, config), options);
    const varied = Object.fromEntries(combo.map((c) => [c.key, c.text]));
    const configId = configIdOf(config);
    // Two blocks may make the same configuration: it runs once.
    if (seen.has(configId)) return [];
    seen.add(configId);
    return [{ varied, config, configId }];
  });
  const runs: EvacuationRun[] = [];
  for (let r = 0; r < repeat; r++) {
    for (const c of configs) {
      // A repeat's VMs get other seeds: their content and their writes differ.
      const config = r === 0 ? c.config : reseed(c.config, r);
      runs.push({ runId: `${c.configId}-r${r}`, configId: c.configId, repeat: r, varied: c.varied, config });
    }
  }
  return {
    kind: 'evacuation',
    planVersion: 1,
    name: spec.name,
    description: spec.description,
    file: spec.file,
    reduced: opts.reduce === true,
    repeat,
    variedKeys: [...new Set(spec.blocks.flatMap((b) => b.axes.map((a) => a.key)))],
    runs,
  };
}

function reseed(config: EvacuationConfig, repeat: number): EvacuationConfig {
  return {
    ...config,
    vms: config.vms.map((vm) => ({
      ...vm,
      config: { ...vm.config, writeSeed: deriveSeed(vm.config.seed, 0x7e9e_0000 + repeat) },
    })),
  };
}

function withValues(base: EvacuationText, combo: { key: string; text: string }[]): EvacuationText {
  const text: EvacuationText = {
    host: { ...base.host },
    common: { ...base.common },
    vms: base.vms.map((v) => ({ ...v, options: { ...v.options } })),
    baseDir: base.baseDir,
  };
  for (const { key, text: value } of combo) {
    const camel = key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if ((EVACUATION_KEYS as readonly string[]).includes(camel)) (text.host as Record<string, string>)[camel] = value;
    else text.common[camel] = value;
  }
  return text;
}

function resolveAt(
  spec: EvacuationSuiteSpec,
  host: HostFile,
  text: EvacuationText,
  combo: { key: string; line: number }[],
): EvacuationConfig {
  try {
    return resolveEvacuation(text);
  } catch (e) {
    if (!(e instanceof OptionError)) throw e;
    const axis = combo.find(
      (c) =>
        evacuationFlag(c.key.replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase()) as EvacuationKey) === e.option,
    );
    if (axis) throw new SuiteError(spec.file, axis.line, `matrix.${axis.key}`, e.message);
    const placed = placeError(e, host);
    throw placed instanceof SuiteError ? placed : new SuiteError(spec.file, undefined, 'host', e.message);
  }
}

/** The evacuation shrunk: the largest VM to 32 MiB, every VM by the same factor; rates by 8 times that. */
function reduceText(text: EvacuationText, config: EvacuationConfig): EvacuationText {
  const largest = Math.max(...config.vms.map((v) => v.config.ramBytes));
  const ramFactor = Math.min(1, REDUCED_LARGEST_BYTES / largest);
  const rateFactor = Math.min(1, ramFactor * REDUCED_TIME_FACTOR);
  const out: EvacuationText = {
    host: { ...text.host },
    common: { ...text.common },
    vms: text.vms.map((v) => ({ ...v, options: { ...v.options } })),
    baseDir: text.baseDir,
  };
  const scaleBits = (bits: number | null): string | undefined =>
    bits === null ? undefined : `${Math.max(1, Math.round(bits * rateFactor))}bit/s`;
  out.host.link = scaleBits(config.nicBitsPerSec) ?? 'unlimited';
  if (config.backgroundBitsPerSec > 0) out.host.background = scaleBits(config.backgroundBitsPerSec);
  if (config.bandwidthPerMigrationBitsPerSec !== null)
    out.host.bandwidthPerMigration = scaleBits(config.bandwidthPerMigrationBitsPerSec);
  delete out.common.ram;
  delete out.common.dirtyRate;
  config.vms.forEach((vm, i) => {
    const page = vm.config.pageSizeBytes;
    out.vms[i].options.ram = String(Math.max(256 * page, Math.floor((vm.config.ramBytes * ramFactor) / page) * page));
    out.vms[i].options.dirtyRate =
      vm.config.pageWritesPerSec === 0
        ? '0'
        : `${Math.max(1, Math.round(vm.config.pageWritesPerSec * rateFactor))}pages/s`;
    // As long in the guest's terms; on the real clock at most 15 s, so a reduced suite stays short.
    const cap = vm.config.clock === 'real' ? 15_000 : Infinity;
    if (vm.config.timeoutMs !== null)
      out.vms[i].options.timeout = `${Math.ceil(Math.min(cap, vm.config.timeoutMs * (ramFactor / rateFactor)))}ms`;
  });
  return out;
}

function configIdOf(config: EvacuationConfig): string {
  // A VM's kind of memory at its clock's default is the configuration as it was before there were two.
  const vms = config.vms.map((vm) => {
    const { memory, ...rest } = vm.config;
    const byDefault = memory === (vm.config.clock === 'virtual' ? 'procedural' : 'materialized');
    return { ...vm, config: byDefault ? rest : vm.config };
  });
  return createHash('sha256')
    .update(JSON.stringify({ ...config, vms }, hideSecrets))
    .digest('hex')
    .slice(0, 12);
}

/** An evacuation's expected cost, for balancing shards: its guests' memories set up and sent about twice. */
export function evacuationCost(run: EvacuationRun): number {
  return run.config.vms.reduce((n, vm) => n + 3 * vm.config.ramBytes, 0);
}

/** The plan with this shard's share marked (src/suite/shard.ts splits it as for run suites). */
export function shardEvacuationPlan(
  plan: EvacuationSuitePlan,
  index: number,
  count: number,
  split: (runs: EvacuationRun[]) => EvacuationRun[][],
): EvacuationSuitePlan {
  return { ...plan, shard: { index, count, runIds: split(plan.runs)[index].map((r) => r.runId) } };
}
