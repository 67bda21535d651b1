/**
 * The post-copy ending (--postcopy): at the switch-over only the device state goes, and what the
 * dirty log holds becomes what the target lacks; the guest then runs on the target, its vCPUs
 * blocking on missing pages, which the source sends first while it pushes the rest in the
 * background (src/driver/postcopy-push.ts). The guest's state is split between the hosts until
 * the last page has arrived: past that point a failure cannot fall back to the source.
 */
import type { PostcopyResult } from '../result/schema.js';
import type { GuestHost, GuestReport } from '../guest/host.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import { FrameType, HEADER_BYTES } from '../wire/frame.js';
import { encodeDiscards } from '../wire/postcopy.js';
import { encodeAdvise } from '../channel/postcopy-advise.js';
import { guestOptions } from '../world/world.js';
import type { RemotePostcopy } from '../channel/transport.js';
import type { Migration } from './migration.js';
import type { Ending } from './stages.js';
import { PostcopyPush } from './postcopy-push.js';
import type { PrecopyPort } from '../precopy/port.js';
import type { QemuStats } from '../result/schema.js';

type Measured = Omit<PostcopyResult, 'guestPageWrites' | 'blockedMsPerVcpu'>;

export class PostcopyEnding implements Ending {
  private readonly push: PostcopyPush;
  private targetGuest?: GuestHost;
  private measured?: Measured;
  /** QEMU's downtime: from the stop to the package (device state) written, ms; with QEMU's loop. */
  private qemuDowntimeMs?: number;
  /** The time every vCPU was blocked at once, where the guest measures it (the virtual clock's). */
  private allBlockedMs?: number;

  /** A target on another host, whose guest runs there (TCP); undefined: the target is in this process. */
  private readonly remote?: RemotePostcopy;

  constructor(
    private readonly m: Migration,
    /** The target's memory where it is in this process; null where it is on another host. */
    target: GuestMemory | null,
    /** Pre-copy rounds (QEMU's loop: dirty syncs) before the switch (0: pure post-copy). */
    private readonly afterRounds: number,
    private readonly port: PrecopyPort,
  ) {
    if (target === null) {
      this.remote = m.world.transport.remotePostcopy;
      if (!this.remote)
        throw new Error('post-copy needs a target memory here or a transport that runs the guest there');
    }
    // QEMU's background sweep goes on from just after a requested page (QEMU-POSTCOPY A3).
    this.push = new PostcopyPush(
      m.source,
      target,
      m.config.vcpus,
      m.strategies.loop.postcopySwitch !== undefined,
      this.remote,
    );
  }

  /** The guest that will run on the target: started now, parked until it resumes there (a remote target starts its own at the advise). */
  async prepare(): Promise<void> {
    const { world } = this.m;
    if (this.remote) return;
    if (!world.targetGuest) throw new Error("post-copy needs the target's vCPUs to run in this process");
    this.targetGuest = world.targetGuest(this.push.placement());
    await this.targetGuest.started();
  }

  /** Only the device state goes now; what is dirty becomes the target's missing set. */
  async copy(deviceState: Uint8Array): Promise<void> {
    const { m } = this;
    const { dirtyLog } = m.prepared;
    const { transport } = m.world;
    if (!transport.postcopy && !this.remote)
      throw new Error('this transport cannot deliver post-copy pages to a running target');
    const startMs = m.clock.nowMs();
    // What the sender wrote before the stop lands first (a send buffer's worth, on a slow link):
    // a stale page landing after the target learns what it lacks would pass for the fresh one.
    // QEMU's downtime does not count that wait; the guest's does.
    await m.records.delivered();
    const inFlightMs = m.clock.nowMs() - startMs;
    const { loop } = m.strategies;
    // The guest stopped: its vCPUs' streams go on from here on the target (a walk continues).
    this.push.continueFrom(m.prepared.guest.writesPerVcpu());
    let missing: number;
    if (loop.postcopySwitch) {
      // The loop's own switch: its last sync, and what it still holds to send.
      missing = this.push.setMissingLists(await loop.postcopySwitch(this.port));
    } else {
      missing = this.push.markMissing(m.sender, dirtyLog, this.afterRounds === 0);
      await dirtyLog.costs.meter.pay(m.clock, true);
    }
    let bytes = this.remote ? await this.advise() : 0;
    transport.postcopy?.trackArrivals();
    bytes += await m.sender.sendBlob(FrameType.DeviceState, deviceState, m.records.count());
    if (loop.postcopySwitch) this.qemuDowntimeMs = m.clock.nowMs() - startMs - inFlightMs;
    await m.records.delivered();
    m.records.keep(
      m.records.pagelessRound(startMs, missing, bytes),
      `guest suspended; ${missing} pages left for post-copy`,
    );
  }

  /**
   * Tells a remote target what it runs and what it lacks (src/wire/postcopy.ts), inside the
   * downtime as QEMU's discard ranges are; returns the bytes that took. Each step lands before the
   * next (copy() let what was in flight land first): the streams deliver in no order among
   * themselves.
   */
  private async advise(): Promise<number> {
    const { m } = this;
    const round = m.records.count();
    const { procedural, ...guest } = guestOptions(m.config, m.source);
    if (procedural !== null) throw new Error('post-copy to another host runs a materialized guest only');
    let bytes = await m.sender.sendBlob(
      FrameType.PostcopyAdvise,
      encodeAdvise({ guest, sourceWrites: [...new Float64Array(this.push.sourceWrites)] }),
      round,
    );
    await m.records.delivered();
    const room = m.source.slots[0].layout.frameBytes - HEADER_BYTES;
    for (const body of encodeDiscards(this.push.missingPages(), m.source.layout.pageCount, room))
      bytes += await m.sender.sendBlob(FrameType.Discard, body, round);
    await m.records.delivered();
    return bytes;
  }

  /** Pages the target still lacks (not sent yet): what is lost with the guest if the run fails now. */
  pagesLeft(): number {
    return this.push.pagesLeft();
  }

  resumeOnTarget(): boolean {
    this.targetGuest?.resume();
    return true;
  }

  /** The post-copy stage: every missing page, requested ones first. */
  async finish(): Promise<void> {
    const { m } = this;
    const tg = this.targetGuest;
    await m.stage('postcopy', async () => {
      const startMs = m.clock.nowMs();
      const writesAtStart = tg?.totalWrites() ?? 0;
      // QEMU's max-postcopy-bandwidth; once what is left is under it x the downtime limit, the
      // rest goes at once (10.0's end rule: completion sends everything left, unlimited).
      const cap = m.config.maxPostcopyBandwidthBitsPerSec;
      if (cap !== null) m.controls.limitRate(cap);
      const endBytes = cap === null ? 0 : (cap / 8 / 1000) * m.controls.downtimeLimitMs;
      await this.push.pushAll(m.sender, m.records.count(), (leftPages) => {
        if (cap !== null && leftPages * m.config.pageSizeBytes < endBytes) m.controls.limitRate(null);
      });
      await m.records.delivered();
      m.strategies.loop.countPostcopy?.(this.push.sentTotals);
      const durationMs = Math.max(m.clock.nowMs() - startMs, 1e-3);
      this.measured = {
        afterRounds: this.afterRounds,
        pagesMissingAtResume: this.push.missingAtResume,
        requests: this.push.requests(),
        pagesSentOnRequest: this.push.pagesSentOnRequest,
        pagesPushed: this.push.pagesPushed,
        lastPageArrivedMs: m.clock.nowMs(),
        // A remote target's guest: from its report (shutdown()).
        guestPageWritesPerSec: tg ? ((tg.totalWrites() - writesAtStart) * 1000) / durationMs : 0,
      };
    });
  }

  /**
   * Before the verdict: a guest that has every page is paused (none blocks any more); after a
   * failure it is only stopped later, as a vCPU waiting for a page that will not come cannot
   * acknowledge a pause.
   */
  async settle(failed: boolean): Promise<void> {
    if (this.targetGuest && !failed) await this.targetGuest.pause(() => {});
  }

  /**
   * QEMU's post-copy statistics (with QEMU's loop, once post-copy ran to its end): requests,
   * downtime as QEMU counts it, STOP to RESUME as the guest sees it, block time.
   */
  qemuStats(stopToResumeMs: number): Partial<QemuStats> {
    if (this.qemuDowntimeMs === undefined || this.measured === undefined) return {};
    const perVcpu = this.push.blockedMsPerVcpu();
    return {
      postcopyRequests: this.push.requests(),
      downtimeMs: this.qemuDowntimeMs,
      stopToResumeMs,
      postcopyVcpuBlocktimeMs: perVcpu,
      // Every vCPU blocked at once: with one vCPU, its own; the overlap of several where measured
      // (the virtual clock's guest), else unknown.
      postcopyBlocktimeMs: perVcpu.length === 1 ? perVcpu[0] : (this.allBlockedMs ?? null),
    };
  }

  /** Stops the target's guest; what post-copy measured, if it ran to its end. */
  async shutdown(): Promise<PostcopyResult | undefined> {
    const report: GuestReport | undefined = await this.targetGuest?.shutdown();
    this.allBlockedMs = report?.allBlockedMs;
    const r = this.measured;
    if (!r) return undefined;
    // A remote target's guest reported with its MAC: its writes, its requests and block times.
    const remote = this.remote?.report();
    if (remote) {
      r.guestPageWritesPerSec = remote.postcopyMs > 0 ? (remote.postcopyPageWrites * 1000) / remote.postcopyMs : 0;
      r.requests = remote.requests;
    }
    return {
      afterRounds: r.afterRounds,
      pagesMissingAtResume: r.pagesMissingAtResume,
      requests: r.requests,
      pagesSentOnRequest: r.pagesSentOnRequest,
      pagesPushed: r.pagesPushed,
      blockedMsPerVcpu: this.push.blockedMsPerVcpu(),
      lastPageArrivedMs: r.lastPageArrivedMs,
      guestPageWritesPerSec: r.guestPageWritesPerSec,
      guestPageWrites: report?.pageWrites ?? remote?.pageWrites ?? 0,
    };
  }
}
