/**
 * Bench-side memory: one shared wasm memory per benchmark group, carved into named regions by a
 * bump allocator (the kernels allocate nothing; the caller hands them pointers). Regions start
 * above RESERVED_LOW_BYTES and are 64-byte aligned, as in the driver's layout.
 */
import { RESERVED_LOW_BYTES } from '../../src/kernel/types.js';

const WASM_PAGE_BYTES = 65536;
const align = (n: number, to: number): number => Math.ceil(n / to) * to;

export class Arena {
  private next = RESERVED_LOW_BYTES;
  readonly regions: { name: string; ptr: number; bytes: number }[] = [];

  /** Reserves `bytes` for `name`; returns its byte offset. */
  reserve(name: string, bytes: number): number {
    const ptr = align(this.next, 64);
    this.next = ptr + bytes;
    this.regions.push({ name, ptr, bytes });
    return ptr;
  }

  /** A shared memory holding every region reserved so far; it never grows. */
  createMemory(): WebAssembly.Memory {
    const pages = align(this.next, WASM_PAGE_BYTES) / WASM_PAGE_BYTES;
    if (pages > 65536) throw new RangeError(`bench regions need ${this.next} bytes, over the 4 GiB of a wasm32 memory`);
    return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  }
}

/**
 * Writes every page of a region: untouched memory reads as the kernel's shared zero page, which
 * sits in cache and would make any read benchmark of it meaningless. Writing non-zero first makes
 * sure no layer skips a store of zeros.
 */
export function faultIn(bytes: Uint8Array, value = 0): void {
  bytes.fill(0xa5);
  bytes.fill(value);
}
