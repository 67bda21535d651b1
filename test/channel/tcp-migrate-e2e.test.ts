/** Over real sockets on loopback, both hosts agree (verified by a keyed MAC) for streams, codecs and every dirty log. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { runMigration } from '../../src/driver/migrate.js';
import { smallConfig } from '../fixtures/migrate.js';
import { startReceiver } from '../fixtures/receiver.js';
import type { RunConfig } from '../../src/config/types.js';

const receiver = await startReceiver({ token: 's3cret' });
after(() => receiver.server.close());

const base = (o: Partial<RunConfig>): RunConfig =>
  smallConfig({
    ramBytes: 16 * 1024 * 1024,
    pageWritesPerSec: 5_000,
    linkBitsPerSec: 2e9,
    target: receiver.address,
    token: 's3cret',
    ...o,
  });

test('QEMU multifd on 2 connections completes verified, and the receiver reports the migration completed', async () => {
  const before = receiver.summaries.length;
  const r = await runMigration(base({ multifdChannels: 2 }));
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
  assert.ok(r.totals.bytesSent > 0);
  assert.equal(r.config.token, '(hidden)', 'the token stays out of the result');
  const [s] = (await receiver.waitForMigrations(before + 1)).slice(before);
  assert.equal(s.status, 'completed');
  assert.equal(s.streams, 2);
  // QEMU's count: every packet's payload and header once its connection wrote it, the syncs' too.
  const q = r.qemu!;
  const headers = q.multifdBytes! - q.normalPages * 4096 - 2 * 64;
  assert.ok(headers > 0 && headers % 1344 === 0, `${q.multifdBytes} multifd bytes, ${q.normalPages} normal pages`);
  assert.ok(headers / 1344 >= q.normalPages / 128, 'a 1,344-byte header per packet of at most 128 pages');
  assert.equal(
    s.bytes,
    r.totals.bytesSent + 32 + 32,
    'both hosts count the same bytes (the receiver also the Verify request: a 32-byte header and its 32-byte key)',
  );
});

for (const dirtyLog of ['bitmap', 'bitmap-chunked', 'two-level', 'ring'] as const) {
  test(`--dirty-log ${dirtyLog} over TCP completes verified`, async () => {
    const r = await runMigration(base({ dirtyLog, ringSizeEntries: 1024, multifdChannels: 3 }));
    assert.equal(r.status, 'completed', r.reason);
    assert.equal(r.verified, true);
  });
}

test('xbzrle and deflate over 2 connections (the round-based loop spreads frames) complete verified', async () => {
  const r = await runMigration(
    base({
      policy: 'qemu-rounds',
      multifdChannels: 2,
      codecs: ['zero', 'xbzrle', 'deflate'],
      compressThreads: 2,
    }),
  );
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
});

test('QEMU multifd over TCP keeps max-bandwidth, counting packets as their connections write them', async () => {
  const r = await runMigration(
    base({
      ramBytes: 8 * 1024 * 1024,
      pageWritesPerSec: 0,
      multifdChannels: 3,
      codecs: ['zero', 'lz4'],
      maxBandwidthBitsPerSec: 64e6,
    }),
  );
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
  assert.ok(r.qemu!.multifdBytes! > 0);
  // Loopback writes at Gbit/s (unlimited, this round would run at 1-10 Gbit/s): max-bandwidth holds
  // the pre-copy near 64 Mbit/s, over by what the accounting lags: each channel's packet counts
  // once written, 512 KiB of pages before lz4, so 3 channels have about a fifth of this 8 MiB round
  // out before it is counted, and how much more depends on when their threads run (2.15x seen once
  // in seven CI runs on this 2-core machine).
  const rate = r.iterations[0].achievedLinkBitsPerSec;
  assert.ok(rate > 64e6 * 0.5 && rate < 64e6 * 3, `${(rate / 1e6).toFixed(1)} Mbit/s against 64`);
});

test('--link paces over TCP: a 200 Mbit/s link is not exceeded', async () => {
  const r = await runMigration(base({ ramBytes: 8 * 1024 * 1024, pageWritesPerSec: 0, linkBitsPerSec: 200e6 }));
  assert.equal(r.status, 'completed', r.reason);
  const round0 = r.iterations[0];
  assert.ok(round0.achievedLinkBitsPerSec < 200e6 * 1.1, `${round0.achievedLinkBitsPerSec} bit/s`);
  assert.ok(round0.achievedLinkBitsPerSec > 200e6 * 0.5, `${round0.achievedLinkBitsPerSec} bit/s`);
});
