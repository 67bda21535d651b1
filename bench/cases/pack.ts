/**
 * Pack and unpack of 25 % of a 1 GiB guest: 65,536 distinct random pages of 4 KiB (ascending, as a
 * scan lists them) out of 262,144, in 256 frames of 256 pages as the driver sends them. Frames go
 * one after another into a 257 MiB frame area (not the driver's 8 reused buffers, which would keep
 * them in cache), so pack and unpack both move 256 MiB between cold memory, like memcpy does here.
 * Each frame body starts after the 32-byte frame header, as in the driver.
 *
 * memcpy reference: the same 256 MiB, 1 MiB (one frame's page bytes) per `TypedArray.prototype.set`,
 * from a contiguous 256 MiB of guest memory into the frames' page areas (and back for unpack).
 * What pack and unpack add to it: the random gather or scatter of 4 KiB pages, the descriptors, and
 * unpack's validation of every descriptor. A second, diagnostic case runs the same kernels over
 * the first 65,536 pages of the guest, contiguous: the difference between the two is the cost of
 * the access pattern, not of the kernel. GB/s counts page bytes (descriptors not included).
 */
import type { Kernels } from '../../src/kernel/types.js';
import { DESCRIPTOR_BYTES } from '../../src/kernel/types.js';
import { FRAME_HEADER_BYTES, frameBytesFor } from '../../src/memory/layout.js';
import { Xorshift128 } from '../../src/util/prng.js';
import { type Arena, faultIn } from '../lib/arena.js';
import type { CaseSpec, TaskSpec } from '../lib/tinybench.js';
import { GiB, MiB } from '../lib/units.js';

export const PACK_GROUP = 'pack';
export const UNPACK_GROUP = 'unpack';
export const PACK_VARIANT = '65,536 random 4 KiB pages = 25 % of a 1 GiB guest, frames of 256';
export const PACK_CONTIGUOUS_VARIANT = 'diagnostic: the first 65,536 pages, contiguous, frames of 256';
const PAGE_BYTES = 4096;
const GUEST_PAGES = GiB / PAGE_BYTES;
const LIST_PAGES = GUEST_PAGES / 4;
const PAGES_PER_FRAME = 256;
const FRAMES = LIST_PAGES / PAGES_PER_FRAME;
const FRAME_BYTES = frameBytesFor(PAGE_BYTES, PAGES_PER_FRAME);
const BODY_CAP_BYTES = FRAME_BYTES - FRAME_HEADER_BYTES;
const BODY_BYTES = PAGES_PER_FRAME * (DESCRIPTOR_BYTES + PAGE_BYTES);
const DATA_BYTES = LIST_PAGES * PAGE_BYTES;

interface ListRegions {
  listPtr: number;
  framesPtr: number;
}

export interface PackSetup {
  pagesPtr: number;
  random: ListRegions;
  contiguous: ListRegions;
}

export function reservePack(arena: Arena): PackSetup {
  const lists = (name: string): ListRegions => ({
    listPtr: arena.reserve(`${name} page list`, LIST_PAGES * 4),
    framesPtr: arena.reserve(`${name} frames`, FRAMES * FRAME_BYTES),
  });
  return {
    pagesPtr: arena.reserve('guest pages', GUEST_PAGES * PAGE_BYTES),
    random: lists('random'),
    contiguous: lists('contiguous'),
  };
}

/** LIST_PAGES distinct pages of the guest, chosen by a seeded partial Fisher-Yates, ascending. */
function randomPageList(seed: number): Uint32Array {
  const all = new Uint32Array(GUEST_PAGES);
  for (let i = 0; i < GUEST_PAGES; i++) all[i] = i;
  const rng = new Xorshift128(seed);
  for (let i = 0; i < LIST_PAGES; i++) {
    const j = i + rng.below(GUEST_PAGES - i);
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  return all.slice(0, LIST_PAGES).sort();
}

export function packCases(s: PackSetup, memory: WebAssembly.Memory, wasm: Kernels, ts: Kernels): CaseSpec[] {
  const u8 = new Uint8Array(memory.buffer);
  // Guest content: 1 MiB of seeded random bytes repeated (content does not change a copy's speed,
  // but every page must be really backed, not the shared zero page).
  const block = new Uint8Array(MiB);
  const rng = new Xorshift128(0xbac);
  const words = new Uint32Array(block.buffer);
  for (let i = 0; i < words.length; i++) words[i] = rng.nextU32();
  for (let at = 0; at < GiB; at += MiB) u8.set(block, s.pagesPtr + at);
  new Uint32Array(memory.buffer, s.random.listPtr, LIST_PAGES).set(randomPageList(0x9ac4));
  new Uint32Array(memory.buffer, s.contiguous.listPtr, LIST_PAGES).forEach((_, i, list) => {
    list[i] = i;
  });

  // memcpy's source: a contiguous 256 MiB of the guest (the first), 1 MiB at a time. Views made
  // once: a subarray per call would add allocation to the reference.
  const guestChunks: Uint8Array[] = [];
  for (let f = 0; f < FRAMES; f++) guestChunks.push(u8.subarray(s.pagesPtr + f * MiB, s.pagesPtr + (f + 1) * MiB));
  const memcpy = (from: Uint8Array[], to: Uint8Array[]) => (): void => {
    for (let f = 0; f < FRAMES; f++) to[f].set(from[f]);
    if (to[FRAMES - 1][MiB - 1] !== from[FRAMES - 1][MiB - 1]) throw new Error('memcpy reference did not copy');
  };

  const casesFor = (r: ListRegions, variant: string, withTs: boolean): CaseSpec[] => {
    faultIn(u8.subarray(r.framesPtr, r.framesPtr + FRAMES * FRAME_BYTES));
    const bodyPtr = (f: number): number => r.framesPtr + f * FRAME_BYTES + FRAME_HEADER_BYTES;
    const pack = (k: Kernels) => (): void => {
      let total = 0;
      for (let f = 0; f < FRAMES; f++) {
        total += k.packPages(
          s.pagesPtr,
          PAGE_BYTES,
          r.listPtr + f * PAGES_PER_FRAME * 4,
          PAGES_PER_FRAME,
          0,
          bodyPtr(f),
          BODY_CAP_BYTES,
        );
      }
      if (total !== FRAMES * BODY_BYTES) throw new Error(`pack wrote ${total} bytes, expected ${FRAMES * BODY_BYTES}`);
    };
    const unpack = (k: Kernels) => (): void => {
      let pages = 0;
      for (let f = 0; f < FRAMES; f++)
        pages += k.unpackPages(s.pagesPtr, PAGE_BYTES, GUEST_PAGES, 0, bodyPtr(f), BODY_BYTES, PAGES_PER_FRAME);
      if (pages !== LIST_PAGES) throw new Error(`unpack returned ${pages} pages, expected ${LIST_PAGES}`);
    };
    const frameChunks: Uint8Array[] = [];
    for (let f = 0; f < FRAMES; f++) {
      const data = bodyPtr(f) + PAGES_PER_FRAME * DESCRIPTOR_BYTES;
      frameChunks.push(u8.subarray(data, data + MiB));
    }
    // Unpack reads these frames: packed once here, so their descriptors are valid whatever runs
    // first. The memcpy tasks overwrite only page bytes, never descriptors.
    pack(wasm)();
    const tasks = (op: (k: Kernels) => () => void, copy: () => void): TaskSpec[] => [
      { implementation: 'wasm', fn: op(wasm) },
      ...(withTs ? [{ implementation: 'ts-reference' as const, fn: op(ts) }] : []),
      { implementation: 'memcpy', fn: copy },
    ];
    return [
      { group: PACK_GROUP, variant, bytesPerOp: DATA_BYTES, tasks: tasks(pack, memcpy(guestChunks, frameChunks)) },
      { group: UNPACK_GROUP, variant, bytesPerOp: DATA_BYTES, tasks: tasks(unpack, memcpy(frameChunks, guestChunks)) },
    ];
  };
  const random = casesFor(s.random, PACK_VARIANT, true);
  const contiguous = casesFor(s.contiguous, PACK_CONTIGUOUS_VARIANT, false);
  return [random[0], contiguous[0], random[1], contiguous[1]];
}
