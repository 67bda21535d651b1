/**
 * The files of a suite's output directory, and writing the derived ones (summaries and report)
 * from the plan and the records. `migbench report DIR` and the runner both come through here.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PLAN_VERSION, hideSecrets, type SuitePlan, type SuiteRecord } from './schema.js';
import { summarize, summaryCsv, summaryMarkdown } from './summary.js';

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
  const plan = JSON.parse(text) as SuitePlan;
  if (plan.planVersion !== PLAN_VERSION || !Array.isArray(plan.runs)) {
    throw new Error(`${path.join(dir, PLAN_FILE)} is not a migbench suite plan (planVersion ${PLAN_VERSION})`);
  }
  return plan;
}

/** Writes summary.csv, summary.md and report.html; returns their paths. */
export async function writeSuiteOutputs(
  dir: string,
  plan: SuitePlan,
  latest: ReadonlyMap<string, SuiteRecord>,
  toolVersion: string,
): Promise<string[]> {
  const summary = summarize(plan, latest);
  const files = [path.join(dir, SUMMARY_CSV), path.join(dir, SUMMARY_MD), path.join(dir, REPORT_HTML)];
  await writeAtomically(files[0], summaryCsv(plan, summary));
  await writeAtomically(files[1], summaryMarkdown(plan, summary));
  // The report pulls in vega: load it only here.
  const { renderSuiteHtml } = await import('../report/html.js');
  await writeAtomically(files[2], await renderSuiteHtml(plan, latest, { toolVersion }));
  return files;
}

/** A reader never sees half a file: write beside it, then rename over it. */
export async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}
