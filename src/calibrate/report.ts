/** A calibration suite's report.html: its runs, QEMU against migbench, and the median errors per kind. */
import type { CalibrationPlan, CalibrationTables } from './suite.js';
import { esc, htmlTable, page } from '../report/html.js';

export function calibrationHtml(plan: CalibrationPlan, t: CalibrationTables, toolVersion: string): string {
  const body = [
    `<h1>Calibration suite ${esc(plan.name)}</h1>`,
    plan.description ? `<p>${esc(plan.description)}</p>` : '',
    `<p class="meta">${plan.runs.length} runs on a real QEMU and in migbench · from ${esc(plan.file)}</p>`,
    '<h2>Medians per kind</h2>',
    htmlTable(t.kindHead, t.kindRows, 1),
    '<h2>Runs</h2>',
    htmlTable(t.head, t.rows, 2),
  ].join('\n');
  return page(`migbench calibration ${plan.name}`, body, { toolVersion });
}
