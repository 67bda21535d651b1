/**
 * The TCP world (src/world/tcp.ts): real time, a `migbench receive` on another host (here, one in
 * this process on loopback); what it gives the driver, and its handshake.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildWorld } from '../fixtures/world.js';
import { startReceiver } from '../fixtures/receiver.js';
import { formatHostPort } from '../../src/wire/address.js';
import { shapeOf } from '../../src/world/world.js';

const receiver = await startReceiver({ token: 'world' });
after(() => receiver.server.close());

test('the TCP world: a real clock, a checksummed transport with fault injection, no target guest here', async () => {
  const w = await buildWorld({ target: `tcp://${formatHostPort(receiver.address)}`, token: 'world' });
  try {
    const { world } = w;
    assert.equal(w.name, 'tcp');
    assert.equal(w.target, null, "the target's memory is the receiver's");
    assert.equal(world.clock.kind, 'real');
    assert.equal(world.transport.checksums, true);
    assert.ok(world.transport.faults);
    assert.equal(world.transport.faults.fired(), false);
    assert.equal(world.transport.postcopy, undefined);
    assert.equal(world.transport.resendMeter, undefined, 'the sender meters resends itself');
    assert.equal(world.targetGuest, undefined, "the target's vCPUs would run on the receiver");
    await world.transport.prepare();
    await world.transport.connect();
    await world.transport.open(shapeOf(w.source));
  } finally {
    await w.release();
  }
});

test('the TCP world fails its connect stage, with the reason, when the receiver refuses the token', async () => {
  const w = await buildWorld({ target: `tcp://${formatHostPort(receiver.address)}`, token: 'wrong' });
  try {
    await w.world.transport.prepare();
    await assert.rejects(w.world.transport.connect(), /the TLS handshake failed: the tokens differ/);
  } finally {
    await w.release();
  }
});
