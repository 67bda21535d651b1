/** A suite's summary lists the completed runs whose downtime passed the limit their policy aims for. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeSuite } from '../fixtures/results.js';
import { summarize, summaryMarkdown } from '../../src/suite/summary.js';

test('runs over their downtime limit are listed under their own heading, with the downtime and the limit', () => {
  const { plan, latest } = fakeSuite();
  const records = [...latest.values()].filter((r) => r.status === 'completed' && r.result?.config.policy === 'qemu');
  const over = records[0];
  over.result!.totals.downtimeMs = over.result!.config.downtimeLimitMs + 50;
  // Under any limit: no heading for a suite whose runs all kept theirs.
  for (const r of records.slice(1))
    r.result!.totals.downtimeMs = Math.min(r.result!.totals.downtimeMs, r.result!.config.downtimeLimitMs);
  const summary = summarize(plan, latest);
  assert.deepEqual(
    summary.overLimitRuns.map((o) => o.record.runId),
    [over.runId],
  );
  const md = summaryMarkdown(plan, summary);
  assert.match(md, new RegExp(`## Runs over their downtime limit\\n\\n- \`${over.runId}\` \\(.*\\): downtime `));
  over.result!.totals.downtimeMs = 1;
  assert.doesNotMatch(summaryMarkdown(plan, summarize(plan, latest)), /over their downtime limit/);
});
