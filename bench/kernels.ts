/**
 * `npm run bench`: the kernel micro-benchmarks. For each kernel, the wasm build, its TypeScript
 * reference and, where a copy is the physical limit, the machine's memcpy over the same bytes, all
 * in this one run; then the targets, as ratios measured here. Human table by default,
 * `--json` for machines (progress goes to stderr either way).
 */
import { instantiateKernels, loadKernelModule } from '../src/kernel/loader.js';
import { ReferenceKernels } from '../src/kernel/reference.js';
import type { Kernels } from '../src/kernel/types.js';
import { Arena } from './lib/arena.js';
import { parseBenchArgs, progress } from './lib/args.js';
import { benchEnvironment, formatEnvironmentHeader } from './lib/environment.js';
import {
  BENCH_SCHEMA_VERSION,
  addRatios,
  checkTarget,
  findCase,
  formatKernelTable,
  formatTargetsTable,
  toJson,
  type BenchDocument,
  type KernelCaseResult,
  type TargetResult,
} from './lib/report.js';
import { runCases, type CaseSpec, type TimeBudget } from './lib/tinybench.js';
import { GiB } from './lib/units.js';
import { SCAN_GROUP, reserveScan, scanCases, scanVariant } from './cases/scan.js';
import { ZERO_GROUP, ZERO_VARIANT, reserveZero, zeroCases } from './cases/zero.js';
import { PACK_GROUP, PACK_VARIANT, UNPACK_GROUP, packCases, reservePack } from './cases/pack.js';
import { lz4Cases, reserveLz4 } from './cases/lz4.js';
import { XBZRLE_ENCODE_GROUP, reserveXbzrle, xbzrleCases, xbzrleVariant } from './cases/xbzrle.js';

const USAGE = `usage: node dist/bench/kernels.js [--json] [--filter TEXT]
  --json         print one JSON document on stdout instead of tables
  --filter TEXT  run only the cases whose kernel or case name contains TEXT`;

/** Scans are short and many; copies of 64-256 MiB take tens of ms each. */
const SCAN_BUDGET: TimeBudget = { timeMs: 300, minIterations: 4, warmupMs: 50, warmupIterations: 3, passes: 3 };
const BULK_BUDGET: TimeBudget = { timeMs: 450, minIterations: 2, warmupMs: 100, warmupIterations: 2, passes: 3 };

const METHOD = [
  'GB/s = bytes per operation * 1000 / median latency (ms) / 1e9; decimal GB.',
  "Each case's implementations take turns: 3 round-robin passes each, statistics over all samples, so a busy neighbour weighs on all of them alike.",
  'Ratios are median latencies of the same bytes measured in this run: "vs TS ref" = TS reference time / this row\'s time; "vs memcpy" = memcpy time / this row\'s time.',
  'memcpy = TypedArray.prototype.set between two regions of the same shared memory.',
  'scan-and-clear: GB/s counts bitmap bytes; before every call, outside the timed region, the bitmap is restored from one of 8 pristine bitmaps of the density, in turn (one bitmap repeated lets the branch predictor learn it).',
  'zero test: one call per 4 KiB page over 64 MiB of all-zero pages.',
  "pack / unpack: GB/s counts page bytes (256 MiB); frames of 256 pages, written one after another into a frame area; memcpy copies a contiguous 256 MiB 1 MiB at a time; the diagnostic case runs the kernels over contiguous pages, to tell the access pattern's cost from the kernel's.",
  'xbzrle: 4,096 page pairs; changes as 8-byte writes at random offsets (as the emulated vCPUs write) or as independently scattered bytes (worst case); encode into one page-sized scratch buffer, decode onto the old versions.',
  'lz4: the lz4-wasm-nodejs library, one call per 4 KiB page; GB/s counts uncompressed bytes.',
];

function targets(cases: readonly KernelCaseResult[]): {
  targets: TargetResult[];
  rows: Map<KernelCaseResult, TargetResult>;
} {
  const rows = new Map<KernelCaseResult, TargetResult>();
  const out: TargetResult[] = [];
  const add = (
    name: string,
    group: string,
    variant: string,
    against: 'timesTsReference' | 'timesMemcpy',
    atLeast: number,
  ): void => {
    const row = findCase(cases, group, variant, 'wasm');
    const unit = against === 'timesTsReference' ? 'x TS reference' : 'x memcpy';
    const t = checkTarget(name, atLeast, unit, row?.[against] ?? null, row ? {} : { note: 'not run (filtered out)' });
    out.push(t);
    if (row) rows.set(row, t);
  };
  add('scan-and-clear, 1 % dirty, 64 GiB-guest bitmap', SCAN_GROUP, scanVariant(64 * GiB, 1), 'timesTsReference', 5);
  add('scan-and-clear, 0 % dirty, 64 GiB-guest bitmap', SCAN_GROUP, scanVariant(64 * GiB, 0), 'timesTsReference', 20);
  add('scan-and-clear, 0 % dirty, 4 GiB-guest bitmap', SCAN_GROUP, scanVariant(4 * GiB, 0), 'timesTsReference', 20);
  add('zero-page test, all-zero pages', ZERO_GROUP, ZERO_VARIANT, 'timesMemcpy', 0.5);
  add('pack, 25 % of a 1 GiB guest', PACK_GROUP, PACK_VARIANT, 'timesMemcpy', 0.7);
  add('unpack, 25 % of a 1 GiB guest', UNPACK_GROUP, PACK_VARIANT, 'timesMemcpy', 0.7);
  add(
    'xbzrle encode, 1 % changed, 8-byte writes',
    XBZRLE_ENCODE_GROUP,
    xbzrleVariant(1, '8-byte writes'),
    'timesTsReference',
    3,
  );
  add(
    'xbzrle encode, 1 % changed, scattered bytes',
    XBZRLE_ENCODE_GROUP,
    xbzrleVariant(1, 'scattered bytes'),
    'timesTsReference',
    3,
  );
  return { targets: out, rows };
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), USAGE);
  const startedAt = new Date().toISOString();
  const environment = await benchEnvironment();
  const module = await loadKernelModule();
  const selected = (cases: CaseSpec[]): CaseSpec[] =>
    args.filter === null
      ? cases
      : cases.filter((c) => `${c.group} ${c.variant}`.toLowerCase().includes(args.filter as string));

  /** A group: its regions reserved in a fresh memory, its cases built over that memory's kernels. */
  const group = <S>(
    name: string,
    budget: TimeBudget,
    reserve: (arena: Arena) => S,
    build: (s: S, memory: WebAssembly.Memory, wasm: Kernels, ts: Kernels) => CaseSpec[],
  ) => ({
    name,
    budget,
    build: (): CaseSpec[] => {
      const arena = new Arena();
      const s = reserve(arena);
      const memory = arena.createMemory();
      return build(s, memory, instantiateKernels(module, memory), new ReferenceKernels(memory));
    },
  });
  // One memory per group, set up just before it runs, so a group's set-up never disturbs another's cache.
  const groups = [
    group('scan-and-clear', SCAN_BUDGET, reserveScan, scanCases),
    group('zero test', BULK_BUDGET, reserveZero, zeroCases),
    group('pack / unpack', BULK_BUDGET, reservePack, packCases),
    group('xbzrle', BULK_BUDGET, reserveXbzrle, xbzrleCases),
    group('lz4', BULK_BUDGET, reserveLz4, (s, memory) => lz4Cases(s, memory)),
  ];

  const cases: KernelCaseResult[] = [];
  for (const g of groups) {
    progress(`${g.name}: setting up`);
    const specs = selected(g.build());
    if (specs.length > 0) cases.push(...(await runCases(specs, g.budget)));
  }
  addRatios(cases);
  const { targets: checked, rows } = targets(cases);

  if (args.json) {
    const doc: BenchDocument<KernelCaseResult> = {
      schemaVersion: BENCH_SCHEMA_VERSION,
      tool: 'migbench',
      suite: 'kernels',
      startedAt,
      environment,
      method: METHOD,
      cases,
      targets: checked,
      missing: [],
    };
    process.stdout.write(toJson(doc));
    return;
  }
  const out = [
    formatEnvironmentHeader('bench', environment, [
      ['suite', 'kernels · GB/s from median latency · ratios measured in this run'],
    ]),
    '',
    formatKernelTable(cases, rows),
    '',
    'Targets',
    formatTargetsTable(checked),
    '',
    ...METHOD.map((m) => `  ${m}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
