/**
 * Every command in the README and docs/ runs as written. The commands are the lines of their `sh`
 * blocks (a trailing backslash joins lines, a ` # ` starts a comment) and the code spans of the
 * prose that start with `npx migbench`. Each one is run from a
 * scratch folder that sees the project's bench/ and examples/, with `npx migbench` as this build's
 * bin; a command too long or too big for CI runs with --dry-run instead (the options are all
 * checked, the memory need and time estimated), an evacuation on the virtual clock; one that needs
 * what CI does not have is listed with why. Nothing goes unchecked: a new command must fit one of these or the test fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = path.join(ROOT, 'bin/migbench.js');
/** `npx migbench` in the commands: this build's bin, under the node running the tests. */
const NPX = `npx() { if [ "$1" = migbench ]; then shift; "${process.execPath}" "${BIN}" "$@"; else command npx "$@"; fi; }`;

/** Commands CI cannot run, each with why (matched from the start of the command). */
const NOT_IN_CI: [RegExp, string][] = [
  [/^npm install && npm start$/, '.ci/run installs the project (npm ci) and runs npm start after the tests'],
  [/^npm test$/, 'the test suite itself'],
  [/^npm run fidelity/, 'about 5 minutes of 45 scenarios: bench/, not a timed test (its parts are tested)'],
  [/^npm run guest:build$/, '.ci/run runs it before the tests (it installs Debian packages, as root)'],
  [/^npx migbench calibrate /, 'a real QEMU for 12-16 s each: test/calibrate/calibrate.test.ts runs these three'],
  [
    /^npx migbench suite bench\/suites\/calibration\.yaml --out results\/calibration$/,
    'a real QEMU for 70 s: test/calibrate/suite.test.ts runs a smaller one',
  ],
  [/^npm run (bench|record)/, 'benchmarks and recordings: bench/, not tests'],
  [/^npm install \/path/, 'a packed tarball: test/package/package.test.ts packs and installs one'],
  [/^(sbatch|squeue|kubectl) /, 'a cluster: test/harness/slurm.test.ts runs a suite as a Slurm job array'],
  [/^export MIGBENCH_TOKEN=/, 'sets a secret for the receive and run --target below'],
  [/^npx migbench receive /, 'a second shell: test/channel/ runs receive and run --target together'],
  [/^npx migbench run --target /, 'a receiver in a second shell: test/channel/ does this'],
  [/^npx migbench record /, "a program of the reader's own: test/trace/record.test.ts records one"],
  [
    /^npx migbench (trace info|report|compare) /,
    'reads files an earlier command of the guide writes: tested in test/trace and test/report',
  ],
  [/^npx migbench run --from /, 'a result of a suite the guide ran: test/cli/run-from.test.ts'],
  [
    /^npx migbench run .*--workload trace:py\.mtrace/,
    'a trace the reader recorded: test/trace/record.test.ts replays one',
  ],
];

/** What a run may cost in a test: more, and its --dry-run (which checks every option) stands for it. */
const MAX_WALL_MS = 10_000;
const MAX_NEED_BYTES = 3 * 2 ** 30;

/**
 * Whether a command would take minutes or gigabytes: a suite (unless reduced), or a run whose own
 * --dry-run estimates more than MAX_WALL_MS or MAX_NEED_BYTES.
 */
function tooBig(cmd: string, cwd: string): boolean {
  if (/^npx migbench suite /.test(cmd) || / --sweep /.test(cmd)) return !/--reduce|--dry-run/.test(cmd);
  if (!/^npx migbench run /.test(cmd) || /--help|--dry-run/.test(cmd)) return false;
  const head = cmd.replace(/\s*[|>].*$/, '').replace(/ --json\b/, '');
  const r = spawnSync('bash', ['-c', `${NPX}\n${head} --dry-run --json`], { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, `${head} --dry-run --json: ${r.stderr}`);
  const e = JSON.parse(r.stdout) as { wallMs: number | null; need: { totalBytes: number } };
  return e.wallMs === null || e.wallMs > MAX_WALL_MS || e.need.totalBytes > MAX_NEED_BYTES;
}

function commandsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    const joined = m[1].replace(/\\\n\s*/g, '');
    for (const line of joined.split('\n')) {
      const cmd = line.replace(/\s+#\s.*$/, '').trim();
      if (cmd !== '') out.push(cmd);
    }
  }
  // In the prose, a code span that starts with `npx migbench` is a command too.
  const prose = text.replace(/^```[\s\S]*?^```/gm, '');
  for (const m of prose.matchAll(/`(npx migbench [^`]+)`/g)) out.push(m[1].replace(/\s+/g, ' '));
  return out;
}

const files = [
  path.join(ROOT, 'README.md'),
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join(ROOT, 'docs', f)),
];

test('the README and every guide in docs/ have commands, and each is run, dry-run, or listed with why not', (t) => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'migbench-docs-'));
  for (const d of ['bench', 'examples']) symlinkSync(path.join(ROOT, d), path.join(scratch, d));
  const seen: string[] = [];
  try {
    for (const file of files) {
      for (const cmd of commandsOf(file)) {
        seen.push(cmd);
        const skip = NOT_IN_CI.find(([re]) => re.test(cmd));
        if (skip) continue;
        assert.match(
          cmd,
          /^(npx migbench |source <\(npx migbench )/,
          `${path.basename(file)}: "${cmd}" is neither run here nor listed with why not`,
        );
        const big = tooBig(cmd, scratch);
        // --dry-run goes before any pipe or redirection.
        // An evacuation has no --dry-run: a real-clock one runs on the virtual clock (the same
        // scheduler and migrations, procedural memory), in seconds and megabytes.
        const extra = big
          ? ' --dry-run'
          : /^npx migbench evacuate /.test(cmd) && !/--clock /.test(cmd)
            ? ' --clock virtual'
            : '';
        const line = cmd.replace(/^([^|>]*?)(\s*[|>].*)?$/, `$1${extra}$2`);
        const started = Date.now();
        const r = spawnSync('bash', ['-c', `${NPX}\n${line}`], { cwd: scratch, encoding: 'utf8', timeout: 120_000 });
        t.diagnostic(`${((Date.now() - started) / 1000).toFixed(1)} s  ${line}`);
        // A migration that fails (exit 1, said so) is an outcome a guide may show; bad input (2) or a crash is not.
        assert.ok(
          r.status === 0 || (r.status === 1 && /^FAILED: /m.test(r.stdout)),
          `${path.relative(ROOT, file)}: ${line} exited ${r.status}:\n${r.stderr}${r.stdout.slice(-2000)}`,
        );
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  assert.ok(seen.length >= 10, `${seen.length} commands found`);
});

test('no development history in user documents: sessions, issue numbers, earlier builds', () => {
  const history = [
    /\b(this|last|previous|next) session\b/i,
    /\bissue #?\d+/i,
    /\bbuilds? ago\b/i,
    /\b(an|the) (earlier|previous) (build|version)\b/i,
    /\bbefore (this|the) (change|fix)\b/i,
  ];
  const found: string[] = [];
  for (const file of files)
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const re of history)
          if (re.test(line)) found.push(`${path.relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
      });
  assert.deepEqual(found, []);
});
