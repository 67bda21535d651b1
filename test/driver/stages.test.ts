/**
 * The migration's stages on their own (src/driver/stages.ts), each over a fake migration: a
 * simulated clock, a transport, guest, dirty log, sender and records that only log what is asked
 * of them, in order. What each stage does, and in what order, is what QEMU's migration thread does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/clock/virtual.js';
import { FrameType } from '../../src/wire/frame.js';

const FRAME_NAMES: Partial<Record<FrameType, string>> = {
  [FrameType.DeviceState]: 'DeviceState',
  [FrameType.End]: 'End',
  [FrameType.Announce]: 'Announce',
};
import { deviceStateBytes } from '../../src/guest/device-state.js';
import {
  announce,
  configure,
  connect,
  precopy,
  resume,
  stopAndCopy,
  StopAndCopy,
  type Ending,
} from '../../src/driver/stages.js';
import type { Migration } from '../../src/driver/migration.js';
import type { PrecopyPort } from '../../src/precopy/port.js';
import type { IterationRecord } from '../../src/result/schema.js';

/** A migration whose parts log every call, `latencyMs` of link latency, on a simulated clock. */
function fakeMigration(o: { latencyMs?: number; postcopyAfterRounds?: number | null; encoding?: boolean } = {}) {
  const log: string[] = [];
  const clock = new VirtualClock();
  const at = (what: string) => () => log.push(`${what} @${clock.nowMs()}`);
  const kept: { record: IterationRecord; why: string }[] = [];
  const m = {
    config: { latencyMs: o.latencyMs ?? 5, seed: 1, vcpus: 2, postcopyAfterRounds: o.postcopyAfterRounds ?? null },
    clock,
    source: { layout: { pageCount: 64, pagesPerSlot: 64, pageSizeBytes: 4096 } },
    world: {
      clock,
      transport: { connect: async () => at('connect')(), open: async () => at('open')() },
      encoding: o.encoding ? { open: async () => at('encoding open')() } : undefined,
    },
    prepared: {
      dirtyLog: {
        start: at('dirty log start'),
        service: () => {},
        costs: { meter: { pay: async (_c: unknown, exact: boolean) => log.push(`pay exact=${exact}`) } },
      },
      guest: {
        pause: async (whileWaiting: () => void) => {
          whileWaiting();
          at('guest paused')();
        },
      },
    },
    controls: { limitRate: (r: number | null) => log.push(`limit rate ${r}`) },
    strategies: {
      aids: [
        {
          name: 'aid',
          start: () => log.push('aid start'),
          afterRound: () => {},
          finalRound: () => log.push('aid final round'),
        },
      ],
      loop: {
        name: 'fake',
        run: async () => {
          log.push('loop run');
          return { decision: { action: 'switchover' as const, why: 'converged' }, postcopyAfter: null };
        },
        final: async () => {
          log.push('loop final');
          await clock.sleepUntil(clock.nowMs() + 40);
          return {
            index: 3,
            phase: 'stop-and-copy',
            startMs: clock.nowMs() - 40,
            bytesSent: 1000,
            durationMs: 0,
          } as IterationRecord;
        },
      },
    },
    sender: {
      sendBlob: async (type: FrameType, body: Uint8Array, round: number) => {
        log.push(`frame ${FRAME_NAMES[type] ?? type} ${body.length} B round ${round}`);
        return 32 + body.length;
      },
    },
    records: {
      count: () => 4,
      delivered: async () => {
        await clock.sleepUntil(clock.nowMs() + 1);
        at('delivered')();
      },
      keep: (record: IterationRecord, why: string) => kept.push({ record, why }),
    },
    lastDecision: undefined as unknown,
    suspended: false,
  };
  return { m: m as unknown as Migration, log, kept, clock };
}

const PORT = { settings: { postcopy: false } } as PrecopyPort;

test('connect: the handshake, then a round trip of link latency', async () => {
  const { m, log, clock } = fakeMigration({ latencyMs: 5 });
  await connect(m);
  assert.deepEqual(log, ['connect @0']);
  assert.equal(clock.nowMs(), 10);
});

test('config: the target opens its memory, the encoders start, then one-way latency', async () => {
  const { m, log, clock } = fakeMigration({ latencyMs: 5, encoding: true });
  await configure(m);
  assert.deepEqual(log, ['open @0', 'encoding open @0']);
  assert.equal(clock.nowMs(), 5);
});

test('pre-copy: dirty logging on (its cost paid), the aids started, then the loop to its switch-over', async () => {
  const { m, log } = fakeMigration();
  const outcome = await precopy(m, PORT);
  assert.deepEqual(log, ['dirty log start @0', 'pay exact=true', 'aid start', 'loop run']);
  assert.deepEqual(outcome, { decision: { action: 'switchover', why: 'converged' }, postcopyAfter: null });
  assert.deepEqual(m.lastDecision, outcome.decision, 'the run remembers why pre-copy ended');
});

test('pre-copy: pure post-copy runs no loop', async () => {
  const { m, log } = fakeMigration({ postcopyAfterRounds: 0 });
  const outcome = await precopy(m, { settings: { postcopy: true } } as PrecopyPort);
  assert.ok(!log.includes('loop run'));
  assert.equal(outcome.postcopyAfter, 0);
});

test('stop-and-copy: the guest paused first, the rate limit lifted, the aids told, then the ending copies the device state', async () => {
  const { m, log, clock } = fakeMigration();
  await clock.sleepUntil(100);
  let copied: Uint8Array | undefined;
  const ending: Ending = {
    prepare: async () => {},
    copy: async (state) => {
      copied = state;
      log.push('ending copy');
    },
    resumeOnTarget: () => false,
    finish: async () => {},
  };
  const suspendAtMs = await stopAndCopy(m, ending);
  assert.equal(suspendAtMs, 100);
  assert.deepEqual(log, ['guest paused @100', 'limit rate null', 'aid final round', 'ending copy']);
  assert.equal(m.suspended, true);
  assert.equal(copied?.length, deviceStateBytes(2));
});

test("the stop-and-copy ending: the loop's last copy, then the device state in the same record, kept once delivered", async () => {
  const { m, log, kept } = fakeMigration();
  await new StopAndCopy(m, PORT).copy(new Uint8Array(100));
  assert.deepEqual(log, ['loop final', 'frame DeviceState 100 B round 3', 'delivered @41']);
  assert.equal(kept.length, 1);
  assert.equal(kept[0].why, 'guest suspended');
  assert.equal(kept[0].record.bytesSent, 1000 + 32 + 100, 'the device state counts in the round');
  assert.equal(kept[0].record.durationMs, 41, 'the round lasts until the device state arrived');
});

test('resume: the end frame, delivered, then the ending says whether the guest runs on the target', async () => {
  const { m, log } = fakeMigration();
  const onTarget = await resume(m, { resumeOnTarget: () => true } as unknown as Ending);
  assert.deepEqual(log, ['frame End 0 B round 4', 'delivered @1']);
  assert.equal(onTarget, true);
});

test('announce: a 60-byte reverse-ARP frame, delivered', async () => {
  const { m, log } = fakeMigration();
  await announce(m);
  assert.deepEqual(log, ['frame Announce 60 B round 4', 'delivered @1']);
});
