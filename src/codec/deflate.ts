/**
 * The deflate codec: raw deflate (RFC 1951, no zlib header) by node:zlib, as QEMU's zlib
 * compression does per page (its multifd zlib keeps one stream per channel; Node's sync API starts
 * a fresh stream for every call, a fixed cost that dominates at 4 KiB pages).
 */
import { deflateRawSync, inflateRawSync, type ZlibOptions } from 'node:zlib';
import { CODEC_IDS, CodecError, type CodecStats, type PageCodec } from './codec.js';

/** Default compression level: the fastest, as migration wants. */
export const DEFAULT_DEFLATE_LEVEL = 1;

/** inflateRawSync with `info: true` returns the engine too (documented; not in the typings). */
interface InflateInfo {
  buffer: Buffer;
  engine: { bytesWritten: number };
}

export class DeflateCodec implements PageCodec {
  readonly name = 'deflate' as const;
  readonly id = CODEC_IDS.deflate;
  private readonly counts: CodecStats = { pages: 0, bytesIn: 0, bytesOut: 0, encodeMs: 0 };
  private readonly level: number;

  /** `level` 0 (store) to 9 (best); default 1. */
  constructor(level: number = DEFAULT_DEFLATE_LEVEL) {
    if (!Number.isInteger(level) || level < 0 || level > 9)
      throw new RangeError(`deflate level must be an integer from 0 to 9, got ${level}`);
    this.level = level;
  }

  /** Takes the page when its stream is shorter than the page and fits `out`. */
  encode(page: Uint8Array, _pageNumber: number, out: Uint8Array): number {
    const t0 = performance.now();
    const stream = deflateRawSync(page, { level: this.level });
    const taken = stream.length < page.length && stream.length <= out.length;
    if (taken) {
      out.set(stream);
      this.counts.pages++;
      this.counts.bytesIn += page.length;
      this.counts.bytesOut += stream.length;
    }
    this.counts.encodeMs += performance.now() - t0;
    return taken ? stream.length : -1;
  }

  decode(encoded: Uint8Array, pageNumber: number, target: Uint8Array): void {
    let result: InflateInfo;
    try {
      // maxOutputLength: a stream that inflates past the page fails instead of ballooning.
      const options: ZlibOptions & { info: true } = { maxOutputLength: Math.max(1, target.length), info: true };
      result = inflateRawSync(encoded, options) as unknown as InflateInfo;
    } catch (error) {
      throw new CodecError(`deflate page ${pageNumber}: ${(error as Error).message}`, { cause: error });
    }
    if (result.buffer.length !== target.length) {
      throw new CodecError(
        `deflate page ${pageNumber}: inflated ${result.buffer.length} bytes, page is ${target.length}`,
      );
    }
    if (result.engine.bytesWritten !== encoded.length) {
      throw new CodecError(
        `deflate page ${pageNumber}: ${encoded.length - result.engine.bytesWritten} bytes after the end of the stream`,
      );
    }
    target.set(result.buffer);
  }

  stats(): CodecStats {
    return { ...this.counts };
  }
}
