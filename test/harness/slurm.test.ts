/**
 * A suite on a real Slurm cluster: a one-node cluster from Debian's packages (test/slurm/cluster.sh:
 * munged, slurmctld and slurmd on this host), the suite submitted as a job array of 3 shards with
 * examples/slurm/suite.sbatch, merged by `migbench report`, equal to an unsharded run of the same
 * suite (the same run ids, the same results on the virtual clock). .ci/run installs slurm-wlm and
 * munge when missing; without them (a developer's machine) the test says so and is skipped.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'migbench.js');
const haveSlurm =
  spawnSync('sh', ['-c', 'command -v sbatch && command -v slurmctld && command -v munged'], { encoding: 'utf8' })
    .status === 0;
const dir = mkdtempSync(path.join(tmpdir(), 'migbench-slurm-'));
const cluster = path.join(dir, 'cluster');
const env = { ...process.env, SLURM_CONF: path.join(cluster, 'slurm.conf') };

after(() => {
  if (haveSlurm) spawnSync(path.join(ROOT, 'test/slurm/cluster.sh'), ['stop', cluster], { stdio: 'ignore' });
});

test(
  'a suite as a Slurm job array of 3 shards, merged, equals an unsharded run',
  { skip: haveSlurm ? false : 'slurm-wlm and munge are not installed (.ci/run installs them)', timeout: 300_000 },
  () => {
    execFileSync(path.join(ROOT, 'test/slurm/cluster.sh'), ['start', cluster], { stdio: 'pipe', env });
    const suite = path.join(dir, 'suite.yaml');
    writeFileSync(
      suite,
      'name: slurm\nbase: { ram: 16MiB, clock: virtual, link: 1Gbit/s }\nmatrix: { dirty-rate: [1MB/s, 20MB/s, 60MB/s], policy: [xen, qemu-rounds] }\nrepeat: 2\n',
    );
    const out = path.join(dir, 'sharded');
    const submit = spawnSync(
      'sbatch',
      [
        '--wait',
        '--array=1-3',
        `--output=${path.join(dir, 'job-%A_%a.out')}`,
        `--export=ALL,MIGBENCH=${process.execPath} ${BIN}`,
        path.join(ROOT, 'examples/slurm/suite.sbatch'),
        suite,
        out,
      ],
      { encoding: 'utf8', env, cwd: dir, timeout: 240_000 },
    );
    assert.equal(submit.status, 0, `${submit.stdout}${submit.stderr}`);
    for (const i of [1, 2, 3]) assert.ok(existsSync(path.join(out, `shard-${i}-of-3`, 'results.jsonl')), `shard ${i}`);
    const merge = spawnSync(process.execPath, [BIN, 'report', out], { encoding: 'utf8' });
    assert.equal(merge.status, 0, merge.stderr);
    assert.match(merge.stderr, /merged 3 shard folders: 12 of 12 runs recorded/);
    assert.doesNotMatch(merge.stderr, /missing/);

    const whole = path.join(dir, 'whole');
    const single = spawnSync(process.execPath, [BIN, 'suite', suite, '--out', whole, '--quiet'], { encoding: 'utf8' });
    assert.equal(single.status, 0, single.stderr);
    const results = (d: string): [string, number, number][] =>
      readFileSync(path.join(d, 'results.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { runId: string; result: { totals: { totalTimeMs: number; bytesSent: number } } })
        .map((r): [string, number, number] => [r.runId, r.result.totals.totalTimeMs, r.result.totals.bytesSent])
        .sort();
    assert.deepEqual(results(out), results(whole));
  },
);
