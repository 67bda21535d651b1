import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMigration } from '../../src/driver/migrate.js';
import { smallConfig } from '../fixtures/migrate.js';

// The round-based rule: each round resends what was dirtied, so xbzrle has pages to hit. (QEMU's own
// loop starts xbzrle only once its scan has wrapped; test/precopy/qemu-loop.test.ts covers that.)
const base = smallConfig({
  ramBytes: 32 * 1024 * 1024,
  pageWritesPerSec: 20_000,
  linkBitsPerSec: 1e9,
  seed: 5,
  policy: 'qemu-rounds',
});

test('zero,xbzrle,lz4 on 2 compression threads migrates verified, with fewer bytes than raw and xbzrle hits', async () => {
  const raw = await runMigration({ ...base, clock: 'virtual' });
  const coded = await runMigration({
    ...base,
    clock: 'virtual',
    codecs: ['zero', 'xbzrle', 'lz4'],
    compressThreads: 2,
  });
  assert.equal(coded.status, 'completed', coded.reason);
  assert.equal(coded.verified, true);
  assert.ok(coded.totals.bytesSent < raw.totals.bytesSent, `${coded.totals.bytesSent} < ${raw.totals.bytesSent}`);
  const c = coded.totals.codec;
  assert.ok(c, 'codec totals');
  assert.ok(c.zeroPages > 0, 'a quarter of the guest is zero pages');
  assert.ok(c.xbzrleCacheHits > 0, 'pages sent again hit the cache');
  assert.ok((c.ratio ?? 0) > 1);
  assert.ok(
    coded.iterations.every((i) => i.codec !== undefined),
    'per-round codec statistics',
  );
});

for (const codecs of [['zero', 'lz4'], ['deflate'], ['xbzrle']] as const) {
  test(`--codec ${codecs.join(',')} migrates verified on the real clock`, async () => {
    // A light writer: deflate on the driver's thread is slower than this link, as it should show.
    const r = await runMigration({
      ...base,
      pageWritesPerSec: 3000,
      codecs: [...codecs],
      compressThreads: codecs.length > 1 ? 2 : 0,
    });
    assert.equal(r.status, 'completed', r.reason);
    assert.equal(r.verified, true);
  });
}
