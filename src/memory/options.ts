/**
 * The guest memory's options: its size and page size (src/util/options.ts has the table's shape;
 * src/config/options.ts assembles every feature's table).
 */
import { OptionError } from '../util/errors.js';
import type { OptionTable } from '../util/options.js';
import { formatBytes } from '../util/format.js';
import { isPowerOfTwo, parseSize } from '../util/units.js';

export interface MemoryConfig {
  /** Guest RAM, bytes (binary units on input: 512MiB). */
  ramBytes: number;
  /** Guest page size, bytes (default 4 KiB). */
  pageSizeBytes: number;
}

export const MEMORY_LIMITS = {
  minPageSizeBytes: 4 * 1024,
  maxPageSizeBytes: 2 * 1024 * 1024,
  /** Fewer pages than this make rounds and bitmaps degenerate. */
  minRamPages: 16,
  /** Beyond what any test machine has; allocation failure above this is the driver's to report. */
  maxRamBytes: 64 * 2 ** 30,
} as const;

export type MemoryOptionKey = 'ram' | 'pageSize';

export const MEMORY_OPTIONS: OptionTable<MemoryOptionKey, MemoryOptionKey, MemoryConfig> = {
  ram: {
    flags: '--ram <size>',
    description:
      'guest RAM; binary KiB/MiB/GiB/TiB (K/M/G/T are binary too), decimal KB/MB/GB, or bytes; a multiple of the page size, 16 pages to 64GiB',
    defaultText: '1GiB',
    example: '512MiB',
    resolve: (c) => {
      const pageSizeBytes = c.config.pageSizeBytes as number;
      const text = c.text('ram');
      const ramBytes = parseSize('--ram', c.typed('ram'));
      if (ramBytes % pageSizeBytes !== 0) {
        throw new OptionError(
          '--ram',
          `--ram must be a multiple of the page size (${formatBytes(pageSizeBytes)}) such as 512MiB ` +
            `(got ${JSON.stringify(text)} = ${ramBytes} bytes)`,
        );
      }
      if (ramBytes / pageSizeBytes < MEMORY_LIMITS.minRamPages) {
        throw new OptionError(
          '--ram',
          `--ram must be at least ${MEMORY_LIMITS.minRamPages} pages (${formatBytes(MEMORY_LIMITS.minRamPages * pageSizeBytes)} ` +
            `with ${formatBytes(pageSizeBytes)} pages) (got ${JSON.stringify(text)})`,
        );
      }
      if (ramBytes > MEMORY_LIMITS.maxRamBytes)
        throw new OptionError('--ram', `--ram must be at most 64GiB (got ${JSON.stringify(text)})`);
      return { ramBytes };
    },
  },
  pageSize: {
    flags: '--page-size <size>',
    description: 'guest page size, a power of two from 4KiB to 2MiB',
    defaultText: '4KiB',
    example: '2MiB',
    resolve: (c) => {
      const pageSizeBytes = parseSize('--page-size', c.typed('pageSize'));
      if (
        !isPowerOfTwo(pageSizeBytes) ||
        pageSizeBytes < MEMORY_LIMITS.minPageSizeBytes ||
        pageSizeBytes > MEMORY_LIMITS.maxPageSizeBytes
      ) {
        throw new OptionError(
          '--page-size',
          `--page-size must be a power of two from 4KiB to 2MiB such as 4KiB or 2MiB (got ${JSON.stringify(c.text('pageSize'))})`,
        );
      }
      return { pageSizeBytes };
    },
  },
};
