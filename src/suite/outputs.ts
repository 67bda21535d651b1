/**
 * The files of a suite's output directory: their names, the plan, and writing any of them whole
 * (src/harness/outputs.ts writes the summaries and the report).
 */
import { open, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PLAN_VERSION, hideSecrets, type SuitePlan } from './schema.js';

export const PLAN_FILE = 'suite.json';
export const SUMMARY_CSV = 'summary.csv';
export const SUMMARY_MD = 'summary.md';
export const REPORT_HTML = 'report.html';

export async function writePlan(dir: string, plan: SuitePlan): Promise<void> {
  await writeAtomically(path.join(dir, PLAN_FILE), `${JSON.stringify(plan, hideSecrets, 2)}\n`);
}

/** The plan, or undefined when DIR has none. */
export async function readPlan(dir: string): Promise<SuitePlan | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dir, PLAN_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let plan: SuitePlan;
  try {
    plan = JSON.parse(text) as SuitePlan;
  } catch {
    throw new Error(`${path.join(dir, PLAN_FILE)} is not JSON: not a migbench suite plan`);
  }
  if (
    typeof plan !== 'object' ||
    plan === null ||
    plan.planVersion !== PLAN_VERSION ||
    typeof plan.name !== 'string' ||
    !Array.isArray(plan.runs) ||
    !Array.isArray(plan.comparisons) ||
    !Array.isArray(plan.variedKeys) ||
    !plan.runs.every((r) => typeof r === 'object' && r !== null && typeof r.runId === 'string')
  ) {
    throw new Error(`${path.join(dir, PLAN_FILE)} is not a migbench suite plan (planVersion ${PLAN_VERSION})`);
  }
  return plan;
}

/**
 * A reader never sees half a file: write beside it, then rename over it (a symlink at `file` is
 * replaced, never written through). Lines are written one by one, so a file of any size.
 */
export async function writeAtomically(file: string, text: string | Iterable<string>): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  if (typeof text === 'string') await writeFile(tmp, text);
  else {
    const handle = await open(tmp, 'w');
    try {
      for (const line of text) await handle.write(line);
    } finally {
      await handle.close();
    }
  }
  await rename(tmp, file);
}
