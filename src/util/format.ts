/** Human-readable byte counts in binary units (memory sizes are binary everywhere in migbench). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** Three significant digits with a decimal (x1000) prefix: 9.87, 10.0, 123. */
function formatDecimalScaled(value: number, units: readonly string[]): string {
  if (Number.isNaN(value)) return `n/a ${units[0]}`;
  if (!Number.isFinite(value)) return `${value > 0 ? '∞' : '-∞'} ${units[0]}`;
  let v = value;
  let u = 0;
  // Rescale when rounding to 3 digits would itself reach 1000 (999.6 -> 1.00 k, not 1000).
  while (Math.abs(Number(v.toPrecision(3))) >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  const text = Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(3);
  return `${text} ${units[u]}`;
}

/** Bits per second, decimal: "9.87 Gbit/s". */
export function formatBitRate(bitsPerSec: number): string {
  return formatDecimalScaled(bitsPerSec, ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s']);
}

/** Bytes per second, decimal: "1.23 GB/s". */
export function formatByteRate(bytesPerSec: number): string {
  return formatDecimalScaled(bytesPerSec, ['B/s', 'kB/s', 'MB/s', 'GB/s', 'TB/s']);
}

/** Milliseconds: "0.052 ms" below 1 ms, "312.4 ms" below 1 s, "12.31 s" above. */
export function formatMs(ms: number): string {
  if (Number.isNaN(ms)) return 'n/a';
  if (!Number.isFinite(ms)) return `${ms > 0 ? '∞' : '-∞'} ms`;
  const abs = Math.abs(ms);
  if (abs < 1) return `${ms.toFixed(3)} ms`;
  if (Math.abs(Number(ms.toFixed(1))) < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Fixed decimals with thousands separators: 12,312.4; n/a and ∞ for what is not a number. */
export function formatFixed(v: number, digits: number): string {
  if (Number.isNaN(v)) return 'n/a';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A whole count with thousands separators: 262,144. */
export function formatCount(v: number): string {
  return formatFixed(Math.round(v), 0);
}

/** A fraction as a percentage with one decimal: 0.975 -> "97.5 %". */
export function formatPercent(fraction: number): string {
  return Number.isFinite(fraction) ? `${(fraction * 100).toFixed(1)} %` : formatFixed(fraction, 1);
}

/**
 * Words wrapped to `width` columns, continuation lines indented by `indent` spaces (a label's
 * width, so wrapped values line up under the first). A word longer than a line stays whole.
 */
export function wrapText(text: string, width: number, indent = 0): string {
  const lines: string[] = [];
  let line: string | null = null;
  for (const word of text.split(' ')) {
    const room = width - (lines.length === 0 ? 0 : indent);
    if (line === null) line = word;
    else if (line.trim() !== '' && word !== '' && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
    } else line = `${line} ${word}`;
  }
  lines.push(line ?? '');
  return lines.map((l, i) => (i === 0 ? l.trimEnd() : `${' '.repeat(indent)}${l.trim()}`)).join('\n');
}
