/**
 * The in-process world (src/world/in-process.ts): real time, vCPUs on worker threads, the target's
 * memory in this process behind a receiving thread; what it gives the driver, and that its parts
 * run as it says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildWorld } from '../fixtures/world.js';
import { shapeOf } from '../../src/world/world.js';

test('the in-process world: a real clock, a transport with the resend meter and post-copy arrivals, guests on threads', async () => {
  const w = await buildWorld({ dirtyRate: '20MB/s' });
  try {
    assert.equal(w.name, 'in-process');
    const { world } = w;
    assert.equal(world.clock.kind, 'real');
    assert.equal(world.transport.checksums, false, 'no wire in process: no checksums');
    assert.ok(world.transport.resendMeter, 'raw frames are metered on the receiving thread');
    assert.ok(world.transport.postcopy, 'a post-copy target runs here');
    assert.equal(world.transport.pageRefs, undefined);
    assert.equal(world.transport.faults, undefined);
    assert.equal(world.encoding, undefined, 'no codecs, no encoding');
    assert.ok(world.targetGuest, 'the target guest of a post-copy runs in this process');
    await world.transport.prepare();
    await world.transport.connect();
    await world.transport.open(shapeOf(w.source));
    const guest = world.sourceGuest(w.dirtyLog.markMode);
    await guest.started();
    const pace = await world.measurePace(guest);
    assert.ok(pace > 0, `the guest writes (${pace.toFixed(0)} page writes/s measured)`);
    await guest.shutdown();
  } finally {
    await w.release();
  }
});

test('the in-process world with codecs: an encoding, and the sender meters resends itself', async () => {
  const w = await buildWorld({ codec: 'zero,lz4' });
  try {
    assert.ok(w.world.encoding);
    assert.equal(w.world.transport.resendMeter, undefined);
  } finally {
    await w.release();
  }
});
