/**
 * The virtual world (src/world/virtual.ts): simulated time, the guest advanced by the clock on the
 * driver's thread, pages by reference to an unpaced receiving thread; what it gives the driver.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildWorld } from '../fixtures/world.js';

test('the virtual world: a simulated clock, and a guest that writes exactly its rate as the clock moves, nothing between', async () => {
  const w = await buildWorld({ clock: 'virtual', dirtyRate: '40MB/s' });
  try {
    const { world, config } = w;
    assert.equal(w.name, 'virtual');
    assert.equal(world.clock.kind, 'virtual');
    assert.ok(world.transport.pageRefs, 'raw pages go by reference');
    assert.ok(world.transport.resendMeter);
    assert.equal(world.transport.postcopy, undefined, 'frames are received on a thread: no post-copy arrivals');
    const guest = world.sourceGuest(w.dirtyLog.markMode);
    await guest.started();
    assert.equal(await world.measurePace(guest), config.pageWritesPerSec, 'its pace is its rate');
    world.start();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(guest.totalWrites(), 0, 'real time passing writes nothing');
    await world.clock.sleepUntil(100);
    const writes = guest.totalWrites();
    assert.ok(
      Math.abs(writes - config.pageWritesPerSec / 10) <= config.vcpus,
      `${writes} writes in 100 ms of simulated time`,
    );
    await guest.shutdown();
  } finally {
    await w.release();
  }
});

test('the virtual world for post-copy receives every frame on the driver thread (blocked vCPUs see pages arrive in simulated time)', async () => {
  const w = await buildWorld({ clock: 'virtual', policy: 'qemu-rounds', postcopy: true });
  try {
    assert.ok(w.world.transport.postcopy);
    assert.equal(w.world.transport.pageRefs, undefined);
    assert.ok(w.world.targetGuest);
  } finally {
    await w.release();
  }
});

test('the virtual world with codecs packs frames (no page references)', async () => {
  const w = await buildWorld({ clock: 'virtual', codec: 'zero' });
  try {
    assert.ok(w.world.encoding);
    assert.equal(w.world.transport.pageRefs, undefined);
  } finally {
    await w.release();
  }
});
