/**
 * Page codecs from the user's files (`--codec zero,./my-codec.js`), in every thread that encodes or
 * decodes: the driver's, the encoder threads (--compress-threads) and the receiving thread. Each
 * thread imports the files once (preloadUserCodecs) before it builds its chain or its decoders;
 * then userCodec() makes a codec of a file synchronously, as the built-in ones are made.
 *
 * A codec file is an ES module whose default export is a factory of the options (--codec-opt) that
 * returns { name, encode(page, pageNumber, out), decode(encoded, pageNumber, target) }:
 * - encode gets the page (a Uint8Array of the page size, to read only) and `out`, room for one
 *   page; it writes its encoding into `out` and returns its length in bytes, or -1 to leave the page
 *   to the next codec of the chain (or raw). An encoding as long as the page or longer is not taken.
 * - decode gets those bytes and the target's page (which still holds what was sent for it before)
 *   and writes the page into it. Its input comes from the wire: on bytes it cannot decode it throws.
 * Codecs are placed in the chain where they are named and numbered 16, 17, ... in the frames. A
 * codec that does not round-trip is caught by the verification at the end: the run fails.
 */
import {
  buildStrategy,
  importFactory,
  StrategyError,
  type StrategyFactory,
  type StrategyShape,
  type UserStrategyConfig,
} from '../util/user-file.js';
import { CODEC_IDS, CodecError, USER_CODEC_BASE_ID, type CodecStats, type PageCodec } from './codec.js';

/** Each thread's imported codec factories, by file. */
const factories = new Map<string, StrategyFactory>();

export const CODEC_SHAPE: StrategyShape = {
  kind: 'codec',
  example:
    "export default (options) => ({ name: 'my-codec', encode(page, pageNumber, out) { return -1; }, decode(encoded, pageNumber, target) { } })",
  required: ['encode', 'decode'],
  name: { pattern: /^[A-Za-z][\w.-]{0,31}$/, form: '1 to 32 letters, digits, ., _ or -, from a letter' },
};

const BUILT_IN_NAMES: readonly string[] = Object.keys(CODEC_IDS);

/** Imports and checks the codec files of a configuration in this thread (once each); a bad one is a StrategyError. */
export async function preloadUserCodecs(specs: readonly UserStrategyConfig[]): Promise<void> {
  for (const spec of specs) {
    if (factories.has(spec.file)) continue;
    factories.set(spec.file, await importFactory(spec.file, CODEC_SHAPE));
    build(spec); // a factory that throws, or a codec without its members, is refused now
  }
}

function build(spec: UserStrategyConfig): Record<string, unknown> {
  const factory = factories.get(spec.file);
  if (factory === undefined)
    throw new Error(`codec file ${spec.file} was not loaded in this thread (preloadUserCodecs)`);
  const o = buildStrategy(factory, spec, CODEC_SHAPE);
  if (BUILT_IN_NAMES.includes(o.name as string))
    throw new StrategyError(`${spec.file}: the codec's name ${String(o.name)} is a built-in codec's; give it another`);
  return o;
}

/** The `index`-th user codec of a chain (its id USER_CODEC_BASE_ID + index), from its preloaded file. */
export function userCodec(spec: UserStrategyConfig, index: number): PageCodec {
  const o = build(spec);
  const encode = (o.encode as (p: Uint8Array, n: number, out: Uint8Array) => unknown).bind(o);
  const decode = (o.decode as (e: Uint8Array, n: number, t: Uint8Array) => unknown).bind(o);
  const stats: CodecStats = { pages: 0, bytesIn: 0, bytesOut: 0, encodeMs: 0 };
  return {
    name: o.name as string,
    id: USER_CODEC_BASE_ID + index,
    encode(page, pageNumber, out) {
      const t0 = performance.now();
      const n = encode(page, pageNumber, out);
      stats.encodeMs += performance.now() - t0;
      if (n === -1) return -1;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > out.length) {
        throw new CodecError(
          `the codec ${spec.file} encoded page ${pageNumber} as ${JSON.stringify(n)}: encode returns the bytes it wrote into out (0 to ${out.length}) or -1`,
        );
      }
      // Only what it shrinks: an encoding as long as the page goes raw.
      if (n >= page.length) return -1;
      stats.pages++;
      stats.bytesIn += page.length;
      stats.bytesOut += n;
      return n;
    },
    decode(encoded, pageNumber, target) {
      try {
        decode(encoded, pageNumber, target);
      } catch (e) {
        throw new CodecError(`the codec ${spec.file} could not decode: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
    stats: () => ({ ...stats }),
  };
}
