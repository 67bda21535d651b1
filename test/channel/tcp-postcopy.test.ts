/**
 * Post-copy over TCP: after the switch-over the guest runs on the receiver, its vCPUs continuing
 * the source's writes, blocking on pages the discard frames marked missing and requesting them
 * over the connection's return direction; the MAC checks what the source sent. A connection lost
 * in post-copy fails both sides saying the guest is lost; a page changed on the way fails the MAC.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { resolveRunConfig } from '../../src/config/options.js';
import { runMigration } from '../../src/driver/migrate.js';
import { FrameType, HEADER_BYTES } from '../../src/wire/frame.js';
import { startReceiver } from '../fixtures/receiver.js';
import { xxh64 } from '../fixtures/wire-client.js';
import { startFrameProxy } from '../fixtures/frame-proxy.js';

const receiver = await startReceiver();
after(() => receiver.server.close());

const options = (port: number, more: Record<string, string> = {}) =>
  resolveRunConfig({
    target: `tcp://127.0.0.1:${port}`,
    ram: '16MiB',
    dirtyRate: '20000pages/s',
    link: '1Gbit/s',
    // QEMU's loop: its set-up sync is the first, so the switch comes before any page is sent.
    postcopyAfter: '1',
    seed: '3',
    ...more,
  });

test('post-copy to a receiver: the guest runs there, requests pages, and the run completes verified', async () => {
  const before = receiver.summaries.length;
  const r = await runMigration(options(receiver.address.port));
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
  const pc = r.postcopy;
  assert.ok(pc, 'a post-copy section');
  assert.equal(pc.pagesMissingAtResume, 4096, 'nothing was sent before the switch: every page is missing');
  assert.ok(pc.requests > 0, 'the target vCPUs blocked on missing pages and asked for them');
  assert.equal(pc.blockedMsPerVcpu.length, 2);
  // Blocked time is the vCPUs' own, on the real clock: on a loaded machine a vCPU thread may not be
  // scheduled in the ~0.1 s the pages take to arrive, so only that some vCPU blocked is certain.
  assert.ok(
    pc.blockedMsPerVcpu.every((ms) => ms >= 0) && pc.blockedMsPerVcpu.some((ms) => ms > 0),
    String(pc.blockedMsPerVcpu),
  );
  assert.ok(pc.guestPageWrites > 0, "the target's guest wrote (its report came back)");
  assert.equal(pc.pagesSentOnRequest + pc.pagesPushed, pc.pagesMissingAtResume);
  assert.equal(r.qemu?.postcopyRequests, pc.requests);
  const [summary] = await receiver.waitForMigrations(before + 1).then((s) => s.slice(before));
  assert.equal(summary.status, 'completed', summary.reason);
});

test('post-copy over 2 connections with codecs completes verified', async () => {
  // QEMU 10.0 takes no post-copy with multifd: the round-based loop, its frames over both connections.
  const r = await runMigration(
    options(receiver.address.port, { policy: 'qemu-rounds', multifd: '2', codec: 'zero,lz4', vcpus: '3' }),
  );
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
  assert.equal(r.postcopy?.blockedMsPerVcpu.length, 3);
});

test('a connection dropped in post-copy: both sides fail saying the guest is lost', async () => {
  const before = receiver.summaries.length;
  const t0 = performance.now();
  // Round 2 follows stop-and-copy: the end of migration, the announce, then post-copy's pages.
  const r = await runMigration(options(receiver.address.port, { fault: 'drop@2+4' }));
  assert.equal(r.status, 'failed');
  assert.equal(r.sourceRunning, false, 'past the resume the guest cannot fall back to the source');
  assert.match(
    r.reason ?? '',
    /injected fault drop@2\+4\) during post-copy, with [\d,]+ pages not yet sent: .*the guest is lost/,
  );
  assert.ok(performance.now() - t0 < 10_000);
  const [summary] = await receiver.waitForMigrations(before + 1).then((s) => s.slice(before));
  assert.equal(summary.status, 'failed');
  assert.match(
    summary.reason ?? '',
    /the guest ran here in post-copy with [\d,]+ pages still on the source: it is lost/,
  );
});

test('a post-copy page changed on the way, its checksum fixed: the MAC fails the run', async () => {
  let changed = 0;
  let ended = false;
  const proxy = await startFrameProxy(receiver.address.port, (frame) => {
    const type = frame.readUInt16LE(6);
    if (type === FrameType.End) ended = true;
    if (ended && type === FrameType.Pages && changed === 0) {
      // The last byte of the frame's last page, then the frame's checksum made right again.
      frame[frame.length - 1] ^= 0x5a;
      frame.writeBigUInt64LE(xxh64(frame.subarray(HEADER_BYTES)), 24);
      changed++;
    }
  });
  try {
    const r = await runMigration(options(proxy.port, { content: 'random' }));
    assert.equal(changed, 1, 'the proxy changed a page sent after the resume');
    assert.equal(r.status, 'failed');
    assert.equal(r.verified, false);
    assert.match(r.reason ?? '', /verification failed: the target's HMAC-SHA256 digest/);
  } finally {
    proxy.close();
  }
});
