/**
 * The codec registry: `--codec` text to names, names to the sender's chain, and the receiver's
 * decoders. Adding a codec is a file, its wire id in CODEC_IDS (src/codec/codec.ts) and its entry
 * in CODECS here (CONTRIBUTING.md walks through it).
 */
import { OptionError } from '../util/errors.js';
import type { Kernels } from '../kernel/types.js';
import { CODEC_IDS, MAX_USER_CODECS, USER_CODEC_BASE_ID, type CodecName, type PageCodec } from './codec.js';
import { userCodec } from './user-codec.js';
import type { UserStrategyConfig } from '../util/user-file.js';
import { DEFAULT_DEFLATE_LEVEL, DeflateCodec } from './deflate.js';
import { Lz4Codec } from './lz4.js';
import { XbzrleCodec } from './xbzrle.js';
import { ZeroCodec, type KernelBinding, type ZeroTest } from './zero.js';

/** A built-in codec: a sentence of --codec's help, the sender's codec, the receiver's decoder. */
export interface CodecEntry {
  help: string;
  encoder(options: CodecChainOptions): PageCodec;
  decoder(pageSizeBytes: number, options: DecoderOptions): PageCodec;
}

/** The codecs a chain may hold, in the order the help text lists them. */
export const CODECS = {
  zero: {
    help: 'zero (a zero page is its header alone)',
    encoder: (o) => new ZeroCodec(o.isZero),
    decoder: () => new ZeroCodec(),
  },
  xbzrle: {
    help: 'xbzrle (delta against the copy sent before)',
    encoder: (o) =>
      new XbzrleCodec({ pageSizeBytes: o.pageSizeBytes, cacheBytes: o.xbzrleCacheBytes, bindKernels: o.bindKernels }),
    // No cache to decode; in place where a frame and its target pages share a memory.
    decoder: (pageSizeBytes, o) =>
      new XbzrleCodec({ pageSizeBytes, cacheBytes: 0, bindKernels: o.bindKernels, decodeInPlace: o.targetMemories }),
  },
  lz4: { help: 'lz4', encoder: () => new Lz4Codec(), decoder: () => new Lz4Codec() },
  deflate: {
    help: 'deflate',
    encoder: (o) => new DeflateCodec(o.deflateLevel ?? DEFAULT_DEFLATE_LEVEL),
    decoder: () => new DeflateCodec(),
  },
} as const satisfies Record<Exclude<CodecName, 'raw' | 'user'>, CodecEntry>;

export type ChainCodecName = keyof typeof CODECS;

export const CHAIN_CODEC_NAMES = Object.keys(CODECS) as ChainCodecName[];

const ACCEPTED = `raw, or a comma-separated list of distinct codecs from ${CHAIN_CODEC_NAMES.join(', ')} (or codec files such as ./my-codec.js) in the order to try them, such as zero,xbzrle,lz4`;

function codecError(text: string, why: string): OptionError {
  return new OptionError('--codec', `--codec must be ${ACCEPTED} (got "${text}": ${why})`);
}

/**
 * Parses `--codec`: `raw` alone is the empty chain (every page raw); otherwise distinct chain codec
 * names separated by commas, spaces around them ignored. Throws OptionError naming the problem.
 * With `userFile`, an entry it takes for a file (./my-codec.js) is a user codec: `user` in the
 * chain, its path (as userFile resolves it) in `files`, in order.
 */
export function parseCodecList(text: string): CodecName[];
export function parseCodecList(
  text: string,
  userFile: (entry: string) => string | null,
): { codecs: CodecName[]; files: string[] };
export function parseCodecList(
  text: string,
  userFile?: (entry: string) => string | null,
): CodecName[] | { codecs: CodecName[]; files: string[] } {
  const names = text.split(',').map((s) => s.trim());
  const files: string[] = [];
  const done = (codecs: CodecName[]) => (userFile === undefined ? codecs : { codecs, files });
  if (names.length === 1 && names[0] === 'raw') return done([]);
  const seen = new Set<string>();
  const codecs: CodecName[] = [];
  for (const name of names) {
    if (name === '') throw codecError(text, 'an empty name');
    if (name === 'raw') throw codecError(text, 'raw sends every page uncoded and cannot be combined with a codec');
    const file = userFile?.(name) ?? null;
    if (file !== null) {
      if (files.includes(file)) throw codecError(text, `${name} twice`);
      if (files.length >= MAX_USER_CODECS) throw codecError(text, `more than ${MAX_USER_CODECS} codec files`);
      files.push(file);
      codecs.push('user');
      continue;
    }
    if (!(CHAIN_CODEC_NAMES as readonly string[]).includes(name)) throw codecError(text, `unknown codec "${name}"`);
    if (seen.has(name)) throw codecError(text, `${name} twice`);
    seen.add(name);
    codecs.push(name as CodecName);
  }
  return done(codecs);
}

export interface CodecChainOptions {
  pageSizeBytes: number;
  /** xbzrle's cache capacity, bytes (resolved from `--xbzrle-cache`, bytes or % of RAM). */
  xbzrleCacheBytes: number;
  /** deflate's level, 0-9; default 1. */
  deflateLevel?: number;
  /** The zero codec's test; default the TypeScript one. Pass zeroTestInMemories(...) for the kernel. */
  isZero?: ZeroTest;
  /** Kernels for xbzrle's private memory; default the wasm kernels. */
  bindKernels?: (memory: WebAssembly.Memory) => Kernels;
  /** The user's codec files, one per `user` in the names, in order (preloaded in this thread). */
  userCodecs?: readonly UserStrategyConfig[];
}

/** The sender's chain for `names` (as parseCodecList returns them), in order; [] for raw. */
export function createCodecChain(names: readonly CodecName[], options: CodecChainOptions): PageCodec[] {
  let users = 0;
  return names.map((name): PageCodec => {
    if (name === 'raw') throw new RangeError('raw is no codec of a chain: an empty chain sends every page raw');
    if (name !== 'user') return CODECS[name].encoder(options);
    const spec = options.userCodecs?.[users];
    if (spec === undefined) throw new RangeError('a user codec in the chain without its file');
    return userCodec(spec, users++);
  });
}

export interface DecoderOptions {
  /** Kernels for xbzrle's private memory; default the wasm kernels. */
  bindKernels?: (memory: WebAssembly.Memory) => Kernels;
  /**
   * The receiver's slot memories with their kernels: xbzrle decodes in place where a frame and
   * its target pages share one (no copies through its own memory).
   */
  targetMemories?: readonly KernelBinding[];
  /** The user's codec files of the run, in chain order (preloaded in this thread): ids 16, 17, ... */
  userCodecs?: readonly UserStrategyConfig[];
}

/**
 * The receiver's decoders by codec id, every chain codec (raw, id 0, is the frame path's own):
 * whatever chain the sender ran, the receiver can decode it. xbzrle needs no cache to decode.
 */
export function createDecoders(pageSizeBytes: number, options: DecoderOptions = {}): Map<number, PageCodec> {
  return new Map<number, PageCodec>([
    ...CHAIN_CODEC_NAMES.map((name): [number, PageCodec] => [
      CODEC_IDS[name],
      CODECS[name].decoder(pageSizeBytes, options),
    ]),
    ...(options.userCodecs ?? []).map((spec, i): [number, PageCodec] => [USER_CODEC_BASE_ID + i, userCodec(spec, i)]),
  ]);
}
