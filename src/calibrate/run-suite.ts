/**
 * Running a calibration suite (`migbench suite FILE` with `kind: calibration`): each run not yet
 * recorded in DIR/results.jsonl (or failed, with --retry-failed) on the real QEMU and in migbench,
 * one at a time, each recorded as it ends; then summary.md and report.html.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { sideBySide } from './compare.js';
import { CalibrationError, findQemu, guestFiles, kvmUsable, type Processes } from './qemu.js';
import { runScenario, type Machine } from './scenario.js';
import {
  calibrationSummary,
  calibrationTables,
  readCalibrationRecords,
  recordCalibration,
  type CalibrationPlan,
} from './suite.js';

export interface CalibrationSuiteOutcome {
  ran: number;
  failed: number;
  skipped: number;
  files: string[];
}

/** The machine the suite names (accel, qemu, kernel, initrd), checked before any run. */
export function suiteMachine(plan: CalibrationPlan): Machine {
  const m = plan.machine;
  const accel = m.accel ?? (kvmUsable() ? 'kvm' : 'tcg');
  if (accel !== 'kvm' && accel !== 'tcg')
    throw new CalibrationError(`${plan.file}: accel is kvm or tcg (got "${accel}")`);
  return { qemu: findQemu(m.qemu), accel, ...guestFiles(m.kernel, m.initrd) };
}

export async function runCalibrationSuite(
  plan: CalibrationPlan,
  out: string,
  procs: Processes,
  opts: { retryFailed: boolean; progress: (line: string) => void; toolVersion: string },
): Promise<CalibrationSuiteOutcome> {
  const machine = suiteMachine(plan);
  const done = readCalibrationRecords(out);
  let ran = 0;
  let failed = 0;
  let skipped = 0;
  for (const [i, run] of plan.runs.entries()) {
    const prior = done.get(run.runId);
    if (prior !== undefined && (prior.status === 'completed' || !opts.retryFailed)) {
      skipped++;
      continue;
    }
    opts.progress(
      `[${i + 1}/${plan.runs.length}] ${run.runId} ${run.scenario.name}: QEMU ${machine.qemu.version.replace(/^QEMU emulator version /, '')} (${machine.accel})`,
    );
    try {
      const reference = await runScenario(run.scenario, machine, procs);
      const calibration = await sideBySide(reference, machine.accel);
      const d = reference.destination;
      const sound =
        !reference.summary.converged || (d.running && d.dirtierLinesAfter > 0 && (d.integrityBad ?? 0) === 0);
      recordCalibration(
        out,
        { runId: run.runId, varied: run.varied, status: 'completed', calibration, destinationSound: sound },
        reference,
      );
      const e = calibration.errors;
      opts.progress(
        `  QEMU ${calibration.qemu.converged ? 'converged' : 'did not converge'}, migbench ${calibration.migbench.converged ? 'converged' : 'did not'}` +
          (e.totalTime === null
            ? ''
            : `; time ${(e.totalTime * 100).toFixed(1)} %, bytes ${((e.bytes ?? 0) * 100).toFixed(1)} %`),
      );
    } catch (e) {
      if (!(e instanceof CalibrationError)) throw e;
      failed++;
      recordCalibration(out, { runId: run.runId, varied: run.varied, status: 'failed', reason: e.message });
      opts.progress(`  failed: ${e.message}`);
    }
    ran++;
  }
  const tables = calibrationTables(plan, readCalibrationRecords(out));
  const summary = path.join(out, 'summary.md');
  writeFileSync(summary, calibrationSummary(plan, tables));
  const { calibrationHtml } = await import('./report.js');
  const report = path.join(out, 'report.html');
  writeFileSync(report, calibrationHtml(plan, tables, opts.toolVersion));
  return { ran, failed, skipped, files: [summary, report] };
}
