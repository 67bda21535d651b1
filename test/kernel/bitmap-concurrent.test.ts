/**
 * No dirty mark is lost or duplicated when two threads mark pages (one with the wasm kernel, one
 * with the reference's Atomics.or) while the main thread repeatedly runs scanAndClear, alternating
 * between the two builds: every page marked once shows up exactly once, in some scan's output or
 * in the final scan.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { instantiateKernels } from '../../src/kernel/loader.js';
import { ReferenceKernels } from '../../src/kernel/reference.js';
import { BASE, kernelMemory, kernelModule } from '../fixtures/kernel-pair.js';
import { DONE, SCANS, START, type MarkWorkerData } from '../fixtures/mark-worker.js';
import { TestPrng } from '../fixtures/prng.js';

test('concurrent markDirty from two threads and scanAndClear on a third lose no mark', async () => {
  const words = 2048;
  const pageCount = words * 64;
  const bitmapPtr = BASE;
  const outPtr = BASE + words * 8;
  const module = await kernelModule();
  const memory = kernelMemory(outPtr + pageCount * 4);
  const scanners = [instantiateKernels(module, memory), new ReferenceKernels(memory)];
  const control = new SharedArrayBuffer(3 * 4);
  const ctl = new Int32Array(control);
  const prng = new TestPrng(50);

  // Worker 0 marks the even pages and worker 1 the odd ones, so they contend for every word.
  const workers = (['wasm', 'reference'] as const).map((implementation, w) => {
    const pages = prng.shuffle(Uint32Array.from({ length: pageCount / 2 }, (_, i) => 2 * i + w));
    const workerData: MarkWorkerData = { implementation, module, memory, bitmapPtr, pages, chunkPages: 4096, control };
    return new Worker(new URL('../fixtures/mark-worker.js', import.meta.url), { workerData });
  });
  const exited = workers.map(
    (w) =>
      new Promise<number>((resolve, reject) => {
        w.once('exit', resolve);
        w.once('error', reject);
      }),
  );

  const seen = new Uint8Array(pageCount);
  const out = new Uint32Array(memory.buffer, outPtr, pageCount);
  const collect = (k: (typeof scanners)[number]): number => {
    const n = k.scanAndClear(bitmapPtr, 0, words, outPtr, pageCount);
    for (let i = 0; i < n; i++) seen[out[i]]++;
    return n;
  };

  let midRunScansWithPages = 0;
  const deadline = Date.now() + 20_000;
  Atomics.store(ctl, START, 1);
  Atomics.notify(ctl, START);
  for (let scan = 0; Atomics.load(ctl, DONE) < 2; scan++) {
    if (collect(scanners[scan & 1]) > 0) midRunScansWithPages++;
    Atomics.add(ctl, SCANS, 1);
    Atomics.notify(ctl, SCANS);
    if (Date.now() > deadline) throw new Error('workers did not finish');
    if ((scan & 255) === 255) await new Promise(setImmediate); // let worker errors surface
  }
  assert.deepEqual(await Promise.all(exited), [0, 0]);
  collect(scanners[0]);

  const missing = seen.findIndex((n) => n === 0);
  const twice = seen.findIndex((n) => n > 1);
  assert.equal(missing, -1, `page ${missing} was marked but never scanned`);
  assert.equal(twice, -1, `page ${twice} was reported ${seen[twice]} times`);
  assert.equal(scanners[1].countDirty(bitmapPtr, 0, words), 0);
  // Each worker waits for scans between its 16 chunks, so many scans must have found pages.
  assert.ok(midRunScansWithPages >= 2, `only ${midRunScansWithPages} scans ran while pages were being marked`);
});
