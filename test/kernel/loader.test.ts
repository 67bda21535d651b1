/**
 * The loader: finds and compiles build/kernels.wasm, binds it to a shared memory, and the module
 * brings no static data: instantiating it, or running kernels, writes nothing below
 * RESERVED_LOW_BYTES.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  instantiateKernels,
  kernelWasmPath,
  loadKernelModule,
  loadKernelModuleSync,
  packageRoot,
  wasmSimdSupported,
} from '../../src/kernel/loader.js';
import { RESERVED_LOW_BYTES, type Kernels } from '../../src/kernel/types.js';
import { kernelMemory } from '../fixtures/kernel-pair.js';

const KERNEL_NAMES: (keyof Kernels)[] = [
  'markDirty',
  'scanAndClear',
  'collectDirty',
  'clearPages',
  'countDirty',
  'isZero',
  'fillBytes',
  'fillXorshift32x4',
  'copyBytes',
  'packPages',
  'checkPages',
  'unpackPages',
  'hash64',
  'hashPages',
  'firstDifference',
  'scanAndClearTwoLevel',
  'countUnchanged',
  'xbzrleEncode',
  'xbzrleDecode',
];

test('the package root holds package.json and the built kernel module', () => {
  const root = packageRoot();
  assert.ok(existsSync(join(root, 'package.json')), root);
  assert.equal(kernelWasmPath(), join(root, 'build', 'kernels.wasm'));
  assert.ok(existsSync(kernelWasmPath()), 'run npm run build:wasm');
  assert.throws(() => packageRoot('/'), /no package\.json/);
});

test('a missing module file is reported with the command that builds it', async () => {
  await assert.rejects(loadKernelModule('/nonexistent/kernels.wasm'), /npm run build:wasm/);
  assert.throws(() => loadKernelModuleSync('/nonexistent/kernels.wasm'), /npm run build:wasm/);
});

test('wasm SIMD is detected on this runtime', () => {
  assert.equal(wasmSimdSupported(), true);
});

test('the module imports only env.memory, shared, and exports every kernel', async () => {
  const module = await loadKernelModule();
  assert.deepEqual(WebAssembly.Module.imports(module), [{ module: 'env', name: 'memory', kind: 'memory' }]);
  const exported = WebAssembly.Module.exports(module)
    .filter((e) => e.kind === 'function')
    .map((e) => e.name)
    .sort();
  assert.deepEqual(exported, [...KERNEL_NAMES].sort());
  const kernels = instantiateKernels(module, kernelMemory(65536 * 2));
  assert.deepEqual(Object.keys(kernels).sort(), [...KERNEL_NAMES].sort());
  assert.throws(
    () => instantiateKernels(module, new WebAssembly.Memory({ initial: 1 })),
    'an unshared memory does not link',
  );
});

test('instantiating and running the kernels leaves the reserved low bytes alone', () => {
  const module = loadKernelModuleSync();
  // Any maximum up to 65536 pages links; this one is the smallest that holds the test.
  const memory = new WebAssembly.Memory({ initial: 4, maximum: 4, shared: true });
  const bytes = new Uint8Array(memory.buffer);
  bytes.fill(0x5a, 0, RESERVED_LOW_BYTES);
  const k = instantiateKernels(module, memory);
  const at = RESERVED_LOW_BYTES;
  k.markDirty(at, 5);
  k.countDirty(at, 0, 1);
  k.collectDirty(at, 0, 1, at + 64, 64);
  k.scanAndClear(at, 0, 1, at + 64, 64);
  k.clearPages(at, at + 64, 1);
  k.isZero(at, 4096);
  k.packPages(at, 64, at + 64, 1, 0, at + 4096, 4096);
  k.unpackPages(at + 8192, 64, 4, 0, at + 4096, 72, 1);
  k.hash64(at, 4096, 0n);
  k.hashPages(at, 1024, 4, at + 4096);
  k.firstDifference(at, at + 4096, 4096);
  assert.ok(bytes.subarray(0, RESERVED_LOW_BYTES).every((b) => b === 0x5a));
  assert.notEqual(k.hash64(at, 4096, 0n), 0n, 'the kernels did run');
});

test('offsets of 2^31 and above come back unsigned', () => {
  const module = loadKernelModuleSync();
  // Pages commit on touch, and reading untouched ones maps the zero page: this costs almost no RAM.
  const len = 2 ** 31 + 16;
  const a = RESERVED_LOW_BYTES;
  const b = a + 16;
  const memory = new WebAssembly.Memory({ initial: Math.ceil((b + len) / 65536), maximum: 65536, shared: true });
  const k = instantiateKernels(module, memory);
  // Both ranges are zero except one byte of b past 2^31 (a sees it 16 bytes later).
  new Uint8Array(memory.buffer)[b + 2 ** 31 + 3] = 1;
  assert.equal(k.firstDifference(a, b, len), 2 ** 31 + 3);
});
