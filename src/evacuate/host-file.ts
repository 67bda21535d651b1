/**
 * A host file (YAML): the source host's VMs and the evacuation's options, as on the command line.
 * Errors name the file, the line and the key, as suite files' do.
 *
 *   vms:                                   # required: the VMs on the source host
 *     - { name: db, ram: 2GiB, dirty-rate: 200MB/s, policy: xen }
 *     - { name: web, ram: 512MiB, dirty-rate: 20MB/s, target: 2 }
 *   every-vm: { vcpus: 2, codec: zero }    # run options for every VM (a VM's own win)
 *   link: 10Gbit/s                         # any evacuate option
 *   max-concurrent: 2
 *   order: smallest-first
 */
import path from 'node:path';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type YAMLMap } from 'yaml';
import { SuiteError } from '../suite/parse.js';
import { type OptionError } from '../util/errors.js';
import {
  EVACUATION_KEYS,
  evacuationFlag,
  setVmKey,
  type EvacuationKey,
  type EvacuationText,
  type VmText,
} from './config.js';
import type { RunOptionKey } from '../config/options.js';
import { VM_OPTION_KEYS } from './config.js';

export const MAX_HOST_FILE_BYTES = 128 * 1024;

/** A host file's evacuation, and the line of each host option (for errors found when it resolves). */
export interface HostFile {
  text: EvacuationText;
  /** `--max-concurrent` -> its line. */
  lines: Map<string, number>;
  file: string;
}

/** Keys of a host file beside the evacuation's options. */
const FILE_KEYS = ['vms', 'every-vm'] as const;

/** A YAML file's root, with the line of any node and a failure naming file:line and key. */
export interface YamlFile {
  root: Node | null;
  lineOf: (node: Node | null | undefined) => number | undefined;
  fail: Fail;
}

/** Parses a YAML file of at most `maxBytes` (`what`: "a host file"); bad YAML fails at its line. */
export function readYamlFile(source: string, file: string, maxBytes: number, what: string): YamlFile {
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > maxBytes)
    throw new SuiteError(
      file,
      undefined,
      undefined,
      `${bytes} bytes; ${what} is at most ${maxBytes} bytes (${maxBytes / 1024} KiB)`,
    );
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false });
  const lineOf = (node: Node | null | undefined): number | undefined => {
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  const fail = (node: Node | null | undefined, key: string | undefined, detail: string): never => {
    throw new SuiteError(file, lineOf(node), key, detail);
  };
  if (doc.errors[0] !== undefined) {
    const line = lineCounter.linePos(doc.errors[0].pos[0]).line;
    throw new SuiteError(file, line, undefined, `not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  }
  return { root: doc.contents as Node | null, lineOf, fail };
}

export function parseHostFile(source: string, file: string): HostFile {
  const { root, lineOf, fail } = readYamlFile(source, file, MAX_HOST_FILE_BYTES, 'a host file');
  return readHost(root, file, lineOf, fail);
}

export type Fail = (node: Node | null | undefined, key: string | undefined, detail: string) => never;

/** A host description from a YAML mapping (a host file's root, or a suite's `host`). */
export function readHost(
  root: Node | null,
  file: string,
  lineOf: (n: Node | null | undefined) => number | undefined,
  fail: Fail,
  prefix = '',
): HostFile {
  if (!isMap(root))
    return fail(
      root,
      prefix || undefined,
      'a host is a mapping with vms (a list of VMs), every-vm and evacuate options such as max-concurrent',
    );
  const text: EvacuationText = { host: {}, common: {}, vms: [] };
  const lines = new Map<string, number>();
  for (const pair of (root as YAMLMap).items) {
    const keyNode = pair.key as Node;
    const key = isScalar(keyNode) ? String(keyNode.value) : '';
    const path = `${prefix}${key}`;
    if (key === 'vms') {
      const list = pair.value as Node;
      if (!isSeq(list) || list.items.length === 0)
        fail(
          list ?? keyNode,
          path,
          'a list of VMs, each a mapping such as { name: db, ram: 2GiB, dirty-rate: 200MB/s }',
        );
      (list as unknown as { items: Node[] }).items.forEach((item, i) => {
        const where = `${file}:${lineOf(item) ?? '?'}: ${path}[${i}]`;
        if (!isMap(item)) fail(item, `${path}[${i}]`, 'a VM is a mapping of name, target and run options');
        const vm: VmText = { where, options: {} };
        for (const p of (item as YAMLMap).items) {
          const k = scalar(p.key as Node, `${path}[${i}]`, fail);
          const v = scalar(p.value as Node, `${path}[${i}].${k}`, fail);
          setVmKey(vm, k, v, (detail) => new SuiteError(file, lineOf(p.key as Node), `${path}[${i}].${k}`, detail));
        }
        text.vms.push(vm);
      });
    } else if (key === 'every-vm') {
      const m = pair.value as Node;
      if (!isMap(m)) fail(m ?? keyNode, path, 'a mapping of run options for every VM, such as { vcpus: 2 }');
      const vm: VmText = { where: `${file}:${lineOf(m)}: ${path}`, options: {} };
      for (const p of (m as YAMLMap).items) {
        const k = scalar(p.key as Node, path, fail);
        const v = scalar(p.value as Node, `${path}.${k}`, fail);
        if (k === 'name' || k === 'target') fail(p.key as Node, `${path}.${k}`, `${k} is each VM's own`);
        setVmKey(vm, k, v, (detail) => new SuiteError(file, lineOf(p.key as Node), `${path}.${k}`, detail));
      }
      text.common = vm.options;
    } else {
      const camel = key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as EvacuationKey;
      if (!(EVACUATION_KEYS as readonly string[]).includes(camel)) {
        const hint = VM_OPTION_KEYS.includes(camel as unknown as RunOptionKey)
          ? '; run options for every VM go under every-vm'
          : `; a host has ${[...FILE_KEYS, ...EVACUATION_KEYS.map((k) => evacuationFlag(k).slice(2))].join(', ')}`;
        fail(keyNode, path, `unknown key${hint}`);
      }
      lines.set(evacuationFlag(camel), lineOf(keyNode) ?? 0);
      if (camel === 'target') {
        const v = pair.value as Node;
        text.host.target = isSeq(v)
          ? (v as unknown as { items: Node[] }).items.map((n, i) => scalar(n, `${path}[${i}]`, fail))
          : [scalar(v, path, fail)];
      } else {
        if ((text.host as Record<string, unknown>)[camel] !== undefined) fail(keyNode, path, 'given twice');
        (text.host as Record<string, string>)[camel] = scalar(pair.value as Node, path, fail);
      }
    }
  }
  if (text.vms.length === 0)
    fail(root, `${prefix}vms`, 'missing: a host needs its VMs, a list such as [{ ram: 1GiB, dirty-rate: 100MB/s }]');
  text.baseDir = path.dirname(path.resolve(file));
  return { text, lines, file };
}

function scalar(node: Node | null, key: string, fail: Fail): string {
  if (!isScalar(node) || node.value === null || typeof node.value === 'object')
    return fail(node, key, 'a value such as 512MiB, 2 or true');
  return String(node.value);
}

/** An OptionError about a host option, placed at its line in the file. */
export function placeError(e: OptionError, host: HostFile): SuiteError | OptionError {
  const line = host.lines.get(e.option);
  if (line === undefined || /^.+:\d+: /.test(e.message)) return e;
  return new SuiteError(host.file, line, e.option.slice(2), e.message);
}
