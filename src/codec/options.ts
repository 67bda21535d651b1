/** The page codecs' options: the chain, its codecs' settings, the threads that encode. */
import { OptionError } from '../util/errors.js';
import type { OptionTable } from '../util/options.js';
import { parseCount, parseSize } from '../util/units.js';
import { isStrategyFile, parseStrategyOptions, strategyFile, type UserStrategyConfig } from '../util/user-file.js';
import type { MemoryConfig } from '../memory/options.js';
import type { ClockConfig } from '../clock/options.js';
import type { CodecName } from './codec.js';
import { CODECS, parseCodecList } from './registry.js';

export interface CodecConfig {
  /** Page codecs tried in order (src/codec/); [] sends every page raw. */
  codecs: CodecName[];
  /** --codec ./my-codec.js: the user's codec files, one per `user` in codecs, in order (src/codec/user-codec.ts). */
  userCodecs: UserStrategyConfig[];
  /** xbzrle's page cache on the sender, bytes. */
  xbzrleCacheBytes: number;
  /** deflate's compression level, 0-9. */
  deflateLevel: number;
  /** Threads that encode pages in parallel (as multifd compression's channels do); 0 encodes on the driver thread. */
  compressThreads: number;
  /** Charge measured encoding CPU time to simulated time (virtual clock only). */
  chargeCpu: boolean;
}

export const CODEC_LIMITS = {
  compressThreads: { min: 0, max: 16 },
} as const;

export type CodecOptionKey = 'codec' | 'codecOpt' | 'xbzrleCache' | 'deflateLevel' | 'compressThreads' | 'chargeCpu';
type Reads = CodecConfig & MemoryConfig & Pick<ClockConfig, 'clock'>;

export const CODEC_OPTIONS: OptionTable<CodecOptionKey, CodecOptionKey, Reads> = {
  codec: {
    flags: '--codec <list>',
    description: `page codecs tried in order, each page going to the first that takes it: ${Object.values(CODECS)
      .map((c) => c.help)
      .join(
        ', ',
      )}, or a codec file of your own (./my-codec.js: an ES module whose default export (options) => ({ name, encode(page, pageNumber, out), decode(encoded, pageNumber, target) }); see docs/your-strategy.md); or raw`,
    defaultText: 'raw',
    example: 'zero,xbzrle,lz4, zero,./examples/codecs/run-length.js',
    resolve: (c) => {
      const { codecs, files } = parseCodecList(c.typed('codec'), (entry) =>
        isStrategyFile(entry) ? strategyFile('--codec', entry, c.baseDir) : null,
      );
      const opts = c.text('codecOpt');
      if (files.length === 0 && opts !== undefined)
        throw new OptionError('--codec-opt', '--codec-opt only applies with a codec file (--codec zero,./my-codec.js)');
      const options = parseStrategyOptions('--codec-opt', opts);
      return { codecs, userCodecs: files.map((file) => ({ file, options: { ...options } })) };
    },
  },
  codecOpt: {
    flags: '--codec-opt <key=value,...>',
    description: "options for the codec files' factories, as text by key (every codec file gets them)",
    defaultText: 'none',
    example: 'min-run=4',
    // Resolved with --codec.
  },
  xbzrleCache: {
    flags: '--xbzrle-cache <size>',
    description: "xbzrle's page cache on the sender: a size, or a share of RAM",
    defaultText: '64MiB',
    example: '10%',
    resolve: (c) => ({
      xbzrleCacheBytes: parseXbzrleCache(
        c.typed('xbzrleCache'),
        c.config.ramBytes as number,
        c.config.pageSizeBytes as number,
      ),
    }),
  },
  deflateLevel: {
    flags: '--deflate-level <n>',
    description: "deflate's level, 0 to 9",
    defaultText: '1',
    example: '6',
    resolve: (c) => ({ deflateLevel: parseCount('--deflate-level', c.typed('deflateLevel'), { min: 0, max: 9 }) }),
  },
  compressThreads: {
    flags: '--compress-threads <n>',
    description:
      "worker threads encoding pages in parallel (as multifd compression's channels encode; QEMU's multifd packets and accounting are --multifd), 0 to 16; 0 encodes on the driver thread",
    defaultText: '0',
    example: '2',
    resolve: (c) => ({
      compressThreads: parseCount('--compress-threads', c.typed('compressThreads'), CODEC_LIMITS.compressThreads),
    }),
  },
  chargeCpu: {
    flags: '--charge-cpu',
    description:
      'with --clock virtual: charge the measured encoding CPU time to simulated time, so a codec slower than the link shows',
    defaultText: 'off',
    example: '--clock virtual --codec deflate --charge-cpu',
    resolve: (c) => {
      const on = c.flag('chargeCpu');
      if (on && c.config.clock !== 'virtual')
        throw new OptionError(
          '--charge-cpu',
          '--charge-cpu only applies with --clock virtual (the real clock pays CPU time anyway)',
        );
      return { chargeCpu: on };
    },
  },
};

/** Bytes (64MiB) or a share of RAM (10%); at least one page, at most the RAM. */
function parseXbzrleCache(text: string, ramBytes: number, pageSizeBytes: number): number {
  let bytes: number;
  if (/^\s*\d+(\.\d+)?\s*%\s*$/.test(text)) {
    const share = Number(text.trim().replace('%', ''));
    if (!(share > 0 && share <= 100)) {
      throw new OptionError(
        '--xbzrle-cache',
        `--xbzrle-cache must be a size such as 64MiB or a share of RAM from 0 to 100% such as 10% (got ${JSON.stringify(text)})`,
      );
    }
    bytes = (ramBytes * share) / 100;
  } else {
    bytes = parseSize('--xbzrle-cache', text);
  }
  return Math.max(pageSizeBytes, Math.min(ramBytes, Math.floor(bytes / pageSizeBytes) * pageSizeBytes));
}
