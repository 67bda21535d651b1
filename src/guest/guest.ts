/**
 * The running guest on the source host: its vCPUs are long-running piscina tasks (one thread
 * each) that write memory until told to stop. The driver suspends it through the control block.
 */
import { Piscina } from 'piscina';
import type { GuestShape, SlotHandle } from '../memory/layout.js';
import type { PostcopyWriterTask, WriterReport, WriterTask } from './messages.js';
import type { ThrottleHow } from './throttle.js';
import { GuestControl } from './control.js';
import type { MarkMode } from '../dirtylog/dirty-log.js';
import type { GuestHost, GuestOptions, GuestReport } from './host.js';

const WRITER_WORKER = new URL('./writer-worker.js', import.meta.url).href;

/** Where a post-copy guest runs: target memory, the source's as its mirror, a request ring per vCPU. */
export interface PostcopyPlacement {
  targetSlots: SlotHandle[];
  /** The source's slots, where every write is mirrored (the source is in this process); [] where it is not. */
  shadowSlots: SlotHandle[];
  /**
   * With no source to mirror into (the target on another host): per target slot, room for every
   * page, where a page is kept as it arrived before the guest's first write to it (the target
   * slot's touched byte: 0 untouched, 1 being kept, 2 kept). The target's memory with those pages
   * put back is what the source sent, which the MAC checks.
   */
  pristine?: SharedArrayBuffer[];
  requestRings: SharedArrayBuffer[];
  /**
   * Float64 per vCPU: the writes the source's vCPU did before it stopped, set at the switch (before
   * the target's guest resumes); each target vCPU goes on from there (a sequential walk continues).
   */
  sourceWrites: SharedArrayBuffer;
}

export class RunningGuest implements GuestHost {
  readonly control: GuestControl;
  private readonly pool: Piscina;
  private readonly tasks: Promise<WriterReport>[];

  /** The source's guest: vCPUs writing source memory and logging their writes with `mark`. */
  constructor(config: GuestOptions, slots: SlotHandle[], guest: GuestShape, mark: MarkMode);
  /** The guest after a post-copy switch-over: vCPUs parked until resume(), then writing the target. */
  constructor(config: GuestOptions, postcopy: PostcopyPlacement, guest: GuestShape);
  constructor(config: GuestOptions, where: SlotHandle[] | PostcopyPlacement, guest: GuestShape, mark?: MarkMode) {
    this.control = new GuestControl(config.vcpus);
    this.pool = new Piscina({
      filename: WRITER_WORKER,
      minThreads: config.vcpus,
      maxThreads: config.vcpus,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
    });
    this.tasks = [];
    const common = {
      guest,
      control: this.control.sab,
      pageWritesPerSec: config.pageWritesPerSec / config.vcpus,
      vcpus: config.vcpus,
      catchUpMs: config.catchUpMs,
      pattern: config.pattern,
      writeSizeBytes: config.writeSizeBytes,
      seed: config.seed,
      writeSeed: config.writeSeed,
      content: config.content,
      procedural: config.procedural,
    };
    if (Array.isArray(where)) {
      for (let vcpu = 0; vcpu < config.vcpus; vcpu++) {
        const task: WriterTask = {
          kind: 'writer',
          vcpu,
          slots: where,
          mark: mark ?? { kind: 'bitmap' },
          trace: config.trace,
          ...common,
        };
        this.tasks.push(this.pool.run(task, { name: 'writer' }) as Promise<WriterReport>);
      }
    } else {
      this.control.pauseNow(); // parked until the guest resumes on the target
      for (let vcpu = 0; vcpu < config.vcpus; vcpu++) {
        const task: PostcopyWriterTask = {
          kind: 'postcopy-writer',
          vcpu,
          targetSlots: where.targetSlots,
          shadowSlots: where.shadowSlots,
          ...(where.pristine ? { pristine: where.pristine } : {}),
          requests: where.requestRings[vcpu],
          sourceWrites: where.sourceWrites,
          ...common,
        };
        this.tasks.push(this.pool.run(task, { name: 'postcopyWriter' }) as Promise<WriterReport>);
      }
    }
  }

  started(): Promise<void> {
    return this.control.started();
  }

  pause(whileWaiting: () => void): Promise<void> {
    return this.control.pause(whileWaiting);
  }

  resume(): void {
    this.control.resume();
  }

  setThrottle(fraction: number, how?: ThrottleHow): void {
    this.control.setThrottle(fraction, how);
  }

  totalWrites(): number {
    return this.control.totalWrites();
  }

  writesPerVcpu(): number[] {
    return this.control.writesPerVcpu();
  }

  /** Stops the vCPUs for good and gathers what they did. */
  async shutdown(): Promise<GuestReport> {
    this.control.stop();
    try {
      const reports = await Promise.all(this.tasks);
      const pageWrites = reports.reduce((n, r) => n + r.pageWrites, 0);
      const rate = reports.reduce((n, r) => n + (r.liveMs > 0 ? (r.pageWrites * 1000) / r.liveMs : 0), 0);
      return { pageWrites, achievedPageWritesPerSec: rate, liveMs: Math.max(0, ...reports.map((r) => r.liveMs)) };
    } finally {
      await this.pool.destroy();
    }
  }
}
