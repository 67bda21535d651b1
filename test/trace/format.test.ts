/** The trace format: written, read back, replayed; a wrong version, a truncated or a corrupted file refused in one line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TraceFile, TraceError } from '../../src/trace/reader.js';
import { TraceCursor, loadInitialContent } from '../../src/trace/replay.js';
import { traceInfo } from '../../src/trace/info.js';
import { writesDue, traceFacts } from '../../src/trace/options.js';
import { writeSyntheticTrace } from '../fixtures/trace.js';
import { BIN } from '../fixtures/receiver-process.js';
import { loadSuitePlan } from '../../src/suite/load.js';
import { runSuite } from '../../src/harness/run-suite.js';
import type { MigrationResult } from '../../src/result/schema.js';

const dir = mkdtempSync(path.join(tmpdir(), 'migbench-trace-'));
const file = path.join(dir, 'small.mtrace');
const PAGES = 64;
// Three intervals: pages 1-3 (100 ms), none (50 ms), pages 3 and 10 (100 ms).
const INTERVALS = [
  { durationMs: 100, writes: [1, 2, 3].map((page) => ({ page, fill: 0x11 })) },
  { durationMs: 50, writes: [] },
  {
    durationMs: 100,
    writes: [
      { page: 3, fill: 0x22 },
      { page: 10, fill: 0x33 },
    ],
  },
];

test('a trace reads back as written: regions, intervals, content and changes', async () => {
  await writeSyntheticTrace(file, PAGES, INTERVALS);
  const t = TraceFile.open(file);
  try {
    assert.equal(t.ramBytes, PAGES * 4096);
    assert.equal(t.durationMs, 250);
    assert.deepEqual(
      t.intervals.map((iv) => [iv.startMs, iv.durationMs, iv.pages]),
      [
        [0, 100, 3],
        [100, 50, 0],
        [150, 100, 2],
      ],
    );
    const { pages, bytes } = t.changedPages(t.intervals[2].records[0]);
    assert.deepEqual([...pages], [3, 10]);
    assert.equal(bytes[17], 0x11 ^ 0x22, 'page 3 changed from 0x11 to 0x22: their XOR');
    assert.equal(bytes[4096 + 17], 0x33);
    const info = traceInfo(t);
    assert.equal(info.pagesWritten, 4);
    assert.equal(info.pageChanges, 5);
    assert.equal(info.rewrites.twoToThree, 1, 'page 3 is written in two intervals');
    assert.equal(info.meanDirtyPagesPerSec, 20);
    assert.equal(info.peakDirtyPagesPerSec, 30);
    assert.equal(
      info.bytesChanged.median,
      4096,
      'a page filled whole differs in every byte (but its first, for 2 of them)',
    );
  } finally {
    t.close();
  }
});

test('the replay writes the recorded bytes at the recorded times, split over vCPUs by page', async () => {
  await writeSyntheticTrace(file, PAGES, INTERVALS);
  const memory = new Uint8Array(PAGES * 4096);
  loadInitialContent(file, (p) => memory.subarray(p * 4096, (p + 1) * 4096));
  assert.equal(memory[5 * 4096], 5);
  const seen: Array<[number, number, number]> = [];
  for (let vcpu = 0; vcpu < 2; vcpu++) {
    const c = new TraceCursor({ file, speed: 1, loop: false }, vcpu, 2);
    for (let t = c.nextMs(); t !== Infinity; t = c.nextMs()) {
      const page = c.page();
      assert.equal(page % 2, vcpu);
      c.writeInto(memory, page * 4096);
      seen.push([t, page, memory[page * 4096 + 100]]);
    }
    c.close();
  }
  seen.sort((a, b) => a[0] - b[0]);
  // Interval 0's 3 pages at 100 x (j + 0.5) / 3; interval 2's 2 pages at 150 + 100 x (j + 0.5) / 2.
  assert.deepEqual(
    seen.map(([t, p, b]) => [Math.round(t * 100) / 100, p, b]),
    [
      [16.67, 1, 0x11],
      [50, 2, 0x11],
      [83.33, 3, 0x11],
      [175, 3, 0x22],
      [225, 10, 0x33],
    ],
  );
  assert.equal(memory[10 * 4096], 0x33);
  const f = traceFacts(file);
  assert.equal(writesDue(f, 60, false), 2);
  assert.equal(writesDue(f, 250, false), 5);
  assert.equal(writesDue(f, 500, true), 10, 'looped: two passes');
});

test('a looped replay starts over after the last interval', async () => {
  await writeSyntheticTrace(file, PAGES, INTERVALS);
  const c = new TraceCursor({ file, speed: 1, loop: true }, 0, 1);
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    times.push(Math.round(c.nextMs()));
    c.writeInto(new Uint8Array(4096), 0);
  }
  c.close();
  assert.deepEqual(times, [17, 50, 83, 175, 225, 267, 300]);
});

test('a wrong version, a truncated or a corrupted trace is refused with one line, exit 2', async () => {
  await writeSyntheticTrace(file, PAGES, INTERVALS);
  const good = readFileSync(file);
  const cases: Array<[string, Buffer, RegExp]> = [
    [
      'version',
      Buffer.concat([good.subarray(0, 8), Buffer.from([9, 0, 0, 0]), good.subarray(12)]),
      /trace format version 9; this migbench reads version 1/,
    ],
    ['truncated', good.subarray(0, good.length - 10), /truncated/],
    ['corrupted', Buffer.from(good.map((b, i) => (i === good.length - 200 ? b ^ 0xff : b))), /CRC|corrupt/],
    ['not a trace', Buffer.from('hello world, not a trace at all'), /does not start with MIGTRACE/],
  ];
  for (const [name, bytes, message] of cases) {
    const bad = path.join(dir, `${name}.mtrace`);
    writeFileSync(bad, bytes);
    assert.throws(
      () => TraceFile.open(bad),
      (e: unknown) => e instanceof TraceError && message.test(e.message),
      name,
    );
    for (const args of [
      ['trace', 'info', bad],
      ['run', '--clock', 'virtual', '--workload', `trace:${bad}`],
    ]) {
      const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 2, `${name}: ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr.split('\n')[0], /^migbench: .*is not a usable migbench trace/, name);
      assert.match(r.stderr.split('\n')[0], message, name);
    }
  }
});

test('--workload trace takes the RAM and page size from the trace, and refuses the synthetic options', async () => {
  await writeSyntheticTrace(file, PAGES, INTERVALS);
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, 'run', '--clock', 'virtual', '--workload', `trace:${file}`, ...args], {
      encoding: 'utf8',
    });
  for (const [flag, value] of [
    ['--ram', '1GiB'],
    ['--dirty-rate', '10MB/s'],
    ['--pattern', 'sequential'],
    ['--content', 'zero'],
  ]) {
    const r = run(flag, value);
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`${flag} is the synthetic workload's`));
  }
  assert.match(run('--memory', 'procedural').stderr, /--memory procedural does not take --workload trace/);
  assert.match(run('--postcopy-after', '2').stderr, /does not take post-copy yet/);
  assert.match(run('--page-size', '2MiB').stderr, /--page-size must be the trace's \(4\.0 KiB\)/);
  const speed = spawnSync(process.execPath, [BIN, 'run', '--trace-speed', '2'], { encoding: 'utf8' });
  assert.match(speed.stderr, /--trace-speed applies with --workload trace:FILE/);
});

test('a suite file names its trace relative to itself; a virtual run replays every recorded change', async () => {
  const suiteDir = mkdtempSync(path.join(tmpdir(), 'migbench-trace-suite-'));
  // 64 pages, 20 intervals of 50 ms each writing 8 pages: 160 changes in 1 s.
  const intervals = Array.from({ length: 20 }, (_, k) => ({
    durationMs: 50,
    writes: Array.from({ length: 8 }, (_, i) => ({ page: (k * 8 + i) % PAGES, fill: k + 1 })),
  }));
  await writeSyntheticTrace(path.join(suiteDir, 'w.mtrace'), PAGES, intervals);
  const file = path.join(suiteDir, 'suite.yaml');
  writeFileSync(
    file,
    [
      'name: traces',
      'base:',
      '  clock: virtual',
      '  link: 10Mbit/s',
      '  dirty-cost: none', // no write-protect faults: nothing delays the replay
      'matrix:',
      '  workload: [trace:w.mtrace]',
      '',
    ].join('\n'),
  );
  const plan = await loadSuitePlan(file);
  const out = path.join(suiteDir, 'out');
  await runSuite(plan, { outDir: out, toolVersion: 'test' });
  const [record] = readFileSync(path.join(out, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { result: MigrationResult });
  const r = record.result;
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
  assert.equal(r.config.ramBytes, PAGES * 4096);
  // The 256 KiB guest takes over 200 ms at 10 Mbit/s: more of the trace than that is written, at its pace.
  assert.ok(r.totals.totalTimeMs > 200, `${r.totals.totalTimeMs} ms`);
  assert.ok(r.workload!.writes > 0);
  assert.equal(
    r.workload!.writes,
    r.workload!.recordedWrites,
    'on the virtual clock, with nothing to slow it, the replay keeps the recorded pace exactly',
  );
});
