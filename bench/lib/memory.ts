/**
 * The memory cases of `npm run bench:e2e` (issue 11): a suite's memory across runs, set-up against
 * the machine's page-fault floor, and a receiver's memory across guests of alternating shapes.
 * Each runs in its own child process (bench/e2e.ts), so RSS figures are its own.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { runMigration } from '../../src/driver/migrate.js';
import { packageRoot } from '../../src/kernel/loader.js';
import { DEFAULT_RUN_CONFIG } from '../../src/config/options.js';
import { type RunConfig } from '../../src/config/types.js';
import { collectGarbage } from '../../src/memory/gc.js';
import { runLayouts, targetNeedBytes } from '../../src/memory/admission.js';
import { planGuestLayout, DEFAULT_FRAME_BUFFERS } from '../../src/memory/layout.js';
import { memoryPool } from '../../src/memory/pool.js';
import { parseSuite } from '../../src/suite/parse.js';
import { expandSuite } from '../../src/suite/expand.js';
import { runSuite } from '../../src/harness/run-suite.js';
import { ReceiverServer } from '../../src/receiver/server.js';
import type { MigrationSummary } from '../../src/receiver/target-migration.js';
import { RssSampler } from './rss.js';
import { GiB, MiB } from './units.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** RSS once freed memory has had a moment to go back (the kernel unmaps in the background). */
async function settledRss(): Promise<number> {
  collectGarbage();
  await sleep(200);
  return process.memoryUsage.rss();
}

// ----------------------------------------------------------------------------- fault-in floor

export interface FaultFloor {
  bytes: number;
  threads: number;
  wallMs: number;
  gibPerSec: number;
}

const TOUCH_WORKER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ memories, share, shares }) => {
  for (const m of memories) {
    const b = new Uint8Array(m.buffer);
    const per = Math.ceil(b.length / 4096 / shares) * 4096;
    for (let at = share * per; at < Math.min(b.length, (share + 1) * per); at += 4096) b[at] = 0;
  }
  parentPort.postMessage('done');
});`;

/**
 * Faults in new shared wasm memories of the given sizes (one byte per 4 KiB, each memory split
 * across `threads` threads, started before the clock), then releases them: the least any set-up
 * of those bytes can take on this machine, since the kernel zeroes every page on first touch.
 */
export async function faultFloor(sizes: readonly number[], threads = os.availableParallelism()): Promise<FaultFloor> {
  const workers = Array.from({ length: threads }, () => new Worker(TOUCH_WORKER, { eval: true }));
  await Promise.all(workers.map((w) => new Promise((r) => w.once('online', r))));
  let memories: WebAssembly.Memory[] | undefined = sizes.map(
    (n) => new WebAssembly.Memory({ initial: n / 65536, maximum: n / 65536, shared: true }),
  );
  const t0 = performance.now();
  await Promise.all(
    workers.map(
      (w, share) =>
        new Promise((r) => {
          w.once('message', r);
          w.postMessage({ memories, share, shares: threads });
        }),
    ),
  );
  const wallMs = performance.now() - t0;
  await Promise.all(workers.map((w) => w.terminate()));
  memories = undefined;
  await settledRss();
  const bytes = sizes.reduce((n, s) => n + s, 0);
  return { bytes, threads, wallMs, gibPerSec: bytes / GiB / (wallMs / 1000) };
}

/** The byte sizes of the memories a run's set-up writes: its source's and target's slots. */
function setupSizes(config: RunConfig): number[] {
  const { source, target } = runLayouts(config);
  return [...source.memoryBytes, ...target.memoryBytes];
}

export interface SetupFloorResult {
  ramBytes: number;
  setupBytes: number;
  floorBefore: FaultFloor;
  floorAfter: FaultFloor;
  /** The run's set-up: all of it, and its memories' part. */
  setupWallMs: number;
  memoryWallMs: number;
  /** setupWallMs / mean of the two floors. */
  ratio: number;
  status: string;
}

/** A fresh 4 GiB guest's set-up between two measurements of the fault-in floor of the same bytes. */
export async function setupFloorCase(ramBytes = 4 * GiB): Promise<SetupFloorResult> {
  const config: RunConfig = { ...DEFAULT_RUN_CONFIG, ramBytes, linkBitsPerSec: 10e9, clock: 'virtual' };
  const sizes = setupSizes(config);
  const floorBefore = await faultFloor(sizes);
  const result = await runMigration(config);
  memoryPool.drain();
  await settledRss();
  const floorAfter = await faultFloor(sizes);
  const setup = result.totals.setup;
  const setupWallMs = setup?.wallMs ?? NaN;
  return {
    ramBytes,
    setupBytes: floorBefore.bytes,
    floorBefore,
    floorAfter,
    setupWallMs,
    memoryWallMs: setup?.memoryWallMs ?? NaN,
    ratio: setupWallMs / ((floorBefore.wallMs + floorAfter.wallMs) / 2),
    status: result.status,
  };
}

// ------------------------------------------------------------------------------ suite of runs

export interface SuiteMemoryResult {
  runs: number;
  ramBytes: number;
  completed: number;
  /** RSS after each run, bytes. */
  rssAfterRun: number[];
  peakRssBytes: number;
  /** Set-up wall ms of each run. */
  setupWallMs: number[];
  /** Median set-up of runs 2..n over the first run's. */
  repeatSetupRatio: number;
  /** (RSS after the last run - after the first) / after the first. */
  rssDrift: number;
}

/** A suite of `runs` repeats of one 1 GiB configuration in this process, through the suite runner. */
export async function suiteMemoryCase(runs = 20, ramText = '1GiB'): Promise<SuiteMemoryResult> {
  const text = `name: memory-bench\nbase:\n  clock: virtual\n  memory: materialized\n  ram: ${ramText}\n  link: 10Gbit/s\n  dirty-rate: 100MB/s\n  downtime-limit: 300ms\nrepeat: ${runs}\n`;
  const plan = expandSuite(parseSuite(text, 'memory-bench.yaml'));
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'migbench-memory-'));
  const sampler = new RssSampler();
  sampler.start(50);
  const rssAfterRun: number[] = [];
  const setupWallMs: number[] = [];
  let completed = 0;
  try {
    await runSuite(plan, {
      outDir,
      toolVersion: 'bench',
      onProgress: (e) => {
        if (e.kind !== 'run-end') return;
        rssAfterRun.push(process.memoryUsage.rss());
        setupWallMs.push(e.record.result?.totals.setup?.wallMs ?? NaN);
        if (e.record.status === 'completed') completed++;
      },
    });
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
  const peak = sampler.stop();
  const repeats = setupWallMs.slice(1).sort((a, b) => a - b);
  const median = repeats[Math.floor(repeats.length / 2)];
  return {
    runs,
    ramBytes: plan.runs[0].config.ramBytes,
    completed,
    rssAfterRun,
    peakRssBytes: Math.max(peak.sampledPeakBytes, peak.maxRssBytes),
    setupWallMs,
    repeatSetupRatio: median / setupWallMs[0],
    rssDrift: (rssAfterRun[rssAfterRun.length - 1] - rssAfterRun[0]) / rssAfterRun[0],
  };
}

// --------------------------------------------------------------------------- receiver shapes

export interface ReceiverMemoryResult {
  migrations: number;
  completed: number;
  ramBytes: number[];
  /** The receiver's RSS after each migration, bytes. */
  rssAfter: number[];
  peakRssBytes: number;
  /** Target memory of the largest guest, bytes (src/memory/admission.ts). */
  largestNeedBytes: number;
}

const CLI = path.join(packageRoot(), 'bin', 'migbench.js');

/**
 * This process is the receiver; each migration's source is a `migbench run --target` of its own
 * process, with guests alternating between two shapes a page apart.
 */
export async function receiverMemoryCase(
  migrations = 20,
  shapes: readonly number[] = [512 * MiB, 512 * MiB + 4096],
): Promise<ReceiverMemoryResult> {
  const summaries: MigrationSummary[] = [];
  const server = new ReceiverServer({
    listen: { host: '127.0.0.1', port: 0 },
    token: null,
    onMigration: (s) => summaries.push(s),
  });
  const address = await server.listen();
  const sampler = new RssSampler();
  sampler.start(50);
  const ramBytes: number[] = [];
  try {
    for (let i = 0; i < migrations; i++) {
      const ram = shapes[i % shapes.length];
      ramBytes.push(ram);
      const before = summaries.length;
      await new Promise<void>((resolve, reject) => {
        const cp = spawn(
          process.execPath,
          [
            CLI,
            'run',
            '--quiet',
            '--ram',
            `${ram / 1024}KiB`,
            '--dirty-rate',
            '10MB/s',
            '--target',
            `tcp://127.0.0.1:${address.port}`,
          ],
          { stdio: ['ignore', 'ignore', 'inherit'] },
        );
        cp.on('error', reject);
        cp.on('exit', () => resolve());
      });
      for (let t = 0; summaries.length === before && t < 100; t++) await sleep(20);
    }
  } finally {
    await server.close();
  }
  const peak = sampler.stop();
  const largest = Math.max(...shapes);
  const layout = planGuestLayout(largest, 4096, undefined, DEFAULT_FRAME_BUFFERS);
  return {
    migrations,
    completed: summaries.filter((s) => s.status === 'completed').length,
    ramBytes,
    rssAfter: summaries.map((s) => s.rssBytes),
    peakRssBytes: Math.max(peak.sampledPeakBytes, peak.maxRssBytes),
    largestNeedBytes: targetNeedBytes(layout),
  };
}
