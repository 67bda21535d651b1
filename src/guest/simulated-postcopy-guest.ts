/**
 * The post-copy guest under the virtual clock: PostcopyVcpus advanced by the clock, parked until
 * resume(). A vCPU that touches a page not yet arrived requests it and blocks; it goes on, at the
 * clock's next step, once the page is there.
 */
import type { GuestShape } from '../protocol.js';
import type { GuestHost, GuestOptions, GuestReport } from './host.js';
import type { VirtualClock } from '../clock/virtual.js';
import type { PostcopyPlacement } from './guest.js';
import { PostcopyVcpu } from './postcopy-vcpu.js';
import { advanceVcpus, endBlocks, type ClockedVcpu, type VcpuSteps } from './clocked-vcpus.js';

interface SimulatedVcpu extends ClockedVcpu {
  cpu: PostcopyVcpu;
}

/** A vCPU blocks on a page that has not arrived, and requests it. */
const STEPS: VcpuSteps<SimulatedVcpu> = {
  mayWrite: (v) => !v.cpu.isMissing(v.cpu.nextPage()),
  block: (v) => v.cpu.request(v.cpu.nextPage()),
  write: (v) => v.cpu.write(),
  addBlockedMs: (v, ms) => { v.cpu.requests.stallMs[0] += ms; },
};

export class SimulatedPostcopyGuest implements GuestHost {
  private readonly vcpus: SimulatedVcpu[];
  private readonly periodMs: number;
  private paused = true;
  private liveMs = 0;
  private liveSinceMs = 0;

  constructor(config: GuestOptions, where: PostcopyPlacement, guest: GuestShape, private readonly clock: VirtualClock) {
    this.periodMs = config.pageWritesPerSec > 0 ? (1000 * config.vcpus) / config.pageWritesPerSec : Infinity;
    this.vcpus = Array.from({ length: config.vcpus }, (_, vcpu) => ({
      cpu: new PostcopyVcpu({
        vcpu, vcpus: config.vcpus, guest, pattern: config.pattern, writeSizeBytes: config.writeSizeBytes,
        seed: config.seed, content: config.content, targetSlots: where.targetSlots, shadowSlots: where.shadowSlots,
        requests: where.requestRings[vcpu],
      }),
      nextWriteMs: 0,
      writes: 0,
      blockedSinceMs: null,
    }));
    clock.onAdvance((from, to) => this.advance(from, to));
  }

  async started(): Promise<void> {}

  private advance(fromMs: number, toMs: number): void {
    if (!this.paused) advanceVcpus(this.vcpus, fromMs, toMs, this.periodMs, STEPS);
  }

  async pause(): Promise<void> {
    if (this.paused) return;
    this.paused = true;
    this.liveMs += this.clock.nowMs() - this.liveSinceMs;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const now = this.clock.nowMs();
    this.liveSinceMs = now;
    this.vcpus.forEach((v, i) => { v.nextWriteMs = now + (i === 0 ? 0 : (this.periodMs * i) / this.vcpus.length); });
  }

  setThrottle(): void {}

  totalWrites(): number {
    return this.vcpus.reduce((n, v) => n + v.writes, 0);
  }

  async shutdown(): Promise<GuestReport> {
    const now = this.clock.nowMs();
    endBlocks(this.vcpus, now, STEPS);
    const liveMs = this.liveMs + (this.paused ? 0 : now - this.liveSinceMs);
    const pageWrites = this.totalWrites();
    return { pageWrites, achievedPageWritesPerSec: liveMs > 0 ? (pageWrites * 1000) / liveMs : 0 };
  }
}
