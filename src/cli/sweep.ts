/**
 * `migbench run --sweep OPTION=V1,V2,... --out DIR`: a parameter sweep from the command line, as
 * hyperfine's --parameter-list: the run's other options are the base, each --sweep an axis of the
 * matrix, --runs the repeats. It writes DIR/sweep.yaml, a suite file of its own, and runs it as
 * `migbench suite DIR/sweep.yaml --out DIR` would (resumable, with the summaries and report.html;
 * running the same command again resumes it).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { OptionError } from '../util/errors.js';
import { isStrategyFile } from '../util/user-file.js';
import { RUN_OPTION_SPECS, flagOf, type RunOptionKey } from '../config/options.js';

/** An option's values: split on commas, or on semicolons when a value holds a comma (codec=zero;zero,lz4). */
function sweepValues(text: string): string[] {
  return text.includes(';') ? text.split(';') : text.split(',');
}

/** The swept options, from each `--sweep OPTION=V1,V2` (kebab-case names, as on the command line). */
export function parseSweeps(sweeps: readonly string[]): Map<RunOptionKey, string[]> {
  const out = new Map<RunOptionKey, string[]>();
  for (const s of sweeps) {
    const m = /^([a-z][a-z0-9-]*)=(.+)$/.exec(s.trim());
    if (!m)
      throw new OptionError('--sweep', `--sweep is OPTION=V1,V2,... such as dirty-rate=50MB/s,100MB/s (got "${s}")`);
    const spec = RUN_OPTION_SPECS.find((o) => flagOf(o.key) === `--${m[1]}`);
    if (spec === undefined)
      throw new OptionError('--sweep', `--sweep ${m[1]}: not a run option (see migbench run --help)`);
    const values = sweepValues(m[2]).map((v) => v.trim());
    if (values.length < 2 || values.some((v) => v === ''))
      throw new OptionError('--sweep', `--sweep ${m[1]}: give two values or more, separated by commas (got "${m[2]}")`);
    if (out.has(spec.key)) throw new OptionError('--sweep', `--sweep ${m[1]} is given twice`);
    out.set(spec.key, values);
  }
  return out;
}

/** An option's file path, relative to `dir`, made absolute (other values as they are). */
export function absoluteFrom(dir: string, key: RunOptionKey, value: string): string {
  if (key === 'workload' && value.startsWith('trace:')) return `trace:${path.resolve(dir, value.slice(6))}`;
  if (key === 'tokenFile') return path.resolve(dir, value);
  if (key === 'codec')
    return value
      .split(',')
      .map((p) => (isStrategyFile(p) ? path.resolve(dir, p.trim()) : p))
      .join(',');
  return isStrategyFile(value) ? path.resolve(dir, value) : value;
}

/** A file path given relative to here, made absolute: the suite file lives in DIR, not here. */
function absolute(key: RunOptionKey, value: string): string {
  return absoluteFrom(process.cwd(), key, value);
}

/** Writes DIR/sweep.yaml for these base options, swept options and repeats; returns its path. */
export async function writeSweepSuite(
  base: Partial<Record<RunOptionKey, string | boolean>>,
  sweeps: Map<RunOptionKey, string[]>,
  repeat: number,
  out: string,
): Promise<string> {
  for (const k of sweeps.keys())
    if (base[k] !== undefined)
      throw new OptionError(flagOf(k), `${flagOf(k)} is swept by --sweep: give it once, there`);
  const baseText: Record<string, string | boolean> = {};
  for (const [k, v] of Object.entries(base) as [RunOptionKey, string | boolean][])
    if (v !== undefined && k !== 'token') baseText[flagOf(k).slice(2)] = typeof v === 'string' ? absolute(k, v) : v;
  const matrix: Record<string, string[]> = {};
  for (const [k, vs] of sweeps) matrix[flagOf(k).slice(2)] = vs.map((v) => absolute(k, v));
  const swept = Object.keys(matrix);
  const suite = {
    name: 'sweep',
    description: `migbench run --sweep ${[...sweeps].map(([k, vs]) => `${flagOf(k).slice(2)}=${vs.join(',')}`).join(' --sweep ')}`,
    ...(Object.keys(baseText).length > 0 ? { base: baseText } : {}),
    matrix,
    repeat,
    comparisons: swept.flatMap((k) => [
      { vary: k, metric: 'total-time' },
      { vary: k, metric: 'downtime' },
    ]),
  };
  await mkdir(out, { recursive: true });
  const file = path.join(out, 'sweep.yaml');
  await writeFile(
    file,
    `# Written by migbench run --sweep; run it again with: migbench suite ${file} --out ${out}\n${stringify(suite)}`,
  );
  return file;
}
