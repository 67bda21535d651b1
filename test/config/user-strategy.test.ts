/**
 * Strategies from the user's files (src/util/user-file.ts and each kind's loader): a stop policy and a convergence aid,
 * their options, the checks at load (exit 2, one line naming the file and what is missing), the
 * checks at run time (a bad decision or a throw fails the run, naming the file), and paths relative
 * to a suite file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  runMigration,
  resolveRunOptions,
  StrategyError,
  OptionError,
  registerPolicy,
  registerAid,
} from '../../src/index.js';
import { parseSuite } from '../../src/suite/parse.js';
import { expandSuite } from '../../src/suite/expand.js';

const BIN = fileURLToPath(new URL('../../../bin/migbench.js', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'migbench-strategy-'));
const file = (name: string, text: string): string => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};
const SMALL = { ram: '16MiB', dirtyRate: '20MB/s', link: '1Gbit/s', clock: 'virtual' } as const;

function migbench(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, cwd: dir });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a policy file decides; its options reach it; the result names it', async () => {
  const f = file(
    'after-n.mjs',
    `export const options = { rounds: 'pre-copy rounds before switching over' };
  export default (o) => ({ name: 'after-' + o.rounds, decide(s) {
    return s.roundsDone >= Number(o.rounds) ? { action: 'switchover', why: 'round ' + s.roundsDone } : { action: 'continue', why: 'not yet' };
  } });`,
  );
  const r = await runMigration({ ...SMALL, policy: f, policyOpt: 'rounds=4' });
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
  assert.equal(r.totals.iterations, 5, '4 pre-copy rounds, then the stop-and-copy');
  assert.equal(r.switchoverReason, 'round 4');
  assert.equal(r.config.policy, 'after-4');
  assert.deepEqual(r.config.userPolicy, { file: f, options: { rounds: '4' }, name: 'after-4' });
});

test('a file missing a required member, or with no factory, is refused at load: exit 2, one line naming the file', () => {
  const noDecide = file('no-decide.mjs', "export default () => ({ name: 'x' });");
  const r = migbench('run', '--policy', './no-decide.mjs');
  assert.equal(r.status, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 2, r.stderr); // the message and the help hint
  assert.match(
    lines[0],
    new RegExp(`^migbench: ${noDecide.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: the policy has no decide\\(\\)`),
  );
  assert.equal(r.stdout, '');
  file('no-default.mjs', 'export const decide = () => ({});');
  assert.match(
    migbench('run', '--policy', './no-default.mjs').stderr,
    /no-default\.mjs: a policy file's default export is a function/,
  );
  file('no-name.mjs', 'export default () => ({ decide() {} });');
  assert.match(migbench('run', '--policy', './no-name.mjs').stderr, /no-name\.mjs: the policy has no name/);
  file('no-after.mjs', "export default () => ({ name: 'a' });");
  assert.match(migbench('run', '--aid', './no-after.mjs').stderr, /no-after\.mjs: the aid has no afterRound\(\)/);
  file('syntax.mjs', 'export default (');
  assert.match(migbench('run', '--policy', './syntax.mjs').stderr, /syntax\.mjs: cannot be imported as an ES module/);
  assert.match(migbench('run', '--policy', './missing.js').stderr, /--policy \.\/missing\.js: no such file/);
  assert.match(migbench('run', '--policy-opt', 'a=1').stderr, /--policy-opt only applies with a policy file/);
});

test('at run time, a decision that is not one, or a throw, fails the run with the file in the reason', async () => {
  const junk = file('junk.mjs', "export default () => ({ name: 'junk', decide() { return { action: 'maybe' }; } });");
  const r = await runMigration({ ...SMALL, policy: junk });
  assert.equal(r.status, 'failed');
  assert.equal(r.sourceRunning, true);
  assert.match(r.reason ?? '', /the policy .*junk\.mjs returned \{"action":"maybe"\}/);
  const throws = file('throws.mjs', "export default () => ({ name: 't', afterRound() { throw new Error('boom'); } });");
  const a = await runMigration({ ...SMALL, policy: 'xen', aid: throws });
  assert.equal(a.status, 'failed');
  assert.match(a.reason ?? '', /the aid .*throws\.mjs threw in afterRound: boom/);
  const bad = file('bad-factory.mjs', "export default () => { throw new Error('needs a threshold'); };");
  await assert.rejects(
    runMigration({ ...SMALL, policy: bad }),
    (e: unknown) => e instanceof StrategyError && /factory threw: needs a threshold/.test(e.message),
  );
  assert.throws(() => resolveRunOptions({ ...SMALL, frobnicate: 1 } as never), OptionError);
});

test('an aid file acts after each round: its throttle shows in the rounds', async () => {
  const aid = fileURLToPath(new URL('../../../examples/aids/throttle-when-hot.js', import.meta.url));
  const r = await runMigration({
    ram: '32MiB',
    dirtyRate: '400MB/s',
    link: '500Mbit/s',
    clock: 'virtual',
    policy: 'xen',
    aid,
    aidOpt: 'step=0.25',
  });
  assert.equal(r.status, 'completed', r.reason);
  assert.ok(
    Math.max(...r.iterations.map((i) => i.throttlePercent)) >= 25,
    r.iterations.map((i) => i.throttlePercent).join(','),
  );
  assert.equal(r.config.userAid?.name, 'throttle-when-hot');
});

test('in a suite file, a policy file is relative to the suite file', () => {
  const sub = path.join(dir, 'suites');
  const policy = file(
    'p.mjs',
    "export default () => ({ name: 'p', decide() { return { action: 'switchover', why: 'now' }; } });",
  );
  spawnSync('mkdir', ['-p', sub]);
  const suiteFile = path.join(sub, 's.yaml');
  const plan = expandSuite(
    parseSuite(
      'name: s\nbase: { ram: 16MiB, clock: virtual, policy: ../p.mjs }\nmatrix: { dirty-rate: [1MB/s, 2MB/s] }\n',
      suiteFile,
    ),
  );
  assert.equal(plan.runs[0].config.userPolicy?.file, policy);
});

test('a codec file runs in the chain on every thread, and one that does not round-trip fails verification', async () => {
  const rle = fileURLToPath(new URL('../../../examples/codecs/run-length.js', import.meta.url));
  // Real clock, two encoder threads and the receiving thread: each imports the file.
  const r = await runMigration({
    ram: '16MiB',
    dirtyRate: '5MB/s',
    codec: `zero,${rle}`,
    compressThreads: 2,
    content: 'mixed:30:40:30',
    writeSize: '64',
  });
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
  assert.ok((r.totals.codec?.byCodec['run-length']?.pages ?? 0) > 0, JSON.stringify(r.totals.codec?.byCodec));
  assert.deepEqual(r.config.codecs, ['zero', 'user']);
  const lossy = file(
    'lossy.mjs',
    `export default () => ({ name: 'lossy',
    encode(page, n, out) { out[0] = page[0]; return 1; },
    decode(e, n, target) { target.fill(e[0]); } });`,
  );
  const bad = await runMigration({ ...SMALL, codec: lossy });
  assert.equal(bad.status, 'failed');
  assert.equal(bad.verified, false);
  assert.match(bad.reason ?? '', /differ|verif/i);
  const refuses = file(
    'refuses.mjs',
    `export default () => ({ name: 'refuses',
    encode(page, n, out) { out[0] = 1; return 1; },
    decode() { throw new Error('never'); } });`,
  );
  const thrown = await runMigration({ ...SMALL, codec: refuses });
  assert.equal(thrown.status, 'failed');
  assert.match(thrown.reason ?? '', /refuses\.mjs could not decode: never/);
  file('no-decode.mjs', "export default () => ({ name: 'nd', encode() { return -1; } });");
  assert.match(
    migbench('run', '--codec', 'zero,./no-decode.mjs').stderr,
    /no-decode\.mjs: the codec has no decode\(\)/,
  );
});

test('a pre-copy loop file runs the rounds; its answer and its throws are checked', async () => {
  const loop = file(
    'two-rounds.mjs',
    `export const options = ['why'];
  export default (o) => ({ name: 'two-rounds', async run(ctx) {
    const a = await ctx.sendRound(true); ctx.record(a, 'first pass');
    const b = await ctx.sendRound(false); ctx.record(b, 'then ' + ctx.pendingPages() + ' pending');
    return { action: 'switchover', why: o.why ?? 'two rounds' };
  } });`,
  );
  const r = await runMigration({ ...SMALL, precopyLoop: loop, loopOpt: 'why=enough' });
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
  assert.equal(r.totals.iterations, 3);
  assert.equal(r.switchoverReason, 'enough');
  assert.equal(r.config.precopyLoop, 'user');
  assert.equal(r.config.userLoop?.name, 'two-rounds');
  const junk = file('junk-loop.mjs', "export default () => ({ name: 'j', async run() { return 'done'; } });");
  const j = await runMigration({ ...SMALL, precopyLoop: junk });
  assert.equal(j.status, 'failed');
  assert.match(j.reason ?? '', /junk-loop\.mjs returned "done"/);
  const throws = file(
    'throw-loop.mjs',
    "export default () => ({ name: 't', async run(ctx) { await ctx.sendRound(true); throw new Error('oops'); } });",
  );
  const t = await runMigration({ ...SMALL, precopyLoop: throws });
  assert.match(t.reason ?? '', /the pre-copy loop .*throw-loop\.mjs threw: oops/);
  // migbench's own end passes through the user's loop: the timeout names itself.
  const forever = file(
    'forever.mjs',
    "export default () => ({ name: 'f', async run(ctx) { for (let i = 0; ; i++) { await ctx.sendRound(i === 0); ctx.checkpoint(); } } });",
  );
  const f = await runMigration({ ...SMALL, dirtyRate: '500MB/s', precopyLoop: forever, timeout: '2s' });
  assert.match(f.reason ?? '', /did not converge within the timeout of 2\.00 s/);
  file('no-run.mjs', "export default () => ({ name: 'n' });");
  assert.match(migbench('run', '--precopy-loop', './no-run.mjs').stderr, /no-run\.mjs: the loop has no run\(\)/);
  assert.match(
    migbench('run', '--precopy-loop', './no-run.mjs', '--postcopy', '--policy', 'xen').stderr,
    /--postcopy does not work with --precopy-loop FILE/,
  );
});

test('a policy and an aid registered from code are selected by name, in this process', async () => {
  let calls = 0;
  registerPolicy(
    'third-round',
    Object.assign(
      (o: Record<string, string>) => ({
        name: 'third-round',
        decide: (st: { roundsDone: number }) =>
          st.roundsDone >= Number(o.n ?? 3)
            ? { action: 'switchover' as const, why: `round ${st.roundsDone}` }
            : { action: 'continue' as const, why: 'wait' },
      }),
      { options: { n: 'the round to switch over after' } },
    ),
  );
  registerAid('counter', () => ({
    name: 'counter',
    afterRound: () => {
      calls++;
    },
  }));
  const r = await runMigration({ ...SMALL, policy: 'third-round', policyOpt: 'n=2', aid: 'counter' });
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.switchoverReason, 'round 2');
  assert.equal(calls, 2);
  assert.equal(r.config.userPolicy?.file, 'registered:third-round');
  assert.throws(
    () => registerPolicy('xen', () => ({ name: 'x', decide: () => ({ action: 'continue', why: '' }) })),
    /built-in/,
  );
});

test('over TCP a codec file needs the receiver to decode it (receive --codec): the same files are verified, others refused', async () => {
  const rle = fileURLToPath(new URL('../../../examples/codecs/run-length.js', import.meta.url));
  const { startReceiver } = await import('../fixtures/receiver.js');
  const config = resolveRunOptions({
    ram: '16MiB',
    dirtyRate: '5MB/s',
    codec: `zero,${rle}`,
    content: 'mixed:30:40:30',
    writeSize: '64',
  });
  const withIt = await startReceiver({ userCodecs: config.userCodecs });
  const without = await startReceiver({});
  try {
    const ok = await runMigration({ ...config, target: withIt.address });
    assert.equal(ok.status, 'completed', ok.reason);
    assert.equal(ok.verified, true);
    assert.ok((ok.totals.codec?.byCodec['run-length']?.pages ?? 0) > 0);
    const refused = await runMigration({ ...config, target: without.address });
    assert.equal(refused.status, 'failed');
    assert.match(refused.reason ?? '', /the codec files run-length; this receiver decodes no codec files/);
  } finally {
    await withIt.server.close();
    await without.server.close();
  }
});

test('options a strategy does not declare are refused before the run: a typo is an error, not ignored', async () => {
  const flat = fileURLToPath(new URL('../../../examples/policies/stop-when-flat.js', import.meta.url));
  const typo = migbench('run', '--clock', 'virtual', '--ram', '16MiB', '--policy', flat, '--policy-opt', 'shrnk=0.1');
  assert.equal(typo.status, 2, typo.stderr);
  assert.match(typo.stderr, /stop-when-flat\.js: the policy has no option shrnk; it takes shrink, patience/);
  const bare = file(
    'no-options.mjs',
    `export default () => ({ name: 'bare', decide: () => ({ action: 'switchover', why: 'at once' }) });`,
  );
  await assert.rejects(
    runMigration({ ...SMALL, policy: bare, policyOpt: 'x=1' }),
    /no-options\.mjs: the policy declares no options, so x cannot be given to it/,
  );
  const declared = await runMigration({ ...SMALL, policy: flat, policyOpt: 'shrink=0.1,patience=2' });
  assert.equal(declared.status, 'completed', declared.reason);
});
