/**
 * The guest memory's options: its size and page size (src/util/options.ts has the table's shape;
 * src/config/options.ts assembles every feature's table).
 */
import { OptionError } from '../util/errors.js';
import { parseName, type OptionTable } from '../util/options.js';
import type { ClockConfig } from '../clock/options.js';
import { formatBytes } from '../util/format.js';
import { isPowerOfTwo, parseSize } from '../util/units.js';
import { traceFacts, type TraceConfig } from '../trace/options.js';

export interface MemoryConfig {
  /** Guest RAM, bytes (binary units on input: 512MiB). */
  ramBytes: number;
  /** Guest page size, bytes (default 4 KiB). */
  pageSizeBytes: number;
  /**
   * Where a page's bytes are: `materialized`, in this process's memory (source and target alike);
   * `procedural`, nowhere: a function of the seed and the page's writes (src/memory/procedural.ts).
   */
  memory: MemoryKind;
}

export type MemoryKind = 'materialized' | 'procedural';

export const MEMORY_LIMITS = {
  minPageSizeBytes: 4 * 1024,
  maxPageSizeBytes: 2 * 1024 * 1024,
  /** Fewer pages than this make rounds and bitmaps degenerate. */
  minRamPages: 16,
  /** 2^32 pages of 4 KiB: page numbers are u32. What fits in this machine is admission's to say (src/config/admission.ts). */
  maxRamBytes: 16 * 2 ** 40,
} as const;

export type MemoryOptionKey = 'ram' | 'pageSize' | 'memory';

export const MEMORY_OPTIONS: OptionTable<
  MemoryOptionKey,
  MemoryOptionKey,
  MemoryConfig & Pick<ClockConfig, 'clock'> & TraceConfig
> = {
  ram: {
    flags: '--ram <size>',
    description:
      'guest RAM; binary KiB/MiB/GiB/TiB (K/M/G/T are binary too), decimal KB/MB/GB, or bytes; a multiple of the page size, 16 pages to 16TiB (what fits is checked before anything is allocated)',
    defaultText: '1GiB',
    example: '512MiB',
    resolve: (c) => {
      const pageSizeBytes = c.config.pageSizeBytes as number;
      // A trace's RAM is its recording's (--ram was refused with it).
      if (c.config.trace) return { ramBytes: traceFacts(c.config.trace.file).ramBytes };
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
      if (ramBytes > MEMORY_LIMITS.maxRamBytes || ramBytes / pageSizeBytes > 2 ** 32)
        throw new OptionError('--ram', `--ram must be at most 16TiB and 2^32 pages (got ${JSON.stringify(text)})`);
      return { ramBytes };
    },
  },
  pageSize: {
    flags: '--page-size <size>',
    description: 'guest page size, a power of two from 4KiB to 2MiB',
    defaultText: '4KiB',
    example: '2MiB',
    resolve: (c) => {
      const trace = c.config.trace ? traceFacts(c.config.trace.file) : null;
      if (trace && c.text('pageSize') === undefined) return { pageSizeBytes: trace.pageSizeBytes };
      const pageSizeBytes = parseSize('--page-size', c.typed('pageSize'));
      if (trace && pageSizeBytes !== trace.pageSizeBytes)
        throw new OptionError(
          '--page-size',
          `--page-size must be the trace's (${formatBytes(trace.pageSizeBytes)}): its pages were recorded at that size`,
        );
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
  memory: {
    flags: '--memory <kind>',
    description:
      "how the guest's pages are held: procedural (a page's bytes are a function of the seed and its writes, made only where something reads them: any size, no set-up, source and target each hold about 8 bytes a page: its state and room in the scan list) or materialized (every page's bytes in this process's memory, source and target: a real-clock run then measures the machine's memory too); the two give the same result on the virtual clock",
    defaultText: 'procedural with --clock virtual, materialized with --clock real',
    example: 'materialized',
    resolve: (c) => {
      const text = c.text('memory');
      // A trace's pages are its recorded bytes: they must be held.
      if (text === undefined)
        return { memory: c.config.clock === 'virtual' && !c.config.trace ? 'procedural' : 'materialized' };
      const memory = parseName('--memory', text, MEMORY_KINDS);
      if (memory === 'procedural' && c.config.trace)
        throw new OptionError(
          '--memory',
          '--memory procedural does not take --workload trace:FILE (its pages are recorded bytes)',
        );
      return { memory };
    },
  },
};

export const MEMORY_KINDS: readonly MemoryKind[] = ['procedural', 'materialized'];
