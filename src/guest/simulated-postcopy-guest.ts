/**
 * The post-copy guest under the virtual clock: PostcopyVcpus advanced by the clock, parked until
 * resume(). A vCPU that touches a page not yet arrived requests it and blocks; it goes on, at the
 * clock's next step, once the page is there.
 */
import type { GuestShape } from '../memory/layout.js';
import type { GuestOptions, GuestReport } from './host.js';
import type { VirtualClock } from '../clock/virtual.js';
import type { PostcopyPlacement } from './guest.js';
import { PostcopyVcpu } from './postcopy-vcpu.js';
import { ClockedGuest, endBlocks, type ClockedVcpu, type VcpuSteps } from './clocked-vcpus.js';

interface SimulatedVcpu extends ClockedVcpu {
  cpu: PostcopyVcpu;
  /** Its blocks, [start, end) in simulated ms, in order. */
  blocks: Array<[number, number]>;
}

/** A vCPU blocks on a page that has not arrived, and requests it. */
const STEPS: VcpuSteps<SimulatedVcpu> = {
  mayWrite: (v) => !v.cpu.isMissing(v.cpu.nextPage()),
  block: (v) => v.cpu.request(v.cpu.nextPage()),
  write: (v) => v.cpu.write(),
  addBlockedMs: (v, ms) => {
    v.cpu.requests.stallMs[0] += ms;
    const start = v.blockedSinceMs ?? 0;
    if (ms > 0) v.blocks.push([start, start + ms]);
  },
};

/** The time every list's intervals cover at once: their intersection's length (each list in order, disjoint). */
export function allCoveredMs(lists: ReadonlyArray<ReadonlyArray<[number, number]>>): number {
  if (lists.length === 0) return 0;
  let common: Array<[number, number]> = [...lists[0]];
  for (const list of lists.slice(1)) {
    const next: Array<[number, number]> = [];
    let i = 0;
    let j = 0;
    while (i < common.length && j < list.length) {
      const start = Math.max(common[i][0], list[j][0]);
      const end = Math.min(common[i][1], list[j][1]);
      if (end > start) next.push([start, end]);
      if (common[i][1] < list[j][1]) i++;
      else j++;
    }
    common = next;
  }
  return common.reduce((n, [a, b]) => n + b - a, 0);
}

export class SimulatedPostcopyGuest extends ClockedGuest<SimulatedVcpu> {
  protected readonly vcpus: SimulatedVcpu[];
  protected readonly steps = STEPS;

  constructor(config: GuestOptions, where: PostcopyPlacement, guest: GuestShape, clock: VirtualClock) {
    super(clock, config.pageWritesPerSec > 0 ? (1000 * config.vcpus) / config.pageWritesPerSec : Infinity, true);
    this.vcpus = Array.from({ length: config.vcpus }, (_, vcpu) => ({
      cpu: new PostcopyVcpu({
        vcpu,
        vcpus: config.vcpus,
        guest,
        pattern: config.pattern,
        writeSizeBytes: config.writeSizeBytes,
        seed: config.seed,
        writeSeed: config.writeSeed,
        content: config.content,
        procedural: config.procedural,
        targetSlots: where.targetSlots,
        shadowSlots: where.shadowSlots,
        requests: where.requestRings[vcpu],
        sourceWrites: where.sourceWrites,
      }),
      nextWriteMs: 0,
      writes: 0,
      blockedSinceMs: null,
      blocks: [],
    }));
  }

  protected onResume(nowMs: number): void {
    this.vcpus.forEach((v, i) => {
      v.nextWriteMs = nowMs + (i === 0 ? 0 : (this.periodMs * i) / this.vcpus.length);
    });
  }

  /** The post-copy guest is not throttled. */
  setThrottle(): void {}

  protected override onShutdown(nowMs: number): void {
    endBlocks(this.vcpus, nowMs, STEPS);
  }

  /** What it did, and the time all its vCPUs were blocked at once (QEMU's postcopy-blocktime). */
  override async shutdown(): Promise<GuestReport> {
    const report = await super.shutdown();
    return { ...report, allBlockedMs: allCoveredMs(this.vcpus.map((v) => v.blocks)) };
  }
}
