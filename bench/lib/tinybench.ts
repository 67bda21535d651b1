/**
 * Runs kernel cases with tinybench and turns its latencies into GB/s. tinybench has no bytes/s and
 * its `throughput.mean` (mean of per-sample ops/s) is skewed by short samples, so the rate here is
 * bytes * 1000 / median latency (ms) / 1e9. Every task function must consume its result (check it
 * or add it to a sink) so the JIT cannot drop the work.
 *
 * The machine may be shared: a neighbour's burst during one task's half second would skew a ratio
 * of two tasks run one after the other. So the tasks of a case take turns: each runs `passes`
 * times for timeMs / passes, round-robin, and its statistics are over all its samples.
 */
import { Bench } from 'tinybench';
import type { Implementation, KernelCaseResult } from './report.js';
import { gbPerSec } from './units.js';
import { progress } from './args.js';

export interface TaskSpec {
  implementation: Implementation;
  /** One operation over `bytesPerOp` bytes; throws if its result is wrong. */
  fn: () => void;
  /** Runs before every timed call (warm-up included), outside the timed region. */
  beforeEach?: () => void;
}

export interface CaseSpec {
  group: string;
  variant: string;
  bytesPerOp: number;
  tasks: TaskSpec[];
}

export interface TimeBudget {
  /** Timed milliseconds per task over all passes (tinybench `time`; beforeEach is not counted). */
  timeMs: number;
  /** At least this many timed calls per pass, however long they take. */
  minIterations: number;
  warmupMs: number;
  warmupIterations: number;
  /** Round-robin passes over a case's tasks. */
  passes: number;
}

/** Latency samples (ms) of one pass of one task. */
async function runPass(name: string, task: TaskSpec, budget: TimeBudget, warmup: boolean): Promise<number[]> {
  const bench = new Bench({
    time: budget.timeMs / budget.passes,
    iterations: budget.minIterations,
    retainSamples: true,
    throws: true,
    warmup,
    warmupTime: budget.warmupMs,
    warmupIterations: budget.warmupIterations,
  });
  bench.add(name, task.fn, task.beforeEach ? { beforeEach: task.beforeEach } : {});
  await bench.run();
  const r = bench.tasks[0].result;
  if (r.state !== 'completed' || r.latency.samples === undefined) throw new Error(`${name}: ${r.state}`);
  return [...r.latency.samples];
}

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  return n % 2 === 1 ? sorted[n >> 1] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

export async function runCases(cases: readonly CaseSpec[], budget: TimeBudget): Promise<KernelCaseResult[]> {
  const results: KernelCaseResult[] = [];
  for (const c of cases) {
    const samples = c.tasks.map((): number[] => []);
    for (let pass = 0; pass < budget.passes; pass++) {
      for (let t = 0; t < c.tasks.length; t++) {
        const name = `${c.group} · ${c.variant} · ${c.tasks[t].implementation}`;
        samples[t].push(...(await runPass(name, c.tasks[t], budget, pass === 0)));
      }
    }
    c.tasks.forEach((task, t) => {
      const s = samples[t].sort((a, b) => a - b);
      const n = s.length;
      const mean = s.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
      const medianMs = median(s);
      const row: KernelCaseResult = {
        group: c.group,
        variant: c.variant,
        implementation: task.implementation,
        bytesPerOp: c.bytesPerOp,
        medianMs,
        meanMs: mean,
        samples: n,
        rmePercent: (100 * 1.96 * sd) / Math.sqrt(n) / mean,
        gbPerSec: gbPerSec(c.bytesPerOp, medianMs),
      };
      progress(
        `  ${c.group} · ${c.variant} · ${task.implementation}: ${(medianMs * 1000).toPrecision(3)} µs/op, ${row.gbPerSec.toPrecision(3)} GB/s (${n} samples)`,
      );
      results.push(row);
    });
  }
  return results;
}
