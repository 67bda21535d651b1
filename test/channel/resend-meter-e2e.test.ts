import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMigration } from '../../src/driver/migrate.js';
import { smallConfig } from '../fixtures/migrate.js';

// A guest whose writes land on pages before their round-0 copy: the plain bitmap sends those pages
// again unchanged in round 1; KVM's CLEAR_DIRTY_LOG clears just before the copy and does not.
const config = smallConfig({
  clock: 'virtual',
  ramBytes: 32 * 1024 * 1024,
  pageWritesPerSec: 20_000,
  linkBitsPerSec: 500e6,
  policy: 'xen',
  seed: 3,
});

test('the resend meter counts pages sent again unchanged, on the channel thread and in the sender', async () => {
  const onChannel = await runMigration(config); // raw frames: metered on the channel's thread
  const onDriver = await runMigration({ ...config, codecs: ['zero'] }); // codecs: metered by the sender
  assert.equal(onChannel.status, 'completed', onChannel.reason);
  assert.equal(onDriver.status, 'completed', onDriver.reason);
  for (const r of [onChannel, onDriver]) {
    assert.equal(r.iterations[0].pagesResentUnchanged, 0, 'nothing was sent before round 0');
    assert.ok(r.iterations[1].pagesResentUnchanged > 0, 'pages written before their round-0 copy go again unchanged');
    assert.ok(r.iterations.every((i) => i.pagesResentUnchanged <= i.pagesSent));
  }
  const chunked = await runMigration({ ...config, dirtyLog: 'bitmap-chunked' });
  const resent = (r: typeof chunked): number => r.iterations.reduce((n, i) => n + i.pagesResentUnchanged, 0);
  assert.ok(
    resent(chunked) < resent(onChannel),
    `chunked clearing resends fewer unchanged pages (${resent(chunked)} < ${resent(onChannel)})`,
  );
});
