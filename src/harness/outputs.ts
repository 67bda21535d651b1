/** A run suite's outputs beside its records: the summaries and the report. */
import path from 'node:path';
import { REPORT_HTML, SUMMARY_CSV, SUMMARY_MD, writeAtomically } from '../suite/outputs.js';
import type { SuitePlan, SuiteRecord } from '../suite/schema.js';
import { summarize, summaryCsv, summaryMarkdown } from '../suite/summary.js';

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
