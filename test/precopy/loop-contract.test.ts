/**
 * The contract every pre-copy loop keeps, checked on each built-in loop (and a user's, through the
 * same port) against a fake port (test/fixtures/fake-port.ts): no memory, no threads, no channel.
 * run() sends every page at least once and ends in a switch-over; after the guest stops, final()
 * sends what is left, so the target holds every page's last version; records are kept in order;
 * checkpoint() is called, so a timeout ends a loop that would not converge; and what a loop
 * declares it takes is what the option check refuses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeGuest, type FakeGuestOptions } from '../fixtures/fake-port.js';
import { PRECOPY_LOOPS } from '../../src/precopy/registry.js';
import { PrecopyFailure, loopRefusal, type LoopUse, type PrecopyLoop } from '../../src/precopy/loop.js';
import { UserLoop, USER_LOOP } from '../../src/precopy/user-loop.js';

const KINDS = Object.values(PRECOPY_LOOPS);

/** Runs a loop to its end over a fake guest: pre-copy, the guest stopped, the final copy. */
async function migrate(loop: PrecopyLoop, o: FakeGuestOptions): Promise<{ guest: FakeGuest; finalPages: number }> {
  const guest = new FakeGuest(o);
  const port = guest.port();
  const outcome = await loop.run(port);
  assert.equal(outcome.decision.action, 'switchover', `${loop.name}: run() ends in a switch-over`);
  assert.equal(outcome.postcopyAfter, null);
  guest.running = false;
  const last = await loop.final(port);
  assert.equal(last.phase, 'stop-and-copy');
  return { guest, finalPages: last.pagesSent };
}

const GUESTS: [string, FakeGuestOptions][] = [
  ['one slot, idle', { slots: [512], writesPerMs: 0 }],
  ['one slot, written', { slots: [512], writesPerMs: 0.05, seed: 7, failAtCheckpoint: 10_000 }],
  ['three uneven slots, written', { slots: [300, 64, 129], writesPerMs: 0.1, seed: 3, failAtCheckpoint: 10_000 }],
];

for (const kind of KINDS) {
  for (const [what, o] of GUESTS) {
    test(`${kind.name} loop, ${what}: every page sent, and after final() the target holds every page's last version`, async () => {
      const { guest } = await migrate(kind.create(), o);
      for (const t of guest.target)
        assert.ok(
          t.every((v) => v >= 0),
          'every page was sent at least once',
        );
      assert.equal(guest.differing(), 0, 'no page lost');
      assert.deepEqual(
        guest.kept.map((k) => k.record.index),
        guest.kept.map((_, i) => i),
        'records are kept in order, from 0',
      );
      assert.ok(
        guest.kept.every((k) => k.record.phase === 'precopy' && k.why.length > 0),
        'each with what was decided',
      );
    });
  }

  test(`${kind.name} loop: a checkpoint that throws (a timeout) ends a loop that does not converge`, async () => {
    const guest = new FakeGuest({ slots: [256], writesPerMs: 50, failAtCheckpoint: 20, decide: continueForever });
    await assert.rejects(kind.create().run(guest.port()), /timeout \(fake\)/);
  });
}

function continueForever(): { action: 'continue'; why: string } {
  return { action: 'continue', why: 'never done' };
}

test('the round-based loop asks the policy after every round, and a policy that gives up fails pre-copy', async () => {
  const { guest } = await migrate(PRECOPY_LOOPS.rounds.create(), { slots: [256], writesPerMs: 0.05 });
  assert.equal(guest.decisions, guest.kept.length);
  const giving = new FakeGuest({ slots: [64], decide: () => ({ action: 'fail', why: 'too hot' }) });
  await assert.rejects(
    PRECOPY_LOOPS.rounds.create().run(giving.port()),
    (e: unknown) => e instanceof PrecopyFailure && /too hot/.test(e.message),
  );
});

test("QEMU's loop keeps its rate limit in whole flushes: each 100 ms window sends its budget rounded up to 32 pages", async () => {
  const bitsPerSec = 8_000_000; // 1000 bytes per ms, the fake link's own rate halved below
  const guest = new FakeGuest({ slots: [512], bytesPerMs: 2000, maxBandwidthBitsPerSec: bitsPerSec });
  await PRECOPY_LOOPS.qemu.create().run(guest.port());
  const bytes = guest.pagesSent * guest.pageSizeBytes;
  // QEMUFile counts bytes when it flushes, every 32 normal pages: a window's 100,000-byte budget
  // lets 32 pages (131 kB) go, never more.
  const windowBytes = Math.ceil(100_000 / (32 * (guest.pageSizeBytes + 8))) * 32 * guest.pageSizeBytes;
  assert.ok(guest.nowMs >= (bytes / windowBytes) * 100 - 100, `${guest.nowMs} ms for ${bytes} bytes`);
  assert.ok(
    guest.nowMs <= (bytes / windowBytes) * 100 + 200,
    `${guest.nowMs} ms for ${bytes} bytes: slower than the limit`,
  );
});

test("a user's loop runs over the same port", async () => {
  const user = new UserLoop(
    {
      name: 'two-rounds',
      async run(ctx) {
        ctx.record(await ctx.sendRound(true), 'all pages');
        ctx.checkpoint();
        ctx.record(await ctx.sendRound(false), 'what was dirtied');
        return { action: 'switchover', why: 'two rounds done' };
      },
    },
    { file: 'inline', options: {} },
  );
  const { guest } = await migrate(user, { slots: [128, 128], writesPerMs: 0.05 });
  assert.equal(guest.kept.length, 2);
  assert.equal(guest.differing(), 0);
});

test('what a loop declares it takes is what the option check refuses', () => {
  const none: LoopUse = {
    options: {
      maxIterations: false,
      postcopyAfter: false,
      postcopy: false,
      postcopyAt: false,
      maxPostcopyBandwidth: false,
      multifd: false,
      sdps: false,
      adaptiveRate: false,
      downtimeRamp: false,
    },
    xbzrleCache: null,
  };
  for (const kind of [...KINDS, USER_LOOP]) {
    assert.equal(loopRefusal(kind, none), null, `${kind.name} takes a plain run`);
    for (const option of Object.keys(none.options) as (keyof LoopUse['options'])[]) {
      const use = { ...none, options: { ...none.options, [option]: true } };
      const refusal = loopRefusal(kind, use);
      assert.equal(refusal === null, kind.takes.includes(option), `${kind.name} and ${option}`);
      if (refusal) assert.equal(refusal.option, option);
    }
  }
  const odd = { ...none, xbzrleCache: { bytes: 48 * 2 ** 20, text: '48 MiB' } };
  assert.match(loopRefusal(PRECOPY_LOOPS.qemu, odd)?.why ?? '', /power-of-two --xbzrle-cache.*got 48 MiB/);
  assert.equal(loopRefusal(PRECOPY_LOOPS.rounds, odd), null);
});
