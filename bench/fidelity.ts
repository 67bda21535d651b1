/**
 * `npm run fidelity`: every real QEMU 10.0.2 migration in bench/reference/qemu/ (measurements, see
 * PROVENANCE.md) run through migbench on the virtual clock with the same RAM, working set, dirty
 * rate, bandwidth, downtime limit, xbzrle cache and auto-converge, and compared: convergence
 * verdict, total time, bytes on the wire, dirty-log syncs, downtime, highest throttle. Prints a
 * table and the median errors, and writes results/fidelity.json. Not a timed test: a few minutes.
 *
 * How a scenario becomes migbench options (scenarioOptions): 1 vCPU; the working set is the hot set
 * and takes every write (random) or is walked in order (seq); QEMU's own zero-page count gives the
 * share of zero pages, the rest random (the dirtier fills its working set with random bytes);
 * codec zero (QEMU sends a zero page as a few bytes), plus xbzrle with its cache where QEMU had it;
 * `max-bandwidth` is --max-bandwidth (lifted at switchover, as QEMU does) over an unlimited link
 * (loopback), or over a link of the relay's rate in the `_linkNN` scenarios; a QEMU run cancelled
 * after 60 s is a run that did not converge within its 60 s timeout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import Table from 'cli-table3';
import { resolveRunConfig, type RawRunOptions } from '../src/config/options.js';
import { loadReferences, scenarioOptions, type Reference } from './lib/fidelity.js';
import { runMigration } from '../src/driver/migrate.js';
import type { MigrationResult } from '../src/result/schema.js';
import { parseBenchArgs, progress } from './lib/args.js';

const USAGE = `usage: node dist/bench/fidelity.js [--json] [--filter TEXT] [--policy qemu|qemu-rounds] [--dirty-cost MODEL]
  --json              print one JSON document on stdout instead of the table
  --filter TEXT       run only the scenarios whose name contains TEXT (e.g. r256, xbzrle, _ac)
  --policy NAME       qemu (default: QEMU's own loop) or qemu-rounds (QEMU's rule after each round)
  --dirty-cost MODEL  none (default: the references ran on TCG, whose tracking costs are in the
                      guest's measured pace) or a KVM cost model as run takes it (kvm, kvm,fault=5us)`;

const POLICIES = ['qemu', 'qemu-rounds'];

const OUT_FILE = new URL('../../results/fidelity.json', import.meta.url);

interface Side {
  converged: boolean;
  totalTimeMs: number;
  bytes: number;
  syncs: number;
  downtimeMs: number | null;
  maxThrottlePercent: number;
}

interface ScenarioResult {
  name: string;
  options: RawRunOptions;
  qemu: Side;
  migbench: Side;
  /** (migbench - QEMU) / QEMU; null where a side did not converge (time and bytes are then the timeout's). */
  errors: { bytes: number; totalTime: number; syncs: number; downtime: number | null };
  reason?: string;
}

function qemuSide(ref: Reference): Side {
  const s = ref.summary;
  return {
    converged: s.converged,
    totalTimeMs: s.total_time_ms,
    bytes: s.ram_transferred,
    syncs: s.ram_dirty_sync_count,
    downtimeMs: s.converged ? s.downtime_ms : null,
    maxThrottlePercent: s.max_cpu_throttle_percentage,
  };
}

/**
 * migbench's side: with --policy qemu, QEMU's own statistics of the run (its wire bytes, its sync
 * count); with qemu-rounds, migbench's bytes on its wire and its rounds.
 */
function migbenchSide(r: MigrationResult): Side {
  const converged = r.status === 'completed';
  return {
    converged,
    totalTimeMs: r.totals.totalTimeMs,
    bytes: r.qemu?.transferredBytes ?? r.totals.bytesSent,
    syncs: r.qemu?.dirtySyncCount ?? r.totals.iterations,
    downtimeMs: converged ? r.totals.downtimeMs : null,
    maxThrottlePercent: Math.max(0, ...r.iterations.map((i) => i.throttlePercent)),
  };
}

const relative = (ours: number, theirs: number): number => (ours - theirs) / theirs;

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const policyAt = argv.indexOf('--policy');
  const policy = policyAt >= 0 ? (argv.splice(policyAt, 2)[1] ?? '') : 'qemu';
  if (!POLICIES.includes(policy)) {
    process.stderr.write(`--policy must be qemu or qemu-rounds (got ${JSON.stringify(policy)})\n${USAGE}\n`);
    process.exit(2);
  }
  const costAt = argv.indexOf('--dirty-cost');
  const dirtyCost = costAt >= 0 ? (argv.splice(costAt, 2)[1] ?? '') : 'none';
  const args = parseBenchArgs(argv, USAGE);
  const references = loadReferences(args.filter);
  if (references.length === 0) throw new Error(`no reference scenario matches ${JSON.stringify(args.filter)}`);
  const results: ScenarioResult[] = [];
  for (const [i, ref] of references.entries()) {
    const options = { ...scenarioOptions(ref), policy, dirtyCost };
    const config = resolveRunConfig(options);
    const t0 = performance.now();
    const r = await runMigration(config);
    const qemu = qemuSide(ref);
    const migbench = migbenchSide(r);
    results.push({
      name: ref.name,
      options,
      qemu,
      migbench,
      errors: {
        bytes: relative(migbench.bytes, qemu.bytes),
        totalTime: relative(migbench.totalTimeMs, qemu.totalTimeMs),
        syncs: relative(migbench.syncs, qemu.syncs),
        downtime:
          qemu.downtimeMs && migbench.downtimeMs !== null ? relative(migbench.downtimeMs, qemu.downtimeMs) : null,
      },
      ...(r.reason ? { reason: r.reason } : {}),
    });
    progress(
      `[${i + 1}/${references.length}] ${ref.name}: ${migbench.converged ? 'converged' : 'not converged'} (QEMU ${qemu.converged ? 'converged' : 'not'}), ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  const bothConverged = results.filter((s) => s.qemu.converged && s.migbench.converged);
  const summary = {
    scenarios: results.length,
    verdictsMatching: results.filter((s) => s.qemu.converged === s.migbench.converged).length,
    bothConverged: bothConverged.length,
    medianAbsErrorBytes: median(bothConverged.map((s) => Math.abs(s.errors.bytes))),
    medianAbsErrorTotalTime: median(bothConverged.map((s) => Math.abs(s.errors.totalTime))),
    medianAbsErrorSyncs: median(bothConverged.map((s) => Math.abs(s.errors.syncs))),
  };
  mkdirSync(new URL('.', OUT_FILE), { recursive: true });
  const document = {
    tool: 'migbench',
    suite: 'fidelity',
    policy,
    dirtyCost,
    startedAt: new Date().toISOString(),
    reference: 'QEMU 10.0.2, bench/reference/qemu/',
    summary,
    scenarios: results,
  };
  writeFileSync(OUT_FILE, `${JSON.stringify(document, null, 1)}\n`);
  if (args.json) {
    process.stdout.write(`${JSON.stringify(document, null, 1)}\n`);
    return;
  }
  process.stdout.write(
    `--policy ${policy} --dirty-cost ${dirtyCost}\n${formatTable(results)}\n${formatSummary(summary)}\nwritten: results/fidelity.json\n`,
  );
}

const pct = (x: number | null): string => (x === null ? '' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} %`);
const verdict = (s: Side): string => (s.converged ? 'yes' : 'no');
const secs = (ms: number): string => (ms / 1000).toFixed(2);
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

function formatTable(results: readonly ScenarioResult[]): string {
  const t = new Table({
    head: [
      'scenario',
      'converged\nQEMU / mb',
      'total time s\nQEMU / mb',
      'error',
      'MiB sent\nQEMU / mb',
      'error',
      'syncs\nQEMU / mb',
      'downtime ms\nQEMU / mb',
      'max throttle %\nQEMU / mb',
    ],
    style: { head: [], border: [] },
  });
  for (const s of results) {
    const both = s.qemu.converged && s.migbench.converged;
    t.push([
      s.name,
      `${verdict(s.qemu)} / ${verdict(s.migbench)}${s.qemu.converged === s.migbench.converged ? '' : ' ✗'}`,
      `${secs(s.qemu.totalTimeMs)} / ${secs(s.migbench.totalTimeMs)}`,
      both ? pct(s.errors.totalTime) : '',
      `${mib(s.qemu.bytes)} / ${mib(s.migbench.bytes)}`,
      both ? pct(s.errors.bytes) : '',
      `${s.qemu.syncs} / ${s.migbench.syncs}`,
      `${s.qemu.downtimeMs ?? '-'} / ${s.migbench.downtimeMs === null ? '-' : s.migbench.downtimeMs.toFixed(1)}`,
      `${s.qemu.maxThrottlePercent} / ${s.migbench.maxThrottlePercent.toFixed(0)}`,
    ]);
  }
  return t.toString();
}

function formatSummary(s: {
  scenarios: number;
  verdictsMatching: number;
  bothConverged: number;
  medianAbsErrorBytes: number | null;
  medianAbsErrorTotalTime: number | null;
  medianAbsErrorSyncs: number | null;
}): string {
  const abs = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(1)} %`);
  return [
    `verdicts matching: ${s.verdictsMatching} of ${s.scenarios}`,
    `over the ${s.bothConverged} scenarios both converged: median |error| bytes ${abs(s.medianAbsErrorBytes)}, total time ${abs(s.medianAbsErrorTotalTime)}, syncs ${abs(s.medianAbsErrorSyncs)}`,
  ].join('\n');
}

await main();
