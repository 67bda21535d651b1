/**
 * Runs a suite's plan into an output directory: one migration at a time (they share the machine's
 * cores), each finished run appended to results.jsonl at once, a failed run recorded with its
 * reason while the suite goes on, runs already recorded skipped (so rerunning resumes), and the
 * summaries and report written at the end. An abort (Ctrl-C) ends the run in progress without
 * recording it, so a resume runs it again. The runner prints nothing: it reports progress events.
 */
import { mkdir } from 'node:fs/promises';
import { InputError } from '../util/errors.js';
import path from 'node:path';
import type { RunConfig } from '../config/types.js';
import type { RunHooks } from '../driver/migrate.js';
import type { MigrationResult } from '../result/schema.js';
import { AdmissionError } from '../memory/admission.js';
import { readPlan, writePlan } from '../suite/outputs.js';
import { writeSuiteOutputs } from './outputs.js';
import { RecordWriter, latestByRunId, readRecords } from '../suite/records.js';
import {
  RECORD_VERSION,
  type PlannedRun,
  type SuitePlan,
  type SuiteProgressEvent,
  type SuiteRecord,
} from '../suite/schema.js';

export type { SuiteProgressEvent } from '../suite/schema.js';

export interface RunSuiteOptions {
  outDir: string;
  /** migbench version, for the report. */
  toolVersion: string;
  /** Ends the suite: the run in progress is aborted and not recorded. */
  signal?: AbortSignal;
  onProgress?: (e: SuiteProgressEvent) => void;
  /** Run again the runs whose last record is `failed` (normally a failure is a result, kept). */
  retryFailed?: boolean;
  /** The migration to run; tests may stand in for the driver. */
  migrate?: (config: RunConfig, hooks: RunHooks) => Promise<MigrationResult>;
}

export interface SuiteOutcome {
  planned: number;
  skipped: number;
  executed: number;
  /** Of the executed runs. */
  completed: number;
  failed: number;
  /** Refused before they started: they do not fit in this machine's memory. */
  notRun: number;
  interrupted: boolean;
  files: string[];
}

/** The output directory belongs to another suite. */
export class SuiteDirError extends InputError {
  override readonly name = 'SuiteDirError';
}

export async function runSuite(plan: SuitePlan, opts: RunSuiteOptions): Promise<SuiteOutcome> {
  const { outDir } = opts;
  const emit = opts.onProgress ?? (() => {});
  await mkdir(outDir, { recursive: true });
  const previous = await readPlan(outDir);
  if (previous !== undefined && previous.name !== plan.name) {
    throw new SuiteDirError(
      `${outDir} holds the results of suite "${previous.name}" (${path.join(outDir, 'suite.json')}); ` +
        `give suite "${plan.name}" another --out directory`,
    );
  }
  // A smoke test's 16 MiB runs must not mix into a full run's results, nor the other way round.
  if (previous !== undefined && previous.reduced !== plan.reduced) {
    throw new SuiteDirError(
      `${outDir} holds the ${previous.reduced ? 'reduced (--reduce)' : 'full'} results of suite "${plan.name}"; ` +
        `give the ${plan.reduced ? 'reduced' : 'full'} run another --out directory`,
    );
  }
  if (previous !== undefined && JSON.stringify(previous.shard ?? null) !== JSON.stringify(plan.shard ?? null)) {
    const what = (p: SuitePlan): string =>
      p.shard ? `shard ${p.shard.index + 1} of ${p.shard.count}` : 'the whole suite';
    throw new SuiteDirError(
      `${outDir} holds ${what(previous)} of suite "${plan.name}", not ${what(plan)}; give it another --out directory`,
    );
  }
  await writePlan(outDir, plan);

  const loaded = await readRecords(outDir);
  const latest = latestByRunId(loaded.records);
  // A run that did not run (it did not fit) is tried again: the machine may have room now.
  const done = (run: PlannedRun): boolean => {
    const r = latest.get(run.runId);
    return r !== undefined && r.status !== 'not-run' && !(opts.retryFailed === true && r.status === 'failed');
  };
  // A shard runs its share; the plan (and the summaries) keep every run of the suite.
  const mine = plan.shard ? new Set(plan.shard.runIds) : null;
  const toRun = plan.runs.filter((r) => !done(r) && (mine === null || mine.has(r.runId)));
  emit({
    kind: 'start',
    plan,
    toRun: toRun.length,
    skipped: (mine === null ? plan.runs.length : mine.size) - toRun.length,
    badLines: loaded.badLines,
  });

  const migrate = opts.migrate ?? (await import('../driver/migrate.js')).runMigration;
  const writer = await RecordWriter.open(outDir);
  const startMs = performance.now();
  let executed = 0;
  let completed = 0;
  let failed = 0;
  let notRun = 0;
  let interrupted = false;
  try {
    for (const [i, run] of toRun.entries()) {
      if (opts.signal?.aborted) {
        interrupted = true;
        break;
      }
      emit({ kind: 'run-start', run, index: i + 1, toRun: toRun.length, elapsedMs: performance.now() - startMs });
      const record = await runOne(plan, run, migrate, opts.signal);
      if (opts.signal?.aborted) {
        interrupted = true;
        break;
      }
      await writer.append(record);
      latest.set(run.runId, record);
      executed++;
      if (record.status === 'completed') completed++;
      else if (record.status === 'not-run') notRun++;
      else failed++;
      const elapsedMs = performance.now() - startMs;
      emit({
        kind: 'run-end',
        run,
        record,
        index: i + 1,
        toRun: toRun.length,
        elapsedMs,
        remainingMs: (elapsedMs / executed) * (toRun.length - i - 1),
      });
    }
  } finally {
    await writer.close();
  }

  const files = await writeSuiteOutputs(outDir, plan, latest, opts.toolVersion);
  emit({ kind: 'outputs', files });
  const planned = mine === null ? plan.runs.length : mine.size;
  return { planned, skipped: planned - toRun.length, executed, completed, failed, notRun, interrupted, files };
}

async function runOne(
  plan: SuitePlan,
  run: PlannedRun,
  migrate: NonNullable<RunSuiteOptions['migrate']>,
  signal: AbortSignal | undefined,
): Promise<SuiteRecord> {
  const base = {
    recordVersion: RECORD_VERSION,
    suite: plan.name,
    runId: run.runId,
    configId: run.configId,
    repeat: run.repeat,
    varied: run.varied,
    options: run.options,
  } as const;
  const t0 = performance.now();
  try {
    const result = await migrate(run.config, { signal });
    const record: SuiteRecord = {
      ...base,
      status: result.status,
      finishedAt: new Date().toISOString(),
      wallMs: performance.now() - t0,
      result,
    };
    if (result.status === 'failed') record.reason = result.reason ?? 'failed';
    return record;
  } catch (e) {
    return {
      ...base,
      // A run that cannot fit in memory was refused before it started: not run, and why.
      status: e instanceof AdmissionError ? 'not-run' : 'failed',
      reason:
        e instanceof AdmissionError
          ? `not run: ${e.message}`
          : `the run stopped with an error: ${e instanceof Error ? e.message : String(e)}`,
      finishedAt: new Date().toISOString(),
      wallMs: performance.now() - t0,
    };
  }
}
