/**
 * QEMU's multifd under its loop (--multifd N, QEMU-POSTCOPY.md part B): packets of 512 KiB to the
 * first idle channel, each counted by the rate limit only once its channel has written it, so
 * max-bandwidth lets through about one packet per channel more each 100 ms window; a sync of
 * every channel at each wrap of the scan.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveRunConfig } from '../../src/config/options.js';
import { runMigration } from '../../src/driver/migrate.js';
import { OptionError } from '../../src/util/errors.js';

const base = {
  clock: 'virtual',
  ram: '64MiB',
  vcpus: '1',
  link: 'unlimited',
  maxBandwidth: '268435456bit/s', // 32 MiB/s
  latency: '0ms',
  seed: '5',
};

test('a guest that does not converge: 4 channels send about a packet per channel per window over max-bandwidth', async () => {
  const busy = { ...base, dirtyRate: '16384pages/s', pattern: 'uniform', timeout: '3s' };
  const one = await runMigration(resolveRunConfig(busy));
  const four = await runMigration(resolveRunConfig({ ...busy, multifd: '4' }));
  assert.equal(one.status, 'failed');
  assert.equal(four.status, 'failed');
  const q1 = one.qemu;
  const q4 = four.qemu;
  assert.ok(q1 && q4);
  assert.equal(q1.multifdBytes, undefined);
  // One channel: max-bandwidth (3.36 MB a window); four: plus up to four packets of 525 KB a window.
  const windows = 30;
  assert.ok(
    Math.abs(q1.transferredBytes / windows / 3.355e6 - 1) < 0.05,
    `${q1.transferredBytes} bytes on one channel`,
  );
  const extra = (q4.transferredBytes - q1.transferredBytes) / windows;
  assert.ok(extra > 1.0e6 && extra < 4 * 525_632 * 1.05, `${extra} bytes a window over the budget`);
  // Nearly everything crosses the channels: the main channel has framing and flush flags only.
  assert.ok((q4.multifdBytes ?? 0) > 0.99 * q4.transferredBytes);
});

test('a guest that converges: completes verified with 2 channels, zero pages counted as duplicate', async () => {
  const r = await runMigration(
    resolveRunConfig({ ...base, dirtyRate: '1000pages/s', content: 'mixed:50:0:50', codec: 'zero', multifd: '2' }),
  );
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
  const q = r.qemu;
  assert.ok(q && q.multifdBytes !== undefined);
  assert.ok(q.duplicatePages >= 7000, `${q.duplicatePages} zero pages`);
  // A packet carries a 1,344-byte header and its normal pages' bytes, nothing for a zero page.
  assert.ok(q.multifdBytes >= q.normalPages * 4096 && q.multifdBytes < q.normalPages * 4096 * 1.02 + 2e6);
});

test('--multifd: QEMU loop and virtual clock only, not with xbzrle or post-copy, as QEMU 10.0', () => {
  const refused = (options: Record<string, string>, message: RegExp): void =>
    assert.throws(
      () => resolveRunConfig(options),
      (e: unknown) => e instanceof OptionError && message.test(e.message),
    );
  refused({ multifd: '4' }, /--multifd needs --clock virtual \(the channels modelled in simulated time\) or --target/);
  refused({ clock: 'virtual', multifd: '4', codec: 'zero,xbzrle' }, /Multifd is not compatible with xbzrle/);
  refused({ clock: 'virtual', multifd: '4', postcopyAfter: '2' }, /Postcopy is not yet compatible with multifd/);
  refused({ clock: 'virtual', multifd: '4', policy: 'xen' }, /--multifd is QEMU's own loop's/);
  refused({ clock: 'virtual', multifd: '17' }, /--multifd must be a whole number from 1 to 16/);
  assert.equal(resolveRunConfig({ clock: 'virtual', multifd: '4' }).multifdChannels, 4);
  assert.equal(resolveRunConfig({}).multifdChannels, null);
});
