/** Known answers and rejections for every unit parser, and the formatters' output forms. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OptionError } from '../../src/util/errors.js';
import { parseCount, parseDirtyRate, parseDuration, parseLinkRate, parseSize } from '../../src/util/units.js';
import { parsePattern } from '../../src/guest/pattern.js';
import { formatBitRate, formatByteRate, formatBytes, formatMs } from '../../src/util/format.js';

/** The parser throws an OptionError for `opt` whose message names the option and quotes the text. */
function rejects(fn: (opt: string, text: string) => unknown, text: string): void {
  assert.throws(
    () => fn('--opt', text),
    (e: unknown) => {
      assert.ok(e instanceof OptionError, `rejects ${JSON.stringify(text)} with an OptionError`);
      assert.equal(e.option, '--opt');
      assert.ok(e.message.startsWith('--opt must be '), e.message);
      assert.ok(e.message.includes(JSON.stringify(text)), e.message);
      return true;
    },
  );
}

test('parseSize: binary units, K/M/G shorthand binary, KB/MB/GB decimal, bare bytes', () => {
  const cases: [string, number][] = [
    ['512MiB', 512 * 2 ** 20],
    ['4KiB', 4096],
    ['1GiB', 2 ** 30],
    ['16GiB', 16 * 2 ** 30],
    ['1TiB', 2 ** 40],
    ['4096', 4096],
    ['4096B', 4096],
    ['8', 8],
    ['64m', 64 * 2 ** 20],
    ['4G', 4 * 2 ** 30],
    ['4k', 4096],
    ['512mib', 512 * 2 ** 20],
    ['1.5GiB', 1.5 * 2 ** 30],
    ['512 MiB', 512 * 2 ** 20],
    ['500MB', 500e6],
    ['1KB', 1000],
    ['2GB', 2e9],
  ];
  for (const [text, bytes] of cases) assert.equal(parseSize('--ram', text), bytes, text);
  for (const bad of ['0', '0MiB', '12XB', '', 'MiB', '-1', '1e9', '0.3KiB', '1.2.3', 'fast', '1 GiB extra'])
    rejects(parseSize, bad);
  // Gb is bits in a rate (--link 10Gb/s): as a size it is refused, saying what to write.
  for (const bits of ['64Gb', '512mb', '4kb', '1Tb'])
    assert.throws(
      () => parseSize('--ram', bits),
      /a lowercase b means bits .*a size is bytes: write \d+[KMGT]B \(decimal\) or \d+[KMGT]iB \(binary\)/,
      bits,
    );
});

test('parseLinkRate: decimal bits and bytes per second, unlimited', () => {
  const cases: [string, number | null][] = [
    ['1Gbit/s', 1e9],
    ['10Gbit/s', 1e10],
    ['100Mbit/s', 1e8],
    ['25Gbps', 25e9],
    ['1.25GB/s', 1e10],
    ['500MB/s', 4e9],
    ['64kbit/s', 64e3],
    ['1Kbit/s', 1e3],
    ['9.87Gbit/s', 9_870_000_000],
    ['10Gb/s', 1e10],
    ['1000bit/s', 1000],
    ['unlimited', null],
    ['Unlimited', null],
  ];
  for (const [text, bits] of cases) assert.equal(parseLinkRate('--link', text), bits, text);
  for (const bad of ['fast', '10', '10G', '10GiB/s', '0Gbit/s', '-1Gbit/s', '10Gbit', '']) rejects(parseLinkRate, bad);
});

test('parseDirtyRate: decimal bytes/s divided by the page size (floor), pages/s, 0', () => {
  assert.equal(parseDirtyRate('--dirty-rate', '200MB/s', 4096), 48828);
  assert.equal(parseDirtyRate('--dirty-rate', '100MB/s', 4096), 24414);
  assert.equal(parseDirtyRate('--dirty-rate', '1GB/s', 4096), 244140);
  assert.equal(parseDirtyRate('--dirty-rate', '1GB/s', 2 * 2 ** 20), 476);
  assert.equal(parseDirtyRate('--dirty-rate', '50000pages/s', 4096), 50000);
  assert.equal(parseDirtyRate('--dirty-rate', '1page/s', 4096), 1);
  assert.equal(parseDirtyRate('--dirty-rate', '0', 4096), 0);
  assert.equal(parseDirtyRate('--dirty-rate', '0MB/s', 4096), 0);
  const at4k = (opt: string, text: string): number => parseDirtyRate(opt, text, 4096);
  for (const bad of ['fast', '200', '200Mbit/s', '1.5pages/s', '-1MB/s', '']) rejects(at4k, bad);
  // Less than one page per second would silently become an idle guest.
  assert.throws(
    () => parseDirtyRate('--dirty-rate', '1kB/s', 4096),
    /--dirty-rate must be 0 or at least one 4096-byte page per second/,
  );
});

test('parseDuration: a unit is required, fractions allowed, result in ms', () => {
  const cases: [string, number][] = [
    ['300ms', 300],
    ['20s', 20_000],
    ['2m', 120_000],
    ['1.5s', 1500],
    ['0.1ms', 0.1],
    ['250us', 0.25],
    ['1h', 3_600_000],
    ['2min', 120_000],
    ['0', 0],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration('--timeout', text), ms, text);
  for (const bad of ['soon', '120', '5 days', '-1s', '1e3ms', '']) rejects(parseDuration, bad);
});

test('parsePattern: uniform, sequential, hotset:FRACTION:PROBABILITY in range', () => {
  assert.deepEqual(parsePattern('--pattern', 'uniform'), { kind: 'uniform' });
  assert.deepEqual(parsePattern('--pattern', 'sequential'), { kind: 'sequential' });
  assert.deepEqual(parsePattern('--pattern', 'hotset:0.1:0.9'), { kind: 'hotset', fraction: 0.1, probability: 0.9 });
  assert.deepEqual(parsePattern('--pattern', 'hotset:1:0'), { kind: 'hotset', fraction: 1, probability: 0 });
  for (const bad of [
    'zigzag',
    'hotset',
    'hotset:0:0.9',
    'hotset:1.5:0.9',
    'hotset:0.1:1.1',
    'hotset:0.1',
    'hotset:-0.1:0.5',
    '',
  ]) {
    rejects(parsePattern, bad);
  }
});

test('parseCount: whole numbers within the range', () => {
  const vcpus = { min: 1, max: 64 };
  assert.equal(parseCount('--vcpus', '1', vcpus), 1);
  assert.equal(parseCount('--vcpus', '64', vcpus), 64);
  assert.equal(parseCount('--seed', '4294967295', { min: 0, max: 2 ** 32 - 1 }), 4294967295);
  assert.equal(parseCount('--seed', '0', { min: 0, max: 2 ** 32 - 1 }), 0);
  const v = (opt: string, text: string): number => parseCount(opt, text, vcpus);
  for (const bad of ['-1', '0', '65', '1.5', '2e1', 'two', '']) rejects(v, bad);
  assert.throws(() => parseCount('--vcpus', '65', vcpus), /--vcpus must be a whole number from 1 to 64 \(got "65"\)/);
});

test('formatters: binary bytes, decimal rates with 3 significant digits, ms then s', () => {
  assert.equal(formatBytes(512 * 2 ** 20), '512.0 MiB');
  assert.equal(formatBitRate(9.87e9), '9.87 Gbit/s');
  assert.equal(formatBitRate(1e10), '10.0 Gbit/s');
  assert.equal(formatBitRate(999.6e6), '1.00 Gbit/s');
  assert.equal(formatBitRate(100e6), '100 Mbit/s');
  assert.equal(formatByteRate(1.23e9), '1.23 GB/s');
  assert.equal(formatByteRate(100e6), '100 MB/s');
  assert.equal(formatMs(312.44), '312.4 ms');
  assert.equal(formatMs(12_314), '12.31 s');
  assert.equal(formatMs(0.052), '0.052 ms');
  assert.equal(formatMs(999.96), '1.00 s');
  assert.equal(formatMs(Infinity), '∞ ms');
});
