/**
 * The stages of a migration, each a small function over the run's state (src/driver/migration.ts),
 * as QEMU's migration thread runs its own (migration_iteration_run and the completion): connect,
 * config, pre-copy, then an ending (stop-and-copy, or post-copy: src/driver/postcopy.ts) that
 * suspends the guest, copies, resumes on the target; then the announce.
 */
import type { IterationRecord } from '../result/schema.js';
import type { PrecopyOutcome } from '../precopy/loop.js';
import type { PrecopyPort } from '../precopy/port.js';
import { shapeOf } from '../world/world.js';
import { FrameType } from '../wire/frame.js';
import { deviceStateBytes, deviceStateImage } from '../guest/device-state.js';
import type { Migration } from './migration.js';

/** Bytes of a reverse-ARP announce packet (an Ethernet frame of minimum size). */
const ANNOUNCE_PACKET_BYTES = 60;

/** How a migration ends after pre-copy: the stop-and-copy kind, or post-copy. */
export interface Ending {
  /** Before the guest is suspended (post-copy: the target's guest starts, parked). */
  prepare(): Promise<void>;
  /** The guest suspended: sends what this ending sends in the downtime, the device state last, and keeps its record. */
  copy(deviceState: Uint8Array): Promise<void>;
  /** The target has everything it needs to run: whether the guest now runs there before every page has arrived. */
  resumeOnTarget(): boolean;
  /** After the announce: what is left (post-copy sends the pages the target still lacks). */
  finish(): Promise<void>;
}

/** The connect stage: the handshake, a round trip. */
export async function connect(m: Migration): Promise<void> {
  const { clock, transport } = m.world;
  await transport.connect();
  await clock.sleepUntil(clock.nowMs() + 2 * m.config.latencyMs); // handshake round trip
}

/** The config stage: the target claims its (preallocated) memory and starts receiving; the configuration crosses. */
export async function configure(m: Migration): Promise<void> {
  const { clock, transport, encoding } = m.world;
  await transport.open(shapeOf(m.source));
  await encoding?.open();
  await clock.sleepUntil(clock.nowMs() + m.config.latencyMs); // configuration reaches the target
}

/** The pre-copy stage: dirty logging on, the aids started, the loop run to its switch-over. */
export async function precopy(m: Migration, port: PrecopyPort): Promise<PrecopyOutcome> {
  const { dirtyLog } = m.prepared;
  dirtyLog.start();
  await dirtyLog.costs.meter.pay(m.clock, true); // enabling dirty logging
  for (const aid of m.strategies.aids) aid.start?.(m.controls);
  // Pure post-copy skips pre-copy, unless the loop switches itself (QEMU's: after its set-up sync).
  const outcome: PrecopyOutcome =
    port.settings.postcopy && m.config.postcopyAfterRounds === 0 && !m.strategies.loop.postcopySwitch
      ? { decision: { action: 'switchover', why: 'pure post-copy: no pre-copy round' }, postcopyAfter: 0 }
      : await m.strategies.loop.run(port);
  m.lastDecision = outcome.decision;
  return outcome;
}

/**
 * The stop-and-copy stage: the guest suspended (a barrier: no vCPU is mid-write past it), the rate
 * limit lifted, the aids' last say, then the ending's copy. Returns when the guest was suspended.
 */
export async function stopAndCopy(m: Migration, ending: Ending): Promise<number> {
  const { config, controls } = m;
  const suspendAtMs = m.clock.nowMs();
  const { dirtyLog, guest } = m.prepared;
  await guest.pause(() => dirtyLog.service(m.clock.nowMs()));
  m.suspended = true;
  m.suspendedAtMs = suspendAtMs;
  controls.limitRate(null); // QEMU lifts max-bandwidth at switchover
  for (const aid of m.strategies.aids) aid.finalRound?.(controls);
  await ending.copy(deviceStateImage(config.seed, deviceStateBytes(config.vcpus)));
  return suspendAtMs;
}

/** The resume stage: the end of the stream reaches the target, which loads the device state and runs the guest. */
export async function resume(m: Migration, ending: Ending): Promise<boolean> {
  await m.sender.sendBlob(FrameType.End, new Uint8Array(0), m.records.count());
  await m.records.delivered(); // the target has loaded the device state and runs the guest
  return ending.resumeOnTarget();
}

/** The announce stage: the reverse-ARP packet that tells the network where the guest lives now. */
export async function announce(m: Migration): Promise<void> {
  await m.sender.sendBlob(FrameType.Announce, new Uint8Array(ANNOUNCE_PACKET_BYTES), m.records.count());
  await m.records.delivered();
}

/** The stop-and-copy ending: the loop's last copy of what remains, then the device state; the guest resumes once all is there. */
export class StopAndCopy implements Ending {
  constructor(
    private readonly m: Migration,
    private readonly port: PrecopyPort,
  ) {}

  async prepare(): Promise<void> {}

  async copy(deviceState: Uint8Array): Promise<void> {
    const { m } = this;
    const it: IterationRecord = await m.strategies.loop.final(this.port);
    it.bytesSent += await m.sender.sendBlob(FrameType.DeviceState, deviceState, it.index);
    // QEMU stops its downtime clock once the last byte is written, before what a send buffer holds
    // has arrived; the guest's downtime runs until it resumes on the target.
    if (m.strategies.loop.qemuStats) m.qemuDowntimeMs = m.clock.nowMs() - m.suspendedAtMs;
    await m.records.delivered();
    it.durationMs = m.clock.nowMs() - it.startMs;
    m.records.keep(it, 'guest suspended');
  }

  resumeOnTarget(): boolean {
    return false;
  }

  async finish(): Promise<void> {}
}
