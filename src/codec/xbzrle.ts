/**
 * The XBZRLE codec, as QEMU's save_xbzrle_page (migration/ram.c) uses it: a page found in the
 * sender's cache travels as its delta from the cached version, when that is shorter than the page.
 *
 * The codec owns a private shared wasm memory, with its own kernels over it:
 *   [reserved low bytes][cache slots][encode output][decode input][decode target]
 * A page to encode is a view into the guest's memory (another memory), so it is copied into the
 * cache's spare slot with one TypedArray.set, encoded there against the cached version, and the
 * spare slot then becomes the entry's bytes (a swap of slot indexes, not a copy). The receiver
 * needs no cache: its target page holds the previous version. Where the delta and the page lie in
 * a memory it has kernels for (decodeInPlace), it decodes there; otherwise it copies both into its
 * own memory, decodes, and copies back the bytes up to the last one written, only on success.
 */
import { instantiateKernels, loadKernelModuleSync } from '../kernel/loader.js';
import { RESERVED_LOW_BYTES, type Kernels } from '../kernel/types.js';
import { CODEC_IDS, CodecError, type CodecPhase, type CodecStats, type PageCodec } from './codec.js';
import { XbzrleCache } from './xbzrle-cache.js';
import type { KernelBinding } from './zero.js';

export interface XbzrleCodecOptions {
  pageSizeBytes: number;
  /** Cache capacity, bytes (floor(cacheBytes / pageSizeBytes) pages); 0 for a decode-only codec. */
  cacheBytes: number;
  /**
   * Instantiates kernels over the codec's memory; default: the wasm kernels, the module compiled
   * once per thread. Tests and benchmarks pass the TypeScript reference here.
   */
  bindKernels?: (memory: WebAssembly.Memory) => Kernels;
  /**
   * Memories with kernels of their own where decode() may run in place: when the delta and the
   * target page both lie in one of them (a receiver's slot holds its frame buffers and its pages),
   * the kernel reads and writes them there instead of through copies into the codec's memory.
   */
  decodeInPlace?: readonly KernelBinding[];
}

const WASM_PAGE_BYTES = 65536;
const MAX_MEMORY_BYTES = 65536 * WASM_PAGE_BYTES;

let threadModule: WebAssembly.Module | undefined;

function wasmKernels(memory: WebAssembly.Memory): Kernels {
  threadModule ??= loadKernelModuleSync();
  return instantiateKernels(threadModule, memory);
}

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** Why the decode kernel refused a delta, by its return code. */
const DECODE_ERRORS: Record<number, string> = {
  [-1]: 'the delta ends inside a length or a run, or a length is longer than 5 bytes',
  [-2]: 'a run reaches past the end of the page',
  [-3]: 'an empty run, or a zero run with nothing after it',
};

export class XbzrleCodec implements PageCodec {
  readonly name = 'xbzrle' as const;
  readonly id = CODEC_IDS.xbzrle;
  readonly pageSizeBytes: number;
  readonly cache: XbzrleCache;
  private readonly kernels: Kernels;
  private readonly bytes: Uint8Array;
  private readonly outPtr: number;
  private readonly inPtr: number;
  private readonly targetPtr: number;
  /** Longest valid delta of a page; a longer one is malformed. */
  private readonly maxDeltaBytes: number;
  private readonly inPlace: Map<ArrayBufferLike, Kernels>;
  private readonly counts: Required<CodecStats> = {
    pages: 0,
    bytesIn: 0,
    bytesOut: 0,
    encodeMs: 0,
    cacheHits: 0,
    cacheMisses: 0,
    overflows: 0,
  };
  /** QEMU's rules, when the pre-copy loop gives the phase (see phase()). */
  private qemu: CodecPhase | null = null;
  /** The page number and array of the last encode(): its cache entry already holds those bytes. */
  private lastPageNumber = -1;
  private lastPage: Uint8Array | null = null;

  constructor(options: XbzrleCodecOptions) {
    const { pageSizeBytes, cacheBytes } = options;
    if (!Number.isInteger(pageSizeBytes) || pageSizeBytes <= 0)
      throw new RangeError(`page size must be a positive whole number of bytes, got ${pageSizeBytes}`);
    if (!Number.isInteger(cacheBytes) || cacheBytes < 0)
      throw new RangeError(`xbzrle cache must be a whole number of bytes >= 0, got ${cacheBytes}`);
    this.pageSizeBytes = pageSizeBytes;
    // A ULEB128 length v >= 1 takes at most v bytes and only the first zero run may be 0, so a
    // valid delta has at most 1 + (zero-run bytes) + 2 x (non-zero-run bytes) <= 1 + 2 x page bytes.
    this.maxDeltaBytes = 1 + 2 * pageSizeBytes;
    const cacheRegion = XbzrleCache.regionBytes(cacheBytes, pageSizeBytes);
    const cachePtr = RESERVED_LOW_BYTES;
    this.outPtr = align16(cachePtr + cacheRegion);
    this.inPtr = align16(this.outPtr + pageSizeBytes);
    this.targetPtr = align16(this.inPtr + this.maxDeltaBytes);
    const memoryBytes = Math.ceil((this.targetPtr + pageSizeBytes) / WASM_PAGE_BYTES) * WASM_PAGE_BYTES;
    if (memoryBytes > MAX_MEMORY_BYTES) {
      throw new RangeError(
        `xbzrle cache of ${cacheBytes} bytes does not fit a 4 GiB wasm memory with its scratch space`,
      );
    }
    // Pages of a shared memory commit on first touch: an unused cache costs address space only.
    const pages = memoryBytes / WASM_PAGE_BYTES;
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    this.kernels = (options.bindKernels ?? wasmKernels)(memory);
    this.bytes = new Uint8Array(memory.buffer);
    this.cache = new XbzrleCache(this.bytes, cachePtr, pageSizeBytes, cacheBytes);
    this.inPlace = new Map((options.decodeInPlace ?? []).map((b) => [b.memory.buffer, b.kernels]));
  }

  /**
   * From now on, QEMU's rules (save_xbzrle_page, ram.c): nothing is encoded or cached until the
   * scan has wrapped once; a miss inserts under the cache's lifetime rule, and not in the last
   * stage, where a hit does not update its entry either; entries age by sync generation.
   */
  phase(phase: CodecPhase): void {
    this.qemu = { ...phase };
  }

  /**
   * On a cache hit: the delta, if shorter than the page and within `out` (0 for an unchanged
   * page); else -1 (an overflow). On a miss: caches the page (see phase()) and returns -1. Either
   * way the cache ends holding `page`'s bytes, unless QEMU's rules say otherwise; the caller must
   * send the page unchanged by some codec when this returns -1 (see sent()).
   */
  encode(page: Uint8Array, pageNumber: number, out: Uint8Array): number {
    const qemu = this.qemu;
    if (qemu !== null && !qemu.started) return -1;
    const t0 = performance.now();
    const size = this.pageSizeBytes;
    if (page.length !== size)
      throw new RangeError(`page of ${page.length} bytes to an xbzrle codec of ${size}-byte pages`);
    this.lastPageNumber = pageNumber;
    this.lastPage = page;
    const oldPtr = this.cache.lookup(pageNumber, qemu?.generation);
    let result = -1;
    if (oldPtr < 0) {
      this.counts.cacheMisses++;
      if (qemu === null) this.cache.insert(pageNumber, page);
      else if (!qemu.lastStage) this.cache.insert(pageNumber, page, qemu.generation);
    } else {
      this.counts.cacheHits++;
      const newPtr = this.cache.sparePtr();
      this.bytes.set(page, newPtr);
      // Shorter than the page only: a delta as long as the page saves nothing.
      const capBytes = Math.min(out.length, size - 1);
      result = this.kernels.xbzrleEncode(oldPtr, newPtr, size, this.outPtr, capBytes);
      // The last stage leaves the cache as it was: nothing is sent after it.
      if (qemu === null || !qemu.lastStage) this.cache.commitSpare(pageNumber);
      if (result < 0) {
        this.counts.overflows++;
      } else {
        out.set(this.bytes.subarray(this.outPtr, this.outPtr + result));
        this.counts.pages++;
        this.counts.bytesIn += size;
        this.counts.bytesOut += result;
      }
    }
    this.counts.encodeMs += performance.now() - t0;
    return result;
  }

  /**
   * Keeps the cache in step with the target: a cached page sent by another codec gets the bytes
   * the target now holds. A page encode() was just given (this same array) needs nothing more:
   * encode() cached it, or by QEMU's rules did not. Under QEMU's rules (phase()) a page another codec sent (the zero codec: QEMU's
   * xbzrle_cache_zero_page) is inserted, under the lifetime rule, once the cache has started.
   */
  sent(page: Uint8Array, pageNumber: number): void {
    const same = pageNumber === this.lastPageNumber && page === this.lastPage;
    this.lastPage = null;
    this.lastPageNumber = -1;
    if (same) return;
    const qemu = this.qemu;
    if (qemu === null) this.cache.updateIfCached(pageNumber, page);
    else if (qemu.started && !qemu.lastStage) this.cache.insert(pageNumber, page, qemu.generation);
  }

  decode(encoded: Uint8Array, pageNumber: number, target: Uint8Array): void {
    const size = this.pageSizeBytes;
    if (target.length !== size)
      throw new RangeError(`target of ${target.length} bytes to an xbzrle codec of ${size}-byte pages`);
    if (encoded.length > this.maxDeltaBytes) {
      throw new CodecError(
        `xbzrle page ${pageNumber}: a delta of ${encoded.length} bytes is longer than any of a ${size}-byte page`,
      );
    }
    const local = encoded.buffer === target.buffer ? this.inPlace.get(target.buffer) : undefined;
    const apart =
      encoded.byteOffset + encoded.length <= target.byteOffset || target.byteOffset + size <= encoded.byteOffset;
    if (local !== undefined && apart) {
      // The kernel validates the whole delta before it writes: a malformed one leaves the page.
      const r = local.xbzrleDecode(encoded.byteOffset, encoded.length, target.byteOffset, size);
      if (r < 0) throw new CodecError(`xbzrle page ${pageNumber}: ${DECODE_ERRORS[r] ?? `error ${r}`}`);
      return;
    }
    this.bytes.set(encoded, this.inPtr);
    this.bytes.set(target, this.targetPtr);
    const r = this.kernels.xbzrleDecode(this.inPtr, encoded.length, this.targetPtr, size);
    if (r < 0) throw new CodecError(`xbzrle page ${pageNumber}: ${DECODE_ERRORS[r] ?? `error ${r}`}`);
    // Bytes past the last run are as they were: copy back only up to it.
    target.set(this.bytes.subarray(this.targetPtr, this.targetPtr + r));
  }

  stats(): CodecStats {
    return { ...this.counts };
  }
}
