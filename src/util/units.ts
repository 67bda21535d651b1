/**
 * Parsers for the quantities users type (sizes, rates, durations, counts).
 *
 * Conventions (ARCHITECTURE/STYLE §6): memory sizes are binary (KiB = 1024 B), link and dirty rates
 * are decimal (MB/s = 1e6 B/s, Gbit/s = 1e9 bit/s). Every parser throws an OptionError that names
 * the option, the accepted form and the text it was given.
 */
import { OptionError } from './errors.js';

/** A non-negative decimal number: `12`, `1.5`, `.5`. No sign, no exponent, no separators. */
export const NUMBER = String.raw`(\d+(?:\.\d+)?|\.\d+)`;

export function invalid(option: string, form: string, text: string): OptionError {
  return new OptionError(option, `${option} must be ${form} (got ${JSON.stringify(text)})`);
}

/** Splits `512MiB` / `512 MiB` into its number and unit, or returns null. */
function splitQuantity(text: string): { value: number; unit: string } | null {
  const m = new RegExp(`^${NUMBER}\\s*([^\\d\\s.].*)?$`).exec(text.trim());
  if (m === null) return null;
  return { value: Number(m[1]), unit: m[2] ?? '' };
}

// ---------------------------------------------------------------------------------------- sizes

/**
 * Size suffixes, matched case-insensitively. The single letters are binary, as in QEMU's `-m 4G`
 * and dd's `bs=64M`: memory people mean MiB when they type M. Only the explicit two-letter forms
 * KB/MB/GB/TB are decimal.
 */
const SIZE_UNIT_BYTES: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 2 ** 10,
  kib: 2 ** 10,
  m: 2 ** 20,
  mib: 2 ** 20,
  g: 2 ** 30,
  gib: 2 ** 30,
  t: 2 ** 40,
  tib: 2 ** 40,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
};

const SIZE_FORM = 'a size such as 512MiB, 16GiB, 4KiB, 64M (binary), 500MB (decimal) or 4096 (bytes)';

/** Parses a memory size to bytes: a positive whole number of bytes. */
export function parseSize(option: string, text: string): number {
  const q = splitQuantity(text);
  // A lowercase b is bits in a rate (--link 10Gb/s): a size in Gb would read two ways, so it is refused.
  if (q !== null && /^[kmgt]b$/i.test(q.unit) && q.unit.endsWith('b'))
    throw new OptionError(
      option,
      `${option} ${text.trim()}: a lowercase b means bits (as in --link 10Gb/s), a size is bytes: write ${q.value}${q.unit[0].toUpperCase()}B (decimal) or ${q.value}${q.unit[0].toUpperCase()}iB (binary)`,
    );
  const unitBytes = q === null ? undefined : SIZE_UNIT_BYTES[q.unit.toLowerCase()];
  if (q === null || unitBytes === undefined) throw invalid(option, SIZE_FORM, text);
  const bytes = q.value * unitBytes;
  if (!(bytes > 0)) throw invalid(option, `a positive size such as 512MiB`, text);
  if (!Number.isInteger(bytes)) {
    throw new OptionError(
      option,
      `${option} must be a whole number of bytes (got ${JSON.stringify(text)} = ${bytes} bytes)`,
    );
  }
  if (!Number.isSafeInteger(bytes)) throw invalid(option, 'a size below 8 PiB', text);
  return bytes;
}

// ---------------------------------------------------------------------------------------- rates

/** Decimal rate prefixes, case-insensitive (a milli prefix makes no sense for a link). */
const DECIMAL_PREFIX: Readonly<Record<string, number>> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

/** Prefix, then the bit/byte unit; `b` is bits and `B` bytes, as everywhere in networking. */
const RATE_UNIT = /^([kKmMgGtT]?)(bits?\/s|b\/s|bps|B\/s|Bps)$/;

const LINK_FORM = 'a rate such as 10Gbit/s, 25Gbps, 1.25GB/s, 500MB/s or unlimited';

/** Parses a link rate to bits per second (decimal units), or null for `unlimited`. */
export function parseLinkRate(option: string, text: string): number | null {
  if (text.trim().toLowerCase() === 'unlimited') return null;
  const q = splitQuantity(text);
  const m = q === null ? null : RATE_UNIT.exec(q.unit);
  if (q === null || m === null) throw invalid(option, LINK_FORM, text);
  const prefix = DECIMAL_PREFIX[m[1].toLowerCase()] ?? 1;
  const bitsPerUnit = m[2].startsWith('B') ? 8 : 1;
  // Rounded so 9.87Gbit/s is 9870000000, not 9870000000.000002.
  const bitsPerSec = Math.round(q.value * prefix * bitsPerUnit);
  if (!(bitsPerSec > 0)) throw invalid(option, `a positive rate such as 10Gbit/s, or unlimited`, text);
  if (!Number.isSafeInteger(bitsPerSec)) throw invalid(option, `a rate below 9 Pbit/s`, text);
  return bitsPerSec;
}

const DIRTY_FORM = 'a rate such as 200MB/s, 1GB/s (decimal bytes per second), 50000pages/s or 0';
const DIRTY_BYTES_UNIT = /^([kKmMgGtT]?)(B\/s|Bps)$/;
const DIRTY_PAGES_UNIT = /^(pages?\/s)$/i;

/**
 * Parses a guest dirty rate to page writes per second. Byte rates are decimal and divided by the
 * page size, rounded down (QEMU's unit: 200MB/s with 4 KiB pages is 48828 pages/s); `0` is an
 * idle guest.
 */
export function parseDirtyRate(option: string, text: string, pageSizeBytes: number): number {
  const q = splitQuantity(text);
  if (q === null) throw invalid(option, DIRTY_FORM, text);
  if (q.unit === '') {
    if (q.value === 0) return 0;
    throw invalid(option, `${DIRTY_FORM}; a bare number other than 0 needs a unit`, text);
  }
  if (DIRTY_PAGES_UNIT.test(q.unit)) {
    if (!Number.isSafeInteger(q.value))
      throw invalid(option, 'a whole number of pages per second such as 50000pages/s', text);
    return q.value;
  }
  const m = DIRTY_BYTES_UNIT.exec(q.unit);
  if (m === null) throw invalid(option, DIRTY_FORM, text);
  const bytesPerSec = q.value * (DECIMAL_PREFIX[m[1].toLowerCase()] ?? 1);
  const pagesPerSec = Math.floor(bytesPerSec / pageSizeBytes);
  if (bytesPerSec > 0 && pagesPerSec === 0) {
    throw new OptionError(
      option,
      `${option} must be 0 or at least one ${pageSizeBytes}-byte page per second (got ${JSON.stringify(text)})`,
    );
  }
  if (!Number.isSafeInteger(pagesPerSec)) throw invalid(option, DIRTY_FORM, text);
  return pagesPerSec;
}

// ------------------------------------------------------------------------------------ durations

/** Duration units to milliseconds. A unit is required: `--timeout 120` could mean ms or s. */
const DURATION_UNIT_MS: Readonly<Record<string, number>> = {
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1e3,
  m: 60e3,
  min: 60e3,
  h: 3600e3,
};

const DURATION_FORM = 'a duration such as 300ms, 0.1ms, 1.5s, 20s or 2m (a unit is required)';

/** Parses a duration to milliseconds (fractions allowed, >= 0). Only `0` may omit the unit. */
export function parseDuration(option: string, text: string): number {
  const q = splitQuantity(text);
  if (q === null) throw invalid(option, DURATION_FORM, text);
  if (q.unit === '' && q.value === 0) return 0;
  const unitMs = DURATION_UNIT_MS[q.unit.toLowerCase()];
  if (unitMs === undefined) throw invalid(option, DURATION_FORM, text);
  const ms = q.value * unitMs;
  if (!Number.isFinite(ms)) throw invalid(option, DURATION_FORM, text);
  return ms;
}

// ---------------------------------------------------------------------------------------- counts

export interface CountRange {
  min: number;
  max: number;
}

/** Parses a whole number in [min, max], written in decimal digits. */
export function parseCount(option: string, text: string, range: CountRange): number {
  const form = `a whole number from ${range.min} to ${range.max}`;
  if (!/^\d+$/.test(text.trim())) throw invalid(option, form, text);
  const n = Number(text.trim());
  if (!(n >= range.min && n <= range.max)) throw invalid(option, form, text);
  return n;
}

// ----------------------------------------------------------------------------------- formatters

/** Whether n is a power of two (a positive safe integer). */
export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}
