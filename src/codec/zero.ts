/**
 * The zero codec: a page of zeros travels as its descriptor alone (QEMU's RAM_SAVE_FLAG_ZERO; its
 * buffer_is_zero test is our isZero kernel). Round 0 of a guest that is a quarter zero pages sends
 * a quarter fewer bytes.
 */
import type { Kernels } from '../kernel/types.js';
import { CODEC_IDS, CodecError, type CodecStats, type PageCodec } from './codec.js';

/** Whether every byte of a page is zero. */
export type ZeroTest = (page: Uint8Array) => boolean;

/** A wasm memory and kernels instantiated over it. */
export interface KernelBinding {
  memory: WebAssembly.Memory;
  kernels: Kernels;
}

/**
 * The plain TypeScript zero test: 32-bit words where the view is aligned to 4, bytes elsewhere.
 * The fallback for pages that lie in no memory with kernels.
 */
export function isZeroBytes(page: Uint8Array): boolean {
  let i = 0;
  const end = page.length;
  for (; i < end && (page.byteOffset + i) % 4 !== 0; i++) if (page[i] !== 0) return false;
  const words = (end - i) >>> 2;
  if (words > 0) {
    const w = new Int32Array(page.buffer, page.byteOffset + i, words);
    for (let k = 0; k < words; k++) if (w[k] !== 0) return false;
    i += words * 4;
  }
  for (; i < end; i++) if (page[i] !== 0) return false;
  return true;
}

/**
 * A zero test that runs the isZero kernel in place on pages that are views into one of the bound
 * memories (a view's byteOffset is its pointer there), and isZeroBytes on any other page. Memories
 * are allocated at full size up front, so `memory.buffer` stays the same object for their life.
 */
export function zeroTestInMemories(bindings: readonly KernelBinding[]): ZeroTest {
  if (bindings.length === 1) {
    const buffer = bindings[0].memory.buffer;
    const kernels = bindings[0].kernels;
    return (page) => (page.buffer === buffer ? kernels.isZero(page.byteOffset, page.length) === 1 : isZeroBytes(page));
  }
  const byBuffer = new Map<ArrayBufferLike, Kernels>(bindings.map((b) => [b.memory.buffer, b.kernels]));
  return (page) => {
    const kernels = byBuffer.get(page.buffer);
    return kernels !== undefined ? kernels.isZero(page.byteOffset, page.length) === 1 : isZeroBytes(page);
  };
}

export class ZeroCodec implements PageCodec {
  readonly name = 'zero' as const;
  readonly id = CODEC_IDS.zero;
  private readonly counts: CodecStats = { pages: 0, bytesIn: 0, bytesOut: 0, encodeMs: 0 };

  /** `isZero` defaults to the plain TypeScript test; pass zeroTestInMemories(...) for the kernel. */
  constructor(private readonly isZero: ZeroTest = isZeroBytes) {}

  encode(page: Uint8Array, _pageNumber: number, _out: Uint8Array): number {
    const t0 = performance.now();
    const zero = this.isZero(page);
    if (zero) {
      this.counts.pages++;
      this.counts.bytesIn += page.length;
    }
    this.counts.encodeMs += performance.now() - t0;
    return zero ? 0 : -1;
  }

  decode(encoded: Uint8Array, pageNumber: number, target: Uint8Array): void {
    if (encoded.length !== 0) throw new CodecError(`zero page ${pageNumber} carries ${encoded.length} bytes, not 0`);
    target.fill(0);
  }

  stats(): CodecStats {
    return { ...this.counts };
  }
}
