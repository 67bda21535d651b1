/** The link model (src/link/link.ts): one schedule for every world, shareable by several migrations. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Link, LinkShare, REAL_TIME_PACING, SIMULATED_PACING } from '../../src/link/link.js';
import { runMigration } from '../../src/driver/migrate.js';
import { smallConfig } from '../fixtures/migrate.js';

const MBIT = 1e6;
/** Bytes a 1 Mbit/s link carries in 1 ms. */
const BYTES_PER_MS_AT_1MBIT = 125;

test('frames go back to back at the link rate and arrive a latency after they end', () => {
  const share = new LinkShare(Link.create({ bitsPerSec: 8 * MBIT, latencyMs: 5 }), SIMULATED_PACING);
  const a = share.occupy(8 * BYTES_PER_MS_AT_1MBIT * 10, 0, true); // 10 ms of link
  assert.deepEqual(a, { startMs: 0, endMs: 10, arrivalMs: 15 });
  const b = share.occupy(8 * BYTES_PER_MS_AT_1MBIT * 10, 3, true); // sent at 3 ms: waits for the link
  assert.deepEqual(b, { startMs: 10, endMs: 20, arrivalMs: 25 });
  const c = share.occupy(8 * BYTES_PER_MS_AT_1MBIT, 50, true); // the link was free
  assert.deepEqual(c, { startMs: 50, endMs: 51, arrivalMs: 56 });
});

test('an unlimited link takes no time; a cap slows one migration only', () => {
  const free = new LinkShare(Link.create({ bitsPerSec: null, latencyMs: 0 }), SIMULATED_PACING);
  assert.deepEqual(free.occupy(1e9, 7, true), { startMs: 7, endMs: 7, arrivalMs: 7 });
  const link = Link.create({ bitsPerSec: 8 * MBIT, latencyMs: 0 });
  const capped = new LinkShare(link, SIMULATED_PACING);
  capped.setCap(4 * MBIT);
  assert.deepEqual(capped.occupy(8 * BYTES_PER_MS_AT_1MBIT * 10, 0, true), { startMs: 0, endMs: 20, arrivalMs: 20 });
  // The NIC itself was busy for 10 ms only: another migration's frame starts then.
  const other = new LinkShare(link, SIMULATED_PACING);
  assert.equal(other.occupy(8 * BYTES_PER_MS_AT_1MBIT * 10, 0, true).startMs, 10);
});

test('two migrations on one link take turns: each gets half of it', () => {
  const link = Link.create({ bitsPerSec: 8 * MBIT, latencyMs: 0 });
  const a = new LinkShare(link, SIMULATED_PACING);
  const b = new LinkShare(link, SIMULATED_PACING);
  let lastA = 0;
  let lastB = 0;
  for (let i = 0; i < 100; i++) {
    lastA = a.occupy(8 * BYTES_PER_MS_AT_1MBIT, Math.max(0, a.nextFree), false).endMs;
    lastB = b.occupy(8 * BYTES_PER_MS_AT_1MBIT, Math.max(0, b.nextFree), false).endMs;
  }
  // 200 frames of 1 ms each: the link is busy 200 ms, each migration's 100 frames end by then.
  assert.equal(Math.max(lastA, lastB), 200);
  assert.ok(lastA >= 199 && lastB >= 199, `${lastA} ${lastB}`);
});

test('real-time pacing catches up at most 20 ms after a late wake-up, and nothing after idling', () => {
  const share = new LinkShare(Link.create({ bitsPerSec: 8 * MBIT, latencyMs: 0 }), REAL_TIME_PACING);
  share.occupy(8 * BYTES_PER_MS_AT_1MBIT, 1000, true); // busy 1000-1001
  // The sender was descheduled 50 ms: the next frame starts 20 ms in the past, not 49.
  assert.equal(share.occupy(8 * BYTES_PER_MS_AT_1MBIT, 1050, false).startMs, 1030);
  // After idling, a frame starts now.
  assert.equal(share.occupy(8 * BYTES_PER_MS_AT_1MBIT, 2000, true).startMs, 2000);
});

test('a link attached from its shared memory is the same link', () => {
  const link = Link.create({ bitsPerSec: 8 * MBIT, latencyMs: 2 });
  const same = Link.attach(link.shared);
  assert.equal(same.bitsPerSec, 8 * MBIT);
  assert.equal(same.latencyMs, 2);
  new LinkShare(link, SIMULATED_PACING).occupy(8 * BYTES_PER_MS_AT_1MBIT * 10, 0, true);
  assert.equal(new LinkShare(same, SIMULATED_PACING).occupy(1, 0, true).startMs, 10);
});

test('two real-clock migrations sharing one link each get about half of it', async () => {
  const rate = 400 * MBIT;
  const config = smallConfig({ ramBytes: 16 * 1024 * 1024, pageWritesPerSec: 0, linkBitsPerSec: rate, latencyMs: 0 });
  const alone = await runMigration(config);
  const link = Link.create({ bitsPerSec: rate, latencyMs: 0 });
  const [a, b] = await Promise.all([runMigration(config, { link }), runMigration({ ...config, seed: 43 }, { link })]);
  for (const r of [alone, a, b]) {
    assert.equal(r.status, 'completed', r.reason);
    assert.equal(r.verified, true);
  }
  const round0 = (r: typeof a): number => r.iterations[0].achievedLinkBitsPerSec;
  assert.ok(round0(alone) > 0.8 * rate && round0(alone) < 1.1 * rate, `alone: ${round0(alone) / MBIT} Mbit/s`);
  // Their first copies overlap most of the time: each gets well under the whole link, and together not more.
  for (const r of [a, b]) assert.ok(round0(r) < 0.8 * rate, `shared: ${round0(r) / MBIT} Mbit/s`);
  assert.ok(round0(a) + round0(b) < 1.15 * rate, `together: ${(round0(a) + round0(b)) / MBIT} Mbit/s`);
});
