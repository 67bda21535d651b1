/** After memory.grow both builds reach the new bytes (the reference re-creates its views). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instantiateKernels } from '../../src/kernel/loader.js';
import { ReferenceKernels } from '../../src/kernel/reference.js';
import { RESERVED_LOW_BYTES } from '../../src/kernel/types.js';
import { kernelModule } from '../fixtures/kernel-pair.js';

test('kernels work on memory added by grow(), and the reference refuses bytes past the end', async () => {
  const memory = new WebAssembly.Memory({ initial: 2, maximum: 65536, shared: true });
  const sides = [instantiateKernels(await kernelModule(), memory), new ReferenceKernels(memory)];
  for (const k of sides) assert.equal(k.isZero(RESERVED_LOW_BYTES, 65536), 1);
  memory.grow(2);
  const bitmapPtr = 3 * 65536;
  const bytes = new Uint8Array(memory.buffer);
  for (const [i, k] of sides.entries()) {
    k.markDirty(bitmapPtr, 100 + i);
    assert.equal(bytes[bitmapPtr + 12] & (1 << (4 + i)), 1 << (4 + i));
    assert.equal(k.isZero(2 * 65536, 65536), 1);
    bytes[4 * 65536 - 1] = 1;
    assert.equal(k.isZero(2 * 65536, 2 * 65536), 0);
    bytes[4 * 65536 - 1] = 0;
  }
  const reference = sides[1];
  assert.throws(() => reference.isZero(4 * 65536 - 8, 16), RangeError);
  assert.throws(
    () => reference.markDirty(bitmapPtr + 4, 0),
    RangeError,
    'a misaligned bitmap is refused, as 64-bit atomics trap',
  );
});
