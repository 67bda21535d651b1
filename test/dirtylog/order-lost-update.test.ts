/**
 * The dirty-logging protocol, step by step, with the steps interleaved by hand so each outcome is
 * deterministic: writer = store bytes, then mark; driver = clear the bit (atomic exchange), then
 * copy. The right order loses nothing in every interleaving; each wrong order loses an update, and
 * the byte-for-byte check sees it, so the check can fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instantiateKernels, loadKernelModule } from '../../src/kernel/loader.js';
import { RESERVED_LOW_BYTES } from '../../src/kernel/types.js';

const PAGE = 4096;
const SRC = RESERVED_LOW_BYTES;
const DST = SRC + PAGE;
const BITMAP = DST + PAGE;
const LIST = BITMAP + 64;
const FRAME = LIST + 64 * 4;

async function harness() {
  const memory = new WebAssembly.Memory({ initial: 4, maximum: 4, shared: true });
  const k = instantiateKernels(await loadKernelModule(), memory);
  const bytes = new Uint8Array(memory.buffer);
  bytes.fill(1, SRC, SRC + PAGE);
  bytes.fill(1, DST, DST + PAGE); // round 0 already copied version 1
  let listed = 0;
  return {
    /** Writer half-steps. */
    store: (v: number) => bytes.fill(v, SRC, SRC + 8),
    mark: () => k.markDirty(BITMAP, 0),
    /** Driver half-steps: clear (scan-and-clear into the list), copy (what the list names). */
    clear: () => {
      listed = k.scanAndClear(BITMAP, 0, 1, LIST, 64);
    },
    copy: () => {
      const len = k.packPages(SRC, PAGE, LIST, listed, 0, FRAME, 2 * PAGE);
      assert.equal(k.unpackPages(DST, PAGE, 1, 0, FRAME, len, listed), listed);
    },
    /** The wrong driver order copies a page it believes dirty before clearing its bit. */
    copyAssumingDirty: () => {
      new Uint32Array(memory.buffer, LIST, 1)[0] = 0;
      listed = 1;
    },
    /** Final stop-and-copy round with the guest suspended, then the check. */
    finish: () => {
      if (k.scanAndClear(BITMAP, 0, 1, LIST, 64) > 0) listed = 1;
      if (listed) {
        const len = k.packPages(SRC, PAGE, LIST, listed, 0, FRAME, 2 * PAGE);
        k.unpackPages(DST, PAGE, 1, 0, FRAME, len, listed);
      }
      return k.firstDifference(SRC, DST, PAGE) === -1;
    },
    reset: () => {
      listed = 0;
    },
  };
}

test('store-then-mark with clear-then-copy loses no update in any interleaving', async () => {
  const interleavings: Array<Array<'store' | 'mark' | 'clear' | 'copy'>> = [
    ['store', 'mark', 'clear', 'copy'],
    ['store', 'clear', 'mark', 'copy'],
    ['store', 'clear', 'copy', 'mark'],
    ['clear', 'store', 'mark', 'copy'],
    ['clear', 'store', 'copy', 'mark'],
    ['clear', 'copy', 'store', 'mark'],
  ];
  for (const order of interleavings) {
    const h = await harness();
    for (const step of order) {
      if (step === 'store') h.store(2);
      else h[step]();
    }
    h.reset();
    assert.equal(h.finish(), true, `lost an update in order ${order.join(' ')}`);
  }
});

test('mark before store loses the update when the driver copies in between', async () => {
  const h = await harness();
  h.mark();
  h.clear();
  h.copy(); // copies version 1: the bytes are not there yet
  h.store(2); // the bit is already clear: nobody will send version 2
  h.reset();
  assert.equal(h.finish(), false, 'the check must see the lost update');
});

test('copy before clear loses the update written between the two', async () => {
  const h = await harness();
  h.mark(); // the page was dirty from an earlier write
  h.copyAssumingDirty();
  h.copy(); // driver copies version 1 first ...
  h.store(2);
  h.mark(); // ... the guest writes version 2 and marks the already-set bit ...
  h.clear(); // ... and the driver's late clear erases that mark
  h.reset();
  assert.equal(h.finish(), false, 'the check must see the lost update');
});
