/**
 * Page codecs: how one guest page travels in a frame. A run combines them in order (`--codec
 * zero,xbzrle,lz4`): each page goes to the first codec that takes it, and raw carries the rest.
 * A codec lives on one thread; one with state (xbzrle's cache) sees only the pages of that thread.
 *
 * Frame body layout (see src/kernel/types.ts): 8-byte descriptors (u32 global page number,
 * u32 codecId << 24 | encodedLengthBytes), then the encoded pages in descriptor order.
 */
import type { CodecResult } from '../result/schema.js';

/** Codec ids in descriptors, by the built-in codecs' names. Never renumber: they are part of the wire format. */
export const CODEC_IDS = { raw: 0, zero: 1, xbzrle: 2, lz4: 3, deflate: 4 } as const;

/** The built-in codecs, and `user`: a codec from the user's file (RunConfig.userCodecs, in order). */
export type CodecName = keyof typeof CODEC_IDS | 'user';
/** The first user codec's id; the n-th of a chain is this + n. */
export const USER_CODEC_BASE_ID = 16;
/** User codecs a chain may hold. */
export const MAX_USER_CODECS = 8;

/**
 * Where a migration stands, for codecs that follow QEMU's rules where it has them (xbzrle: when
 * the cache starts, which entries are fresh, no inserts in the last stage). The qemu pre-copy
 * loop gives it with every frame; without it a codec applies its own, round-less rules.
 */
export interface CodecPhase {
  /** QEMU's dirty-sync-count: syncs so far, the set-up sync included (the cache's generation). */
  generation: number;
  /** The scan cursor has wrapped once: xbzrle is on (QEMU's xbzrle_started). */
  started: boolean;
  /** The guest is stopped: the last stage sends what remains (QEMU's last_stage). */
  lastStage: boolean;
}

/** A codec's own statistics: the result schema's CodecResult (src/result/schema.ts). */
export type CodecStats = CodecResult;

export interface PageCodec {
  /** A built-in codec's name, or the name a user codec gives itself. */
  readonly name: string;
  readonly id: number;
  /**
   * Encodes one page (`page.length` = page size) into `out`; returns the bytes written, or -1 when
   * this codec does not take the page (then the next codec, or raw, does). Never writes past
   * `out.length`.
   */
  encode(page: Uint8Array, pageNumber: number, out: Uint8Array): number;
  /** The phase the next pages are sent in (see CodecPhase); a codec without phase rules has none. */
  phase?(phase: CodecPhase): void;
  /**
   * Called for every page the chain sent, whichever codec took it, with the bytes the target now
   * holds for it; a stateful codec (xbzrle) keeps its state in step with the target here.
   */
  sent?(page: Uint8Array, pageNumber: number): void;
  /**
   * Decodes into `target`, the page in target memory (which still holds the version sent before,
   * as xbzrle needs). Input is untrusted: on malformed input it throws CodecError and leaves
   * `target` unchanged; it never writes outside `target`.
   */
  decode(encoded: Uint8Array, pageNumber: number, target: Uint8Array): void;
  stats(): CodecStats;
}

export class CodecError extends Error {}
