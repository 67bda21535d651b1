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
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Table from 'cli-table3';
import { resolveRunConfig, type RawRunOptions } from '../src/config/options.js';
import { loadReferences, referenceKind, scenarioOptions } from './lib/fidelity.js';
import { runMigration } from '../src/driver/migrate.js';
import { migbenchSide, qemuSide, type CalibrationSide } from '../src/calibrate/compare.js';
import { parseBenchArgs, progress } from './lib/args.js';

const USAGE = `usage: node dist/bench/fidelity.js [--json] [--filter TEXT] [--references DIR] [--policy qemu|qemu-rounds] [--dirty-cost MODEL]
  --references DIR    the references in DIR (what migbench calibrate --out DIR wrote on your host)
                      instead of bench/reference/qemu/
  --json              print one JSON document on stdout instead of the table
  --filter TEXT       run only the scenarios whose name contains TEXT (e.g. r256, xbzrle, _ac)
  --policy NAME       qemu (default: QEMU's own loop) or qemu-rounds (QEMU's rule after each round;
                      the pre-copy references only)
  --dirty-cost MODEL  none (default: the references ran on TCG, whose tracking costs are in the
                      guest's measured pace) or a KVM cost model as run takes it (kvm, kvm,fault=5us)`;

const POLICIES = ['qemu', 'qemu-rounds'];

const OUT_FILE = new URL('../../results/fidelity.json', import.meta.url);

type Side = CalibrationSide;

interface ScenarioResult {
  name: string;
  kind: 'precopy' | 'postcopy' | 'multifd';
  options: RawRunOptions;
  qemu: Side;
  migbench: Side;
  /** (migbench - QEMU) / QEMU; null where a side did not converge (time and bytes are then the timeout's). */
  errors: { bytes: number; totalTime: number; syncs: number; downtime: number | null };
  reason?: string;
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
  const refsAt = argv.indexOf('--references');
  const refsDir = refsAt >= 0 ? (argv.splice(refsAt, 2)[1] ?? '') : null;
  if (refsDir === '') {
    process.stderr.write(`--references needs a folder (what migbench calibrate --out wrote)\n${USAGE}\n`);
    process.exit(2);
  }
  const costAt = argv.indexOf('--dirty-cost');
  const dirtyCost = costAt >= 0 ? (argv.splice(costAt, 2)[1] ?? '') : 'none';
  const args = parseBenchArgs(argv, USAGE);
  // Post-copy and multifd are QEMU's own loop's (qemu-rounds counts post-copy in rounds, and has no multifd).
  const matching = loadReferences(
    args.filter,
    refsDir === null ? undefined : pathToFileURL(`${path.resolve(refsDir)}/`),
  );
  const references = policy === 'qemu' ? matching : matching.filter((r) => referenceKind(r) === 'precopy');
  if (references.length < matching.length)
    progress(
      `--policy ${policy}: the ${matching.length - references.length} post-copy and multifd references are QEMU's own loop's; skipped`,
    );
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
      kind: referenceKind(ref),
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
  const summary = {
    ...kindSummary(results),
    byKind: Object.fromEntries(
      (['precopy', 'postcopy', 'multifd'] as const)
        .map((kind) => [kind, results.filter((r) => r.kind === kind)] as const)
        .filter(([, rs]) => rs.length > 0)
        .map(([kind, rs]) => [kind, kindSummary(rs)]),
    ),
  };
  // Another set's comparison goes beside the project's, not over it.
  const outFile = refsDir === null ? OUT_FILE : new URL('fidelity-references.json', OUT_FILE);
  mkdirSync(new URL('.', outFile), { recursive: true });
  const document = {
    tool: 'migbench',
    suite: 'fidelity',
    policy,
    dirtyCost,
    startedAt: new Date().toISOString(),
    reference: refsDir === null ? 'QEMU 10.0.2, bench/reference/qemu/' : path.resolve(refsDir),
    summary,
    scenarios: results,
  };
  writeFileSync(outFile, `${JSON.stringify(document, null, 1)}\n`);
  if (args.json) {
    process.stdout.write(`${JSON.stringify(document, null, 1)}\n`);
    return;
  }
  process.stdout.write(
    [
      `--policy ${policy} --dirty-cost ${dirtyCost}`,
      ...Object.entries(summary.byKind).flatMap(([kind, s]) => [
        `${kind}:`,
        formatTable(results.filter((r) => r.kind === kind)),
        ...(kind === 'postcopy' ? [formatPostcopyTable(results.filter((r) => r.kind === kind))] : []),
        formatSummary(s),
      ]),
      `written: results/${path.basename(fileURLToPath(outFile))}\n`,
    ].join('\n'),
  );
}

/** Verdicts and median errors over a set of scenarios; post-copy's block time as ratios, STOP to RESUME as errors. */
function kindSummary(results: readonly ScenarioResult[]) {
  const bothConverged = results.filter((s) => s.qemu.converged && s.migbench.converged);
  const post = bothConverged.filter((s) => s.qemu.postcopy && s.migbench.postcopy);
  const blockRatios = post
    .filter((s) => (s.qemu.postcopy?.blocktimeMs ?? 0) > 0 && s.migbench.postcopy?.blocktimeMs != null)
    .map((s) => (s.migbench.postcopy?.blocktimeMs as number) / (s.qemu.postcopy?.blocktimeMs as number));
  const stopErrors = post
    .filter((s) => (s.qemu.postcopy?.stopToResumeMs ?? 0) > 0 && s.migbench.postcopy?.stopToResumeMs != null)
    .map((s) => relative(s.migbench.postcopy?.stopToResumeMs as number, s.qemu.postcopy?.stopToResumeMs as number));
  return {
    scenarios: results.length,
    verdictsMatching: results.filter((s) => s.qemu.converged === s.migbench.converged).length,
    bothConverged: bothConverged.length,
    medianAbsErrorBytes: median(bothConverged.map((s) => Math.abs(s.errors.bytes))),
    medianAbsErrorTotalTime: median(bothConverged.map((s) => Math.abs(s.errors.totalTime))),
    medianAbsErrorSyncs: median(bothConverged.map((s) => Math.abs(s.errors.syncs))),
    ...(post.length > 0
      ? {
          blocktimeRatios: blockRatios,
          medianAbsErrorStopToResume: median(stopErrors.map(Math.abs)),
        }
      : {}),
  };
}

function formatPostcopyTable(results: readonly ScenarioResult[]): string {
  const t = new Table({
    head: [
      'scenario',
      'requests\nQEMU / mb',
      'post-copy MiB\nQEMU / mb',
      'block time ms\nQEMU / mb',
      'ratio',
      'STOP to RESUME ms\nQEMU / mb',
      'error',
    ],
    style: { head: [], border: [] },
  });
  const ms = (x: number | null | undefined): string => (x == null ? '-' : x.toFixed(1));
  for (const s of results) {
    const q = s.qemu.postcopy;
    const m = s.migbench.postcopy;
    t.push([
      s.name,
      `${q?.requests ?? '-'} / ${m?.requests ?? '-'}`,
      `${q ? mib(q.bytes) : '-'} / ${m ? mib(m.bytes) : '-'}`,
      `${ms(q?.blocktimeMs)} / ${ms(m?.blocktimeMs)}`,
      q?.blocktimeMs && m?.blocktimeMs != null ? `${(m.blocktimeMs / q.blocktimeMs).toFixed(2)}x` : '',
      `${ms(q?.stopToResumeMs)} / ${ms(m?.stopToResumeMs)}`,
      q?.stopToResumeMs && m?.stopToResumeMs != null ? pct(relative(m.stopToResumeMs, q.stopToResumeMs)) : '',
    ]);
  }
  return t.toString();
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

function formatSummary(s: ReturnType<typeof kindSummary>): string {
  const abs = (x: number | null | undefined): string => (x == null ? '-' : `${(100 * x).toFixed(1)} %`);
  return [
    `verdicts matching: ${s.verdictsMatching} of ${s.scenarios}`,
    `over the ${s.bothConverged} scenarios both converged: median |error| bytes ${abs(s.medianAbsErrorBytes)}, total time ${abs(s.medianAbsErrorTotalTime)}, syncs ${abs(s.medianAbsErrorSyncs)}`,
    ...(s.blocktimeRatios
      ? [
          `post-copy: block time migbench/QEMU ${s.blocktimeRatios.map((r) => `${r.toFixed(2)}x`).join(', ')}; median |error| STOP to RESUME ${abs(s.medianAbsErrorStopToResume)}`,
        ]
      : []),
  ].join('\n');
}

await main();
