/**
 * The LZ4 codec (QEMU's multifd compression offers zlib, zstd and qpl; LZ4 is the fast general
 * compressor of the field), by lz4-wasm-nodejs: an LZ4 block with the uncompressed size prepended
 * as 4 bytes, little-endian, which is also the encoded form here. The library takes views of
 * shared memory but returns a new array in both directions, so each way costs one copy more than
 * a native binding would.
 */
import { compress, decompress } from 'lz4-wasm-nodejs';
import { CODEC_IDS, CodecError, type CodecStats, type PageCodec } from './codec.js';

/** Bytes of the size prefix. */
const SIZE_BYTES = 4;

export class Lz4Codec implements PageCodec {
  readonly name = 'lz4' as const;
  readonly id = CODEC_IDS.lz4;
  private readonly counts: CodecStats = { pages: 0, bytesIn: 0, bytesOut: 0, encodeMs: 0 };

  /** Takes the page when its block (prefix included) is shorter than the page and fits `out`. */
  encode(page: Uint8Array, _pageNumber: number, out: Uint8Array): number {
    const t0 = performance.now();
    const block = compress(page);
    const taken = block.length < page.length && block.length <= out.length;
    if (taken) {
      out.set(block);
      this.counts.pages++;
      this.counts.bytesIn += page.length;
      this.counts.bytesOut += block.length;
    }
    this.counts.encodeMs += performance.now() - t0;
    return taken ? block.length : -1;
  }

  decode(encoded: Uint8Array, pageNumber: number, target: Uint8Array): void {
    if (encoded.length < SIZE_BYTES)
      throw new CodecError(`lz4 page ${pageNumber}: ${encoded.length} bytes, shorter than the size prefix`);
    const size = (encoded[0] | (encoded[1] << 8) | (encoded[2] << 16) | (encoded[3] << 24)) >>> 0;
    // Checked before decompressing: the library allocates what the prefix says.
    if (size !== target.length)
      throw new CodecError(`lz4 page ${pageNumber}: size prefix ${size}, page is ${target.length} bytes`);
    let page: Uint8Array;
    try {
      page = decompress(encoded);
    } catch (error) {
      // The library throws strings (Rust error messages), not Errors.
      throw new CodecError(`lz4 page ${pageNumber}: ${String(error)}`, { cause: error });
    }
    if (page.length !== target.length)
      throw new CodecError(`lz4 page ${pageNumber}: decoded ${page.length} bytes, page is ${target.length}`);
    target.set(page);
  }

  stats(): CodecStats {
    return { ...this.counts };
  }
}
