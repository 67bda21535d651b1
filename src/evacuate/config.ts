/**
 * What an evacuation is: a source host's VMs, the NIC they all leave by, the targets, and the
 * rules real clusters apply (simultaneous-migration limits, an order, a per-migration bandwidth,
 * KubeVirt's time limits). The command line (`migbench evacuate`), host files and suite files
 * give it as text in one shape, EvacuationText, which resolveEvacuation turns into an
 * EvacuationConfig: every VM a full RunConfig, resolved by the same resolver as `migbench run`
 * (so every policy, dirty log, codec and aid of `run` works per VM or for all), with errors that
 * say which VM (`--vm 2` or `host.yaml:7: vms[1]`) and which key.
 */
import type { RunConfig } from '../config/types.js';
import { OptionError } from '../util/errors.js';
import {
  LIMITS,
  RUN_OPTION_KEYS,
  flagOf,
  parseName,
  resolveRunConfig,
  resolveToken,
  type RawRunOptions,
  type RunOptionKey,
} from '../config/options.js';
import { parseCount, parseDuration, parseLinkRate } from '../util/units.js';
import { parseTarget, type HostPort } from '../wire/address.js';
import { deriveSeed } from '../util/prng.js';
import { formatBitRate } from '../util/format.js';
import { TIMEOUT_ACTIONS, type TimeoutAction } from '../driver/limits.js';

export const ORDERS = ['listed', 'smallest-first', 'largest-first', 'least-dirty-first', 'most-dirty-first'] as const;
export type EvacuationOrder = (typeof ORDERS)[number];

/** The evacuation's own options (the host's), by camelCase name; kebab-case on the command line and in files. */
export const EVACUATION_KEYS = [
  'link',
  'latency',
  'clock',
  'maxConcurrent',
  'maxPerTarget',
  'targets',
  'target',
  'bandwidthPerMigration',
  'order',
  'background',
  'completionTimeoutPerGib',
  'onCompletionTimeout',
  'progressTimeout',
  'onProgressTimeout',
  'seed',
  'token',
  'tokenFile',
] as const;
export type EvacuationKey = (typeof EVACUATION_KEYS)[number];

/** Run options a VM may not set: they belong to the host (its NIC, its clock, its targets). */
const HOST_ONLY: readonly RunOptionKey[] = ['link', 'latency', 'clock', 'target', 'token', 'tokenFile', 'fault'];
/** Run options every VM, or one VM, may set. */
export const VM_OPTION_KEYS: readonly RunOptionKey[] = RUN_OPTION_KEYS.filter((k) => !HOST_ONLY.includes(k));

export interface EvacuationOptionSpec {
  key: EvacuationKey;
  flags: string;
  description: string;
  defaultText: string;
}

/** Help for the evacuation's own options, in help order. */
export const EVACUATION_OPTION_SPECS: readonly EvacuationOptionSpec[] = [
  {
    key: 'link',
    flags: '--link <rate>',
    description: "the source host's NIC, which every migration shares (same units as run --link)",
    defaultText: '10Gbit/s',
  },
  {
    key: 'latency',
    flags: '--latency <duration>',
    description: 'one-way latency to the targets',
    defaultText: '0.1ms',
  },
  {
    key: 'clock',
    flags: '--clock <kind>',
    description:
      'real (every migration on its own threads in real time) or virtual (one simulated time for all: deterministic, affordable for 8+ guests)',
    defaultText: 'real',
  },
  {
    key: 'maxConcurrent',
    flags: '--max-concurrent <n>',
    description:
      "migrations at once from the source host (Hyper-V's MaximumVirtualMachineMigrations, KubeVirt's parallelOutboundMigrationsPerNode), 1 to 64",
    defaultText: '2',
  },
  {
    key: 'maxPerTarget',
    flags: '--max-per-target <n>',
    description: 'migrations at once into one target host, 1 to 64',
    defaultText: 'no limit beyond --max-concurrent',
  },
  {
    key: 'targets',
    flags: '--targets <n>',
    description:
      'target hosts in this process (VMs go to the one with the fewest migrations running, or to their own target=N), 1 to 64',
    defaultText: '1',
  },
  {
    key: 'target',
    flags: '--target <url...>',
    description:
      'migrate over TCP to `migbench receive` hosts at tcp://HOST:PORT, one or more (real clock; each receiver needs --max-migrations at least its share)',
    defaultText: 'none (in-process targets)',
  },
  {
    key: 'bandwidthPerMigration',
    flags: '--bandwidth-per-migration <rate>',
    description:
      "KubeVirt's bandwidthPerMigration: each migration's own rate limit (QEMU's max-bandwidth, lifted at switch-over) unless a VM sets max-bandwidth",
    defaultText: 'none',
  },
  {
    key: 'order',
    flags: '--order <order>',
    description: `which VMs go first: ${ORDERS.join(', ')} (RAM size, or dirty rate)`,
    defaultText: 'listed',
  },
  {
    key: 'background',
    flags: '--background <share|rate>',
    description:
      "the VMs' own traffic on the NIC, taken from what migrations can use: a share (25%) or a rate (2Gbit/s)",
    defaultText: '0',
  },
  {
    key: 'completionTimeoutPerGib',
    flags: '--completion-timeout-per-gib <duration>',
    description:
      "KubeVirt's completionTimeoutPerGiB: a migration may take this long per GiB of RAM (KubeVirt's default is 800s)",
    defaultText: 'none',
  },
  {
    key: 'onCompletionTimeout',
    flags: '--on-completion-timeout <action>',
    description: `what the completion timeout does: ${TIMEOUT_ACTIONS.join(', ')} (KubeVirt cancels, or switches to post-copy with allowPostCopy)`,
    defaultText: 'cancel',
  },
  {
    key: 'progressTimeout',
    flags: '--progress-timeout <duration>',
    description:
      "KubeVirt's progressTimeout: a migration whose data remaining sets no new low for this long (KubeVirt's default is 150s)",
    defaultText: 'none',
  },
  {
    key: 'onProgressTimeout',
    flags: '--on-progress-timeout <action>',
    description: `what the progress timeout does: ${TIMEOUT_ACTIONS.join(', ')} (KubeVirt cancels)`,
    defaultText: 'cancel',
  },
  {
    key: 'seed',
    flags: '--seed <n>',
    description:
      "seed of the evacuation: each VM's seed derives from it and its place in the list, unless the VM sets seed",
    defaultText: '1',
  },
  {
    key: 'token',
    flags: '--token <secret>',
    description:
      'with --target: the shared secret (streams are then TLS keyed by it; prefer MIGBENCH_TOKEN or --token-file)',
    defaultText: 'MIGBENCH_TOKEN, else none',
  },
  {
    key: 'tokenFile',
    flags: '--token-file <path>',
    description: 'with --target: read the shared secret from this file',
    defaultText: 'none',
  },
];

/** One VM as given: its run options (kebab or camel keys resolved to camel), its name, its target. */
export interface VmText {
  /** Where it was given, for messages: `--vm 2`, `host.yaml:7: vms[1]`. */
  where: string;
  name?: string;
  /** 1-based target host; absent: any. */
  target?: string;
  options: RawRunOptions;
}

/** An evacuation as text: the host's options, the options for every VM, and the VMs. */
export interface EvacuationText {
  host: Partial<Record<Exclude<EvacuationKey, 'target'>, string>> & { target?: string[] };
  common: RawRunOptions;
  vms: VmText[];
  /** Where relative strategy files (policy=./my-policy.js) start: a host or suite file's folder; default the working directory. */
  baseDir?: string;
}

export interface EvacuationTarget {
  name: string;
  /** A `migbench receive` host; null: in this process. */
  address: HostPort | null;
}

export interface EvacuationVm {
  name: string;
  /** Its place in the list as given, from 0. */
  index: number;
  /** A fixed target host (index into targets); null: whichever has room. */
  target: number | null;
  config: RunConfig;
  /** The run options given for it (the host's common ones, then its own), for the record. */
  options: Record<string, string>;
}

export interface EvacuationConfig {
  clock: 'real' | 'virtual';
  /** The NIC's rate, bits/s; null: unlimited. */
  nicBitsPerSec: number | null;
  latencyMs: number;
  /** The VMs' own traffic on the NIC, bits/s (taken from what migrations may use). */
  backgroundBitsPerSec: number;
  maxConcurrent: number;
  maxPerTarget: number | null;
  targets: EvacuationTarget[];
  order: EvacuationOrder;
  bandwidthPerMigrationBitsPerSec: number | null;
  completionTimeoutPerGibMs: number | null;
  onCompletionTimeout: TimeoutAction;
  progressTimeoutMs: number | null;
  onProgressTimeout: TimeoutAction;
  seed: number;
  /** In the order given. */
  vms: EvacuationVm[];
}

const MAX_VMS = 256;
const COUNT = { min: 1, max: 64 };

/** `ram=512MiB,dirty-rate=50MB/s,name=db`; a piece without `=` continues the value before (`codec=zero,lz4`). */
export function parseVmText(text: string, where: string): VmText {
  const vm: VmText = { where, options: {} };
  let lastKey: string | null = null;
  const pairs: [string, string][] = [];
  for (const piece of text.split(',')) {
    const eq = piece.indexOf('=');
    if (eq < 0) {
      if (lastKey === null || piece.trim() === '')
        throw new OptionError(
          '--vm',
          `${where}: expected KEY=VALUE pairs separated by commas such as ram=512MiB,dirty-rate=50MB/s (got ${JSON.stringify(text)})`,
        );
      pairs[pairs.length - 1][1] += `,${piece}`;
      continue;
    }
    lastKey = piece.slice(0, eq).trim();
    pairs.push([lastKey, piece.slice(eq + 1).trim()]);
  }
  for (const [key, value] of pairs)
    setVmKey(vm, key, value, (detail) => new OptionError('--vm', `${where}: ${key}: ${detail}`));
  return vm;
}

/** Sets one key of a VM, as given in --vm or a host file; `fail` builds the error. */
export function setVmKey(vm: VmText, key: string, value: string, fail: (detail: string) => Error): void {
  if (key === 'name') {
    if (!/^[A-Za-z0-9][\w.-]{0,63}$/.test(value))
      throw fail(`a name is 1 to 64 letters, digits, '.', '_' or '-' such as db-1 (got ${JSON.stringify(value)})`);
    if (vm.name !== undefined) throw fail('given twice');
    vm.name = value;
    return;
  }
  if (key === 'target') {
    // One notation: a decimal number, as the error for a bad one says (not 0x1, 1e0 or 01).
    if (!/^[1-9]\d*$/.test(value)) throw fail(`the target host's number, 1, 2, ... (got ${JSON.stringify(value)})`);
    if (vm.target !== undefined) throw fail('given twice');
    vm.target = value;
    return;
  }
  const camel = key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as RunOptionKey;
  if (HOST_ONLY.includes(camel))
    throw fail(`${key} is the host's: give it to the evacuation (every VM shares the NIC, the clock and the targets)`);
  if (!VM_OPTION_KEYS.includes(camel))
    throw fail(
      `not a VM option; a VM takes name, target and the run options ${VM_OPTION_KEYS.map((k) => flagOf(k).slice(2)).join(', ')}`,
    );
  if (vm.options[camel] !== undefined) throw fail('given twice');
  vm.options[camel] = value;
}

/** The evacuation's flag for a key: `--max-concurrent`. */
export function evacuationFlag(key: EvacuationKey): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The host's settings of an evacuation: everything but its targets and VMs. */
type HostSettings = Omit<EvacuationConfig, 'targets' | 'vms'>;

export function resolveEvacuation(text: EvacuationText, env: NodeJS.ProcessEnv = process.env): EvacuationConfig {
  if (text.vms.length === 0)
    throw new OptionError(
      '--vm',
      'an evacuation needs at least one VM: --vm ram=512MiB,dirty-rate=50MB/s (repeat it), or --host-file with a vms list',
    );
  if (text.vms.length > MAX_VMS)
    throw new OptionError('--vm', `an evacuation takes at most ${MAX_VMS} VMs (got ${text.vms.length})`);
  const host = resolveHost(text.host);
  const { targets, remote } = resolveTargets(text.host, host.clock, env);
  const names = new Set<string>();
  const vms = text.vms.map((vm, index): EvacuationVm => {
    const name = vm.name ?? `vm-${index + 1}`;
    if (names.has(name)) throw new OptionError('--vm', `${vm.where}: name: ${name} is given to two VMs`);
    names.add(name);
    return resolveVm(text, host, { targets, remote }, vm, name, index);
  });
  // In this order: an evacuation suite's run ids hash the configuration as JSON.
  const { clock, nicBitsPerSec, latencyMs, backgroundBitsPerSec, maxConcurrent, maxPerTarget, order } = host;
  return {
    clock,
    nicBitsPerSec,
    latencyMs,
    backgroundBitsPerSec,
    maxConcurrent,
    maxPerTarget,
    targets,
    order,
    bandwidthPerMigrationBitsPerSec: host.bandwidthPerMigrationBitsPerSec,
    completionTimeoutPerGibMs: host.completionTimeoutPerGibMs,
    onCompletionTimeout: host.onCompletionTimeout,
    progressTimeoutMs: host.progressTimeoutMs,
    onProgressTimeout: host.onProgressTimeout,
    seed: host.seed,
    vms,
  };
}

/** The host's value of an option as typed, or its default. */
function typedOf(h: EvacuationText['host']): (key: Exclude<EvacuationKey, 'target'>) => string {
  return (key) => h[key] ?? (EVACUATION_OPTION_SPECS.find((s) => s.key === key) as EvacuationOptionSpec).defaultText;
}

function resolveHost(h: EvacuationText['host']): HostSettings {
  const typed = typedOf(h);
  const clock = parseName('--clock', typed('clock'), ['real', 'virtual'] as const);
  const nicBitsPerSec = parseLinkRate('--link', typed('link'));
  const latencyMs = parseDuration('--latency', typed('latency'));
  if (latencyMs > LIMITS.maxLatencyMs)
    throw new OptionError(
      '--latency',
      `--latency must be a duration from 0 to 10s such as 0.1ms (got ${JSON.stringify(h.latency)})`,
    );
  const completionTimeoutPerGibMs = optionalDuration('--completion-timeout-per-gib', h.completionTimeoutPerGib);
  const progressTimeoutMs = optionalDuration('--progress-timeout', h.progressTimeout);
  if (h.onCompletionTimeout !== undefined && completionTimeoutPerGibMs === null)
    throw new OptionError(
      '--on-completion-timeout',
      '--on-completion-timeout only applies with --completion-timeout-per-gib',
    );
  if (h.onProgressTimeout !== undefined && progressTimeoutMs === null)
    throw new OptionError('--on-progress-timeout', '--on-progress-timeout only applies with --progress-timeout');
  return {
    clock,
    nicBitsPerSec,
    latencyMs,
    backgroundBitsPerSec: parseBackground(typed('background'), nicBitsPerSec),
    maxConcurrent: parseCount('--max-concurrent', typed('maxConcurrent'), COUNT),
    maxPerTarget: h.maxPerTarget === undefined ? null : parseCount('--max-per-target', h.maxPerTarget, COUNT),
    order: parseName('--order', typed('order'), ORDERS),
    bandwidthPerMigrationBitsPerSec:
      h.bandwidthPerMigration === undefined || h.bandwidthPerMigration.trim().toLowerCase() === 'none'
        ? null
        : parseLinkRate('--bandwidth-per-migration', h.bandwidthPerMigration),
    completionTimeoutPerGibMs,
    onCompletionTimeout: parseName('--on-completion-timeout', typed('onCompletionTimeout'), TIMEOUT_ACTIONS),
    progressTimeoutMs,
    onProgressTimeout: parseName('--on-progress-timeout', typed('onProgressTimeout'), TIMEOUT_ACTIONS),
    seed: parseCount('--seed', typed('seed'), LIMITS.seed),
  };
}

/** The targets: TCP receivers (with the options every VM's migration to them takes), or hosts in this process. */
function resolveTargets(
  h: EvacuationText['host'],
  clock: 'real' | 'virtual',
  env: NodeJS.ProcessEnv,
): { targets: EvacuationTarget[]; remote: RawRunOptions | null } {
  const urls = h.target ?? [];
  if (urls.length === 0) {
    const stray = (['token', 'tokenFile'] as const).find((k) => h[k] !== undefined);
    if (stray) throw new OptionError(evacuationFlag(stray), `${evacuationFlag(stray)} only applies with --target`);
    const n = parseCount('--targets', typedOf(h)('targets'), COUNT);
    return { targets: Array.from({ length: n }, (_, i) => ({ name: `target-${i + 1}`, address: null })), remote: null };
  }
  if (h.targets !== undefined)
    throw new OptionError(
      '--targets',
      '--targets counts in-process targets; with --target the targets are the URLs given',
    );
  if (clock === 'virtual')
    throw new OptionError('--target', '--target needs --clock real (a real network runs in real time)');
  if (h.latency !== undefined)
    throw new OptionError(
      '--latency',
      "--latency emulates the in-process link; with --target the real network's latency applies",
    );
  const token = resolveToken(h.token, h.tokenFile, env);
  return {
    targets: urls.map((u) => ({ name: u.trim(), address: parseTarget('--target', u) })),
    remote: { token: token ?? undefined },
  };
}

/** One VM: its target, and its run options over the host's and every VM's, resolved as a run's. */
function resolveVm(
  text: EvacuationText,
  host: HostSettings,
  where: { targets: EvacuationTarget[]; remote: RawRunOptions | null },
  vm: EvacuationText['vms'][number],
  name: string,
  index: number,
): EvacuationVm {
  const h = text.host;
  const target = vmTarget(vm, where.targets.length);
  const options: RawRunOptions = { ...text.common, ...vm.options };
  const given = Object.fromEntries(
    Object.entries(options)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
  const { bandwidthPerMigrationBitsPerSec: perMigration, onCompletionTimeout } = host;
  const postcopyLimit =
    (host.completionTimeoutPerGibMs !== null && onCompletionTimeout === 'postcopy') ||
    (host.progressTimeoutMs !== null && host.onProgressTimeout === 'postcopy');
  const raw: RawRunOptions = {
    ...options,
    link: h.link,
    latency: where.remote ? undefined : h.latency,
    clock: host.clock,
    seed: vm.options.seed ?? text.common.seed ?? String(deriveSeed(host.seed, index)),
    maxBandwidth: options.maxBandwidth ?? (perMigration === null ? undefined : String(perMigration) + 'bit/s'),
    // A time limit that switches to post-copy needs post-copy allowed (KubeVirt's allowPostCopy).
    postcopy: options.postcopy ?? (postcopyLimit ? true : undefined),
    // The target is the VM's own, or the first until it is placed (src/evacuate/evacuate.ts).
    ...(where.remote ? { ...where.remote, target: (h.target ?? [])[target ?? 0] } : {}),
  };
  let config: RunConfig;
  try {
    config = resolveRunConfig(raw, { baseDir: text.baseDir });
  } catch (e) {
    if (!(e instanceof OptionError)) throw e;
    if (options.postcopy === undefined && raw.postcopy === true && e.option === '--postcopy') {
      const flag = onCompletionTimeout === 'postcopy' ? '--on-completion-timeout' : '--on-progress-timeout';
      throw new OptionError(
        flag,
        `${vm.where} (${name}): ${flag} postcopy switches to post-copy, which this VM's pre-copy loop does not take: ${e.message}`,
      );
    }
    throw new OptionError(e.option, `${vm.where} (${name}): ${e.message}`);
  }
  return { name, index, target, config, options: given };
}

/** A VM's own target host, 0-based, or null for whichever has room. */
function vmTarget(vm: EvacuationText['vms'][number], targets: number): number | null {
  if (vm.target === undefined) return null;
  const t = Number(vm.target);
  if (!(Number.isInteger(t) && t >= 1 && t <= targets)) {
    throw new OptionError(
      '--vm',
      `${vm.where}: target: the target host's number, 1 to ${targets} (got ${JSON.stringify(vm.target)})`,
    );
  }
  return t - 1;
}

function optionalDuration(flag: string, text: string | undefined): number | null {
  if (text === undefined || text.trim().toLowerCase() === 'none') return null;
  const ms = parseDuration(flag, text);
  if (!(ms > 0))
    throw new OptionError(
      flag,
      `${flag} must be a positive duration such as 800s, or none (got ${JSON.stringify(text)})`,
    );
  return ms;
}

/** `25%` of the NIC, or a rate; below the NIC's rate. */
function parseBackground(text: string, nicBitsPerSec: number | null): number {
  const t = text.trim();
  if (t === '0' || t === '0%') return 0;
  let bits: number;
  const share = /^(\d+(?:\.\d+)?)\s*%$/.exec(t);
  if (share) {
    if (nicBitsPerSec === null)
      throw new OptionError(
        '--background',
        '--background as a share needs a NIC rate (--link): an unlimited NIC has no share',
      );
    bits = (nicBitsPerSec * Number(share[1])) / 100;
  } else {
    bits = parseLinkRate('--background', t) ?? Infinity;
  }
  if (nicBitsPerSec !== null && !(bits < nicBitsPerSec)) {
    throw new OptionError(
      '--background',
      `--background must leave the migrations some of the NIC: below ${formatBitRate(nicBitsPerSec)} or 100% (got ${JSON.stringify(text)})`,
    );
  }
  if (!Number.isFinite(bits))
    throw new OptionError(
      '--background',
      `--background must be a share such as 25% or a rate such as 2Gbit/s (got ${JSON.stringify(text)})`,
    );
  return bits;
}

/** The VMs in the order they are to go (ties keep the listed order). */
export function orderedVms(ev: EvacuationConfig): EvacuationVm[] {
  const dirty = (vm: EvacuationVm): number => vm.config.pageWritesPerSec * vm.config.pageSizeBytes;
  const key: Record<EvacuationOrder, (vm: EvacuationVm) => number> = {
    listed: () => 0,
    'smallest-first': (vm) => vm.config.ramBytes,
    'largest-first': (vm) => -vm.config.ramBytes,
    'least-dirty-first': dirty,
    'most-dirty-first': (vm) => -dirty(vm),
  };
  const k = key[ev.order];
  return [...ev.vms].sort((a, b) => k(a) - k(b) || a.index - b.index);
}
