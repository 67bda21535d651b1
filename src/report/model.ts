/** The analytic model as text: alone (`migbench model`) and beside a run (`migbench run --model`). */
import Table from 'cli-table3';
import type { ModelPrediction } from '../model/precopy.js';
import type { MigrationResult } from '../result/schema.js';
import { formatBytes, formatMs } from '../util/format.js';

function table(head: string[]): Table.Table {
  return new Table({
    head,
    style: { head: [], border: [], compact: true },
    colAligns: head.map((_, i) => (i === 0 ? 'left' : 'right')),
  });
}

const num = (n: number, digits = 1): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ratio = (a: number, b: number): string => (b > 0 ? `${num(a / b, 3)}` : 'n/a');

export function formatModel(m: ModelPrediction): string {
  const lines = [
    `model: lambda = dirty rate / link rate = ${num(m.lambda, 4)} · ${m.converges ? 'converges' : 'does not converge'}: ${m.why}`,
  ];
  const t = table(['Round', 'Phase', 'Pages', 'Sent (MiB)', 'Duration (ms)']);
  const shown = m.rounds.length > 16 ? [...m.rounds.slice(0, 10), ...m.rounds.slice(-5)] : m.rounds;
  for (const r of shown)
    t.push([String(r.index), r.phase, num(r.pagesSent, 0), num(r.bytesSent / 2 ** 20, 1), num(r.durationMs, 2)]);
  lines.push(t.toString());
  lines.push(
    `total time ${formatMs(m.totalTimeMs)} · downtime ${formatMs(m.downtimeMs)} · sent ${formatBytes(m.bytesSent)}`,
  );
  return lines.join('\n');
}

/** The model's figures beside the run's, with run / model ratios. */
export function formatModelComparison(m: ModelPrediction, r: MigrationResult): string {
  const t = table(['Measure', 'Model', 'Run', 'Run / model']);
  t.push(
    ['Total time (ms)', num(m.totalTimeMs), num(r.totals.totalTimeMs), ratio(r.totals.totalTimeMs, m.totalTimeMs)],
    ['Downtime (ms)', num(m.downtimeMs), num(r.totals.downtimeMs), ratio(r.totals.downtimeMs, m.downtimeMs)],
    [
      'Bytes sent (MiB)',
      num(m.bytesSent / 2 ** 20),
      num(r.totals.bytesSent / 2 ** 20),
      ratio(r.totals.bytesSent, m.bytesSent),
    ],
    ['Rounds', String(m.rounds.length), String(r.iterations.length), ratio(r.iterations.length, m.rounds.length)],
  );
  const rounds = table(['Round', 'Model pages', 'Run pages', 'Run / model']);
  const n = Math.max(m.rounds.length, r.iterations.length);
  for (let i = 0; i < Math.min(n, 12); i++) {
    const mp = m.rounds[i]?.pagesSent;
    const rp = r.iterations[i]?.pagesSent;
    rounds.push([
      String(i),
      mp === undefined ? '-' : num(mp, 0),
      rp === undefined ? '-' : num(rp, 0),
      mp && rp !== undefined ? ratio(rp, mp) : '-',
    ]);
  }
  return [
    `Model vs run (lambda ${num(m.lambda, 4)}; the model assumes every write dirties a new page: hot sets,`,
    're-dirtied pages, codecs and CPU limits are where a run departs from it)',
    // What the run did that the model has no term for, said rather than compared silently.
    ...(r.config.multifdChannels
      ? [`The model has no multifd: the run's ${r.config.multifdChannels} channels are not in it.`]
      : []),
    ...(r.postcopy ? ['The model has no post-copy: it predicts a stop-and-copy ending.'] : []),
    t.toString(),
    rounds.toString(),
  ].join('\n');
}
