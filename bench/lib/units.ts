/** Sizes and rates for the benchmarks: binary units for memory, decimal GB/s for throughput. */

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** Decimal gigabytes per second of `bytes` processed in `ms` milliseconds (NaN when ms is 0). */
export function gbPerSec(bytes: number, ms: number): number {
  return ms > 0 ? (bytes * 1000) / ms / 1e9 : NaN;
}

/** "2.0 MiB", "64 GiB": sizes in the case names. */
export function sizeLabel(bytes: number): string {
  if (bytes >= GiB && bytes % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(bytes % MiB === 0 ? 0 : 1)} MiB`;
  if (bytes >= KiB) return `${(bytes / KiB).toFixed(bytes % KiB === 0 ? 0 : 1)} KiB`;
  return `${bytes} B`;
}
