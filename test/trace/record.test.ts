/**
 * `migbench record` on a real program: a Python process that writes one byte into each of 2,000
 * fixed pages of a 64 MiB buffer every 50 ms. The trace must hold that RAM, those pages and, page
 * by page, exactly the bytes the program had written; then it runs as a guest's workload,
 * verified, the same twice on the virtual clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { TraceFile } from '../../src/trace/reader.js';
import { runMigration } from '../../src/index.js';
import { resolveRunConfig } from '../../src/config/options.js';
import { BIN } from '../fixtures/receiver-process.js';
import { simulatedPart } from '../fixtures/simulated.js';

const dir = mkdtempSync(path.join(tmpdir(), 'migbench-record-'));
const program = path.join(dir, 'writer.py');
const ITERATIONS = 60;
writeFileSync(
  program,
  `import ctypes, sys, time
buf = bytearray(64 * 1024 * 1024)
addr = ctypes.addressof((ctypes.c_char * len(buf)).from_buffer(buf))
print(addr, flush=True)
pages = [(i * 7919) % 16384 for i in range(2000)]
for n in range(1, ${ITERATIONS} + 1):
    for p in pages:
        buf[p * 4096 + n] = (n * 7 + p) & 255
    time.sleep(0.05)
time.sleep(60)
`,
);
const PAGES = Array.from({ length: 2000 }, (_, i) => (i * 7919) % 16384);

/**
 * After how many iterations a trace page holds what the program left in buffer page `p` (which
 * starts `base` bytes into it: offset n in 1..k is (7n + p) & 255, every other byte zero), or null
 * if it holds anything else. Before `base`, the first page has malloc's header.
 */
function iterationsIn(bytes: Uint8Array, p: number, base: number): number | null {
  let k = 0;
  for (let n = 1; n <= ITERATIONS; n++) {
    const want = (n * 7 + p) & 255;
    if (bytes[base + n] === want && want !== 0) k = n;
    else if (bytes[base + n] !== 0) return null;
  }
  for (let i = p === 0 ? base : 0; i < bytes.length; i++) {
    if ((i <= base || i > base + ITERATIONS) && bytes[i] !== 0) return null;
  }
  return k;
}

test(
  'record a Python program: its RAM, its 2,000 pages and their bytes, as it wrote them',
  { timeout: 60_000 },
  async () => {
    const out = path.join(dir, 'py.mtrace');
    const child = spawn(
      process.execPath,
      [BIN, 'record', '--out', out, '--interval', '100ms', '--duration', '5s', '--json', '--', 'python3', program],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdout) as { reason: string; intervals: number };
    assert.equal(summary.reason, 'duration');
    // The program printed its buffer's address (on the recorder's stderr).
    const address = Number(/^(\d+)$/m.exec(stderr)?.[1]);
    assert.ok(address > 0, stderr);

    const info = JSON.parse(
      spawnSync(process.execPath, [BIN, 'trace', 'info', out, '--json'], { encoding: 'utf8' }).stdout,
    ) as {
      ramBytes: number;
      durationMs: number;
      pagesWritten: number;
      meanDirtyPagesPerSec: number;
    };
    assert.ok(info.ramBytes >= 64 * 2 ** 20, `RAM ${info.ramBytes}`);
    assert.ok(info.durationMs >= 2500, `duration ${info.durationMs}`);
    assert.ok(info.pagesWritten >= 2000, `pages written ${info.pagesWritten}`);
    assert.ok(info.meanDirtyPagesPerSec >= 10_000, `dirty pages/s ${info.meanDirtyPagesPerSec}`);

    // Page by page: every recorded state of a buffer page is the program's after some iteration, in order.
    const t = TraceFile.open(out);
    try {
      const region = t.regions.find((r) => parseInt(r.start, 16) <= address && address < parseInt(r.end, 16));
      assert.ok(region, `a region holds the buffer at ${address.toString(16)}`);
      const firstByte = region.firstPage * 4096 + (address - parseInt(region.start, 16));
      // malloc puts a header before the buffer: where it starts in its first page.
      const base = firstByte % 4096;
      const bufferPage = (tracePage: number): number => tracePage - Math.floor(firstByte / 4096);
      const states = new Map<number, number>();
      // The trace's memory: the initial content, then each change XORed in as it comes.
      const memory = new Uint8Array(t.ramBytes);
      for (const record of t.content) {
        const { pages, bytes } = t.contentPages(record);
        memory.set(bytes, pages[0] * 4096);
      }
      for (const iv of t.intervals) {
        for (const record of iv.records) {
          const { pages, bytes } = t.changedPages(record);
          for (let i = 0; i < pages.length; i++) {
            const page = memory.subarray(pages[i] * 4096, (pages[i] + 1) * 4096);
            for (let b = 0; b < 4096; b++) page[b] ^= bytes[i * 4096 + b];
            const p = bufferPage(pages[i]);
            if (p < 0 || p >= 16384) continue;
            const k = iterationsIn(page, p, base);
            assert.notEqual(
              k,
              null,
              `buffer page ${p} in interval ${iv.interval} holds bytes the program did not write`,
            );
            assert.ok(PAGES.includes(p), `buffer page ${p} changed, but the program never writes it`);
            assert.ok(k! >= (states.get(p) ?? 0), `buffer page ${p} went back in interval ${iv.interval}`);
            states.set(p, k!);
          }
        }
      }
      assert.equal(states.size, 2000, 'every page the program wrote was recorded');
      // The last iteration that left a byte other than zero (a zero written is not seen).
      const lastSeen = (p: number): number => {
        let n = ITERATIONS;
        while (((n * 7 + p) & 255) === 0) n--;
        return n;
      };
      for (const p of PAGES) assert.equal(states.get(p), lastSeen(p), `buffer page ${p} ends as the program left it`);
    } finally {
      t.close();
    }

    // As a workload: verified, and the same twice on the virtual clock.
    const config = resolveRunConfig({ clock: 'virtual', workload: `trace:${out}`, link: '1Gbit/s', seed: '3' });
    const a = await runMigration(config);
    const b = await runMigration(config);
    assert.equal(a.status, 'completed', a.reason);
    assert.equal(a.verified, true);
    assert.equal(a.config.ramBytes, info.ramBytes);
    assert.ok(a.totals.guestPageWrites > 0);
    assert.deepEqual(simulatedPart(b), simulatedPart(a));
  },
);
