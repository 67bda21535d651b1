/**
 * How guest memory is laid out in wasm linear memories. A wasm32 memory ends at 4 GiB, so guest
 * RAM is split into slots (like KVM memslots) of at most MAX_SLOT_PAGE_BYTES of pages; each slot is
 * one shared WebAssembly.Memory holding, in order:
 *   [reserved low bytes][pages][dirty bitmap][summary bitmap][page list][page hashes][touched map][frame buffers]
 * A procedural memory (src/memory/procedural.ts) holds no pages: its slots keep a few pages of
 * scratch where pages are generated, and no page hashes or touched map; the rest is the same, so
 * both kinds of memory go through the same kernels, lists and frames. Such a slot is some 10 MiB,
 * so several share one wasm memory, one after the other (SlotLayout.memory, startBytes): V8
 * reserves some 10 GiB of address space for each wasm memory and a process has about 1 TiB of it,
 * so a memory per slot would stop near a 100 GiB guest (source and target).
 * The layout is plain data so it can cross to worker threads beside the memory itself.
 */
import { RESERVED_LOW_BYTES, DESCRIPTOR_BYTES } from '../kernel/types.js';

/** Pages of one slot stay within 2 GiB, so a Uint8Array can view them and bitmap + scratch fit. */
export const MAX_SLOT_PAGE_BYTES = 2 * 1024 * 1024 * 1024;
/** Frame header size, bytes (src/wire/frame.ts). */
export const FRAME_HEADER_BYTES = 32;
/** Pages packed into one frame at most; 256 x 4 KiB = 1 MiB of page data. */
export const DEFAULT_PAGES_PER_FRAME = 256;
/** Page data of one frame at most: 256 pages up to 64 KiB pages, fewer past them (2 MiB pages: 8). */
export const MAX_FRAME_PAGE_BYTES = 16 * 1024 * 1024;

/**
 * Pages a frame packs at most for a page size. 256 x 2 MiB pages would make 512 MiB frames, 8 of
 * which would not fit a wasm32 memory beside the pages.
 */
export function pagesPerFrameFor(pageSizeBytes: number): number {
  return Math.max(1, Math.min(DEFAULT_PAGES_PER_FRAME, Math.floor(MAX_FRAME_PAGE_BYTES / pageSizeBytes)));
}
/** Frame buffers per slot: how many frames may be in flight between driver and channel. */
export const DEFAULT_FRAME_BUFFERS = 8;
const WASM_PAGE_BYTES = 65536;

export interface SlotLayout {
  index: number;
  /** Where the slot's pages are: in this memory at pagesPtr, or procedural (pagesPtr is a scratch of SCRATCH_PAGES pages). */
  pages: 'memory' | 'procedural';
  /** Global number of the slot's first guest page. */
  firstPage: number;
  pageCount: number;
  pageSizeBytes: number;
  pagesPtr: number;
  bitmapPtr: number;
  bitmapWords: number;
  /** Two-level tracking: one bit per bitmap word, in u64 words. */
  summaryPtr: number;
  summaryWords: number;
  /** Room for one u32 per bit of the bitmap (bitmapWords * 64): scan output. */
  listPtr: number;
  /** One u64 XXH64 per page, of its bytes when last sent: the resend meter. */
  hashesPtr: number;
  /**
   * One byte per page, set by a vCPU's write (any run, any clock, post-copy's mirror too): the page
   * may differ from its initial content, so set-up rewrites it when the memory is reused.
   */
  touchedPtr: number;
  framesPtr: number;
  frameBytes: number;
  /**
   * Procedural slots: for each frame buffer, the state (src/memory/procedural.ts) of each page
   * packed into it, pagesPerFrame u32 a buffer, beside the frame, not on the wire: the receiver
   * checks each page's bytes against its state and keeps the state. Empty for pages in memory.
   */
  statesPtr: number;
  frameBuffers: number;
  pagesPerFrame: number;
  /** Which of the guest's memories (GuestLayout.memoryBytes) the slot lies in. */
  memory: number;
  /** Where the slot's part of that memory starts and ends, multiples of 64 KiB; every pointer is within. */
  startBytes: number;
  endBytes: number;
}

export interface GuestLayout {
  ramBytes: number;
  pageSizeBytes: number;
  pageCount: number;
  /** Pages per slot for every slot but possibly the last. */
  pagesPerSlot: number;
  slots: SlotLayout[];
  /** The bytes of each wasm memory the slots lie in, multiples of 64 KiB: one per slot when pages are in them. */
  memoryBytes: number[];
}

const align = (n: number, to: number): number => Math.ceil(n / to) * to;

export function frameBytesFor(pageSizeBytes: number, pagesPerFrame: number): number {
  return align(FRAME_HEADER_BYTES + pagesPerFrame * (DESCRIPTOR_BYTES + pageSizeBytes), 64);
}

/**
 * Where the target's page area starts, past the source's. V8 places wasm memories a multiple of
 * 256 MiB apart, and on the machine this was built on a copy between two addresses equal modulo
 * 256 MiB (to within 4 KiB) runs at half speed: 5-6 GB/s against 12-16 GB/s 64 KiB off (the same
 * copy, same memories). Every page copied from source to target (round 0 above all) would pay it.
 */
export const TARGET_PAGES_OFFSET_BYTES = 64 * 1024;

/** Pages of scratch a procedural slot keeps where its pages are generated (a codec's, a check's two). */
export const SCRATCH_PAGES = 4;

/** The most bytes of procedural slots one wasm memory holds (a wasm32 memory ends at 4 GiB). */
export const MAX_SHARED_MEMORY_BYTES = 3 * 1024 * 1024 * 1024;

/**
 * `pagesOffsetBytes` (a multiple of 64) moves the page area, and all after it, that far up.
 * `procedural`: the slots hold no pages (src/memory/procedural.ts).
 */
export function planGuestLayout(
  ramBytes: number,
  pageSizeBytes: number,
  pagesPerFrame = pagesPerFrameFor(pageSizeBytes),
  frameBuffers = DEFAULT_FRAME_BUFFERS,
  pagesOffsetBytes = 0,
  procedural = false,
): GuestLayout {
  if (ramBytes % pageSizeBytes !== 0) throw new RangeError('RAM must be a whole number of pages');
  const pageCount = ramBytes / pageSizeBytes;
  // Whole bitmap words per slot, so no two slots share a word.
  const pagesPerSlot = Math.floor(MAX_SLOT_PAGE_BYTES / pageSizeBytes / 64) * 64;
  const slots: SlotLayout[] = [];
  const memoryBytes: number[] = [];
  for (let firstPage = 0, index = 0; firstPage < pageCount; firstPage += pagesPerSlot, index++) {
    const count = Math.min(pagesPerSlot, pageCount - firstPage);
    // Where the slot starts: a memory of its own, or (procedural) after the last slot in the last
    // memory when it fits there. Every slot keeps its reserved low bytes, so all are laid out alike.
    const slotBytes = proceduralSlotBytes(count, pageSizeBytes, pagesPerFrame, frameBuffers, pagesOffsetBytes);
    const shares =
      procedural &&
      memoryBytes.length > 0 &&
      memoryBytes[memoryBytes.length - 1] + slotBytes <= MAX_SHARED_MEMORY_BYTES;
    if (!shares) memoryBytes.push(0);
    const memory = memoryBytes.length - 1;
    const base = memoryBytes[memory];
    const pagesPtr = base + RESERVED_LOW_BYTES + pagesOffsetBytes;
    const bitmapWords = Math.ceil(count / 64);
    const pageArea = procedural ? SCRATCH_PAGES : count;
    const bitmapPtr = align(pagesPtr + pageArea * pageSizeBytes, 64);
    const summaryPtr = align(bitmapPtr + bitmapWords * 8, 64);
    const summaryWords = Math.ceil(bitmapWords / 64);
    const listPtr = align(summaryPtr + summaryWords * 8, 64);
    const hashesPtr = align(listPtr + bitmapWords * 64 * 4, 64);
    const touchedPtr = align(hashesPtr + (procedural ? 0 : count * 8), 64);
    const statesPtr = align(touchedPtr + (procedural ? 0 : count), 64);
    const framesPtr = align(statesPtr + (procedural ? frameBuffers * pagesPerFrame * 4 : 0), 64);
    const frameBytes = frameBytesFor(pageSizeBytes, pagesPerFrame);
    const endBytes = align(framesPtr + frameBuffers * frameBytes, WASM_PAGE_BYTES);
    if (endBytes > 4 * 1024 * 1024 * 1024) throw new RangeError('slot does not fit in a wasm32 memory');
    if (procedural && endBytes - base !== slotBytes) throw new Error('procedural slot size mismatch');
    memoryBytes[memory] = endBytes;
    slots.push({
      index,
      pages: procedural ? 'procedural' : 'memory',
      firstPage,
      pageCount: count,
      pageSizeBytes,
      pagesPtr,
      bitmapPtr,
      bitmapWords,
      summaryPtr,
      summaryWords,
      listPtr,
      hashesPtr,
      touchedPtr,
      framesPtr,
      frameBytes,
      statesPtr,
      frameBuffers,
      pagesPerFrame,
      memory,
      startBytes: base,
      endBytes,
    });
  }
  return { ramBytes, pageSizeBytes, pageCount, pagesPerSlot, slots, memoryBytes };
}

/** The bytes of a procedural slot of `count` pages, from its start (a multiple of 64 KiB) to its end. */
function proceduralSlotBytes(
  count: number,
  pageSizeBytes: number,
  pagesPerFrame: number,
  frameBuffers: number,
  pagesOffsetBytes: number,
): number {
  const bitmapWords = Math.ceil(count / 64);
  let at = RESERVED_LOW_BYTES + pagesOffsetBytes + SCRATCH_PAGES * pageSizeBytes;
  at = align(at, 64) + bitmapWords * 8; // bitmap
  at = align(at, 64) + Math.ceil(bitmapWords / 64) * 8; // summary
  at = align(at, 64) + bitmapWords * 64 * 4; // list
  at = align(align(align(at, 64), 64), 64) + frameBuffers * pagesPerFrame * 4; // no hashes or touched map; states
  return align(align(at, 64) + frameBuffers * frameBytesFor(pageSizeBytes, pagesPerFrame), WASM_PAGE_BYTES);
}

/** A new wasm memory of `bytes` (a multiple of 64 KiB). */
export function createSlotMemory(bytes: number): WebAssembly.Memory {
  const pages = bytes / WASM_PAGE_BYTES;
  // initial = maximum: the memory never grows, so no thread ever has to re-read `buffer`.
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}

/** A slot as a worker sees it: the shared memory and where things are in it. */
export interface SlotHandle {
  memory: WebAssembly.Memory;
  layout: SlotLayout;
}

/** The guest's shape as vCPU and receiving threads are given it. */
export interface GuestShape {
  pageCount: number;
  pagesPerSlot: number;
  pageSizeBytes: number;
}
