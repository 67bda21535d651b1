/**
 * Loads the AssemblyScript kernels (build/kernels.wasm, built by `npm run build:wasm`) and binds
 * them to a shared memory. Compile once with `loadKernelModule()` and hand the module to worker
 * threads (it is shared, not copied, through workerData or a task); each thread then calls the
 * synchronous `instantiateKernels()` for each memory it works on.
 *
 * A memory for the kernels is `new WebAssembly.Memory({ initial, maximum, shared: true })` with
 * maximum <= 65536 pages. The module keeps no static data and allocates nothing, so instantiating
 * it writes nothing into the memory; kernels touch only the bytes the caller points them at.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kernels } from './types.js';

/**
 * The raw exports have the signatures of the kernel ABI (src/kernel/types.ts), declared once there;
 * only their results differ: i32 results arrive signed, i64 ones as signed bigint, which
 * instantiateKernels reinterprets where a result may reach 2^31.
 */
type KernelExports = Kernels;

/**
 * The package root: the nearest folder at or above `from` that holds a package.json. This file
 * runs as dist/src/kernel/loader.js, but counting levels would break under any other layout.
 */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json in ${from} or any folder above it`);
  }
}

/** Where the kernel module is built. */
export function kernelWasmPath(): string {
  return join(packageRoot(), 'build', 'kernels.wasm');
}

function missing(path: string, error: unknown): Error {
  const notFound = (error as NodeJS.ErrnoException).code === 'ENOENT';
  return notFound
    ? new Error(`kernel module not found at ${path}: run \`npm run build:wasm\``, { cause: error })
    : (error as Error);
}

/** Reads and compiles the kernel module. */
export async function loadKernelModule(path: string = kernelWasmPath()): Promise<WebAssembly.Module> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw missing(path, error);
  }
  return WebAssembly.compile(bytes);
}

/**
 * Synchronous variant of loadKernelModule, for a worker thread that was not handed the compiled
 * module (one that was should pass it straight to instantiateKernels).
 */
export function loadKernelModuleSync(path: string = kernelWasmPath()): WebAssembly.Module {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw missing(path, error);
  }
  return new WebAssembly.Module(bytes);
}

/** Kernels for each slot, one instance per memory (procedural slots share memories: src/memory/layout.ts). */
export function kernelsOfSlots(
  module: WebAssembly.Module,
  slots: ReadonlyArray<{ memory: WebAssembly.Memory }>,
): Kernels[] {
  const byMemory = new Map<WebAssembly.Memory, Kernels>();
  return slots.map((s) => {
    let k = byMemory.get(s.memory);
    if (k === undefined) byMemory.set(s.memory, (k = instantiateKernels(module, s.memory)));
    return k;
  });
}

/**
 * Instantiates the module over `memory`, synchronously (usable in any thread). The memory must be
 * shared, with initial >= 1 and maximum <= 65536 pages.
 */
export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): Kernels {
  // The module imports only env.memory today; abort is supplied in case a kernel ever gains a
  // trap path (asc imports it for assertions and throws).
  const abort = (messagePtr: number, filePtr: number, line: number, column: number): never => {
    throw new Error(
      `kernel abort: ${readAscString(memory, messagePtr)} at ${readAscString(memory, filePtr)}:${line}:${column}`,
    );
  };
  const e = new WebAssembly.Instance(module, { env: { memory, abort } }).exports as unknown as KernelExports;
  return {
    markDirty: e.markDirty,
    scanAndClear: e.scanAndClear,
    collectDirty: e.collectDirty,
    clearPages: e.clearPages,
    countDirty: (bitmapPtr, firstWord, wordCount) => e.countDirty(bitmapPtr, firstWord, wordCount) >>> 0,
    isZero: e.isZero,
    fillBytes: e.fillBytes,
    fillXorshift32x4: e.fillXorshift32x4,
    copyBytes: e.copyBytes,
    // Results >= 2^31 arrive as negative i32; -1 (error) is never a valid size below 4 GiB.
    packPages: (pagesPtr, pageSizeBytes, listPtr, count, pageBase, outPtr, outCapBytes) => {
      const r = e.packPages(pagesPtr, pageSizeBytes, listPtr, count, pageBase, outPtr, outCapBytes);
      return r < -1 ? r >>> 0 : r;
    },
    checkPages: e.checkPages,
    unpackPages: e.unpackPages,
    hash64: (ptr, len, seed) => BigInt.asUintN(64, e.hash64(ptr, len, seed)),
    hashPages: e.hashPages,
    firstDifference: (aPtr, bPtr, len) => {
      const r = e.firstDifference(aPtr, bPtr, len);
      return r < -1 ? r >>> 0 : r;
    },
    scanAndClearTwoLevel: e.scanAndClearTwoLevel,
    countUnchanged: (pagesPtr, pageSizeBytes, listPtr, count, hashesPtr) =>
      e.countUnchanged(pagesPtr, pageSizeBytes, listPtr, count, hashesPtr) >>> 0,
    // Results are below 2^31 (a page's length at most) or negative error codes: no reinterpreting.
    xbzrleEncode: e.xbzrleEncode,
    xbzrleDecode: e.xbzrleDecode,
  };
}

/** An AssemblyScript string: UTF-16LE, its byte length in the u32 before it. */
function readAscString(memory: WebAssembly.Memory, ptr: number): string {
  if (ptr === 0) return '';
  const bytes = new Uint8Array(memory.buffer);
  const length = new DataView(memory.buffer).getUint32(ptr - 4, true);
  // Copied out first: TextDecoder refuses views of shared memory.
  return new TextDecoder('utf-16le').decode(bytes.slice(ptr, ptr + length));
}

/** `(func (result v128) v128.const 0)`: valid only where wasm SIMD is. */
// prettier-ignore
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, // code section: no locals, v128.const
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0x0b, // end
]);

/** Whether this runtime validates wasm SIMD, which the kernel module needs. */
export function wasmSimdSupported(): boolean {
  return WebAssembly.validate(SIMD_PROBE);
}
