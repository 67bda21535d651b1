/**
 * The evacuation's scheduler, apart from any migration: which VM goes next and where (the queue,
 * in the order asked, under the limits per source and per target), and, under the real clock,
 * when a VM that is set up may start its clock (the start gate). Both are plain state machines the
 * evacuation (src/evacuate/evacuate.ts) drives; test/evacuate/scheduler.test.ts drives them alone.
 */

/** What the queue needs to know of a VM. */
export interface QueuedVm {
  /** A fixed target host (index into the targets); null: whichever has room. */
  target: number | null;
  /** Targets this VM is not to go to (it could not connect to them); absent: none. */
  avoid?: ReadonlySet<number>;
}

export interface QueueLimits {
  /** Migrations at once from the source host (KubeVirt's parallelOutboundMigrationsPerNode). */
  maxConcurrent: number;
  /** Migrations at once into one target host; null: no limit. */
  maxPerTarget: number | null;
  targets: number;
  /** VMs launched beyond maxConcurrent, to be set up ahead while the others migrate (the real clock's one). */
  lookahead: number;
}

/**
 * The VMs still to launch, in order, and those launched and still in line (they hold a place
 * against the limits until they send nothing more).
 */
export class EvacuationQueue<V extends QueuedVm> {
  private readonly queue: V[];
  /** Per target: migrations in line there now, and VMs placed there so far. */
  private readonly perTarget: number[];
  private readonly placed: number[];
  private inLineCount = 0;

  constructor(
    ordered: readonly V[],
    private readonly limits: QueueLimits,
  ) {
    this.queue = [...ordered];
    this.perTarget = Array.from({ length: limits.targets }, () => 0);
    this.placed = Array.from({ length: limits.targets }, () => 0);
  }

  /** VMs launched and not yet left. */
  get inLine(): number {
    return this.inLineCount;
  }

  /** VMs not launched yet. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Takes, in order, every VM the limits let go now, each with the target it goes to; a VM whose
   * targets have no room waits and the ones behind it may pass.
   */
  launch(): { vm: V; target: number }[] {
    const out: { vm: V; target: number }[] = [];
    for (let i = 0; i < this.queue.length && this.inLineCount < this.limits.maxConcurrent + this.limits.lookahead;) {
      const target = this.placeOf(this.queue[i]);
      if (target === null) {
        i++;
        continue;
      }
      const [vm] = this.queue.splice(i, 1);
      this.perTarget[target]++;
      this.placed[target]++;
      this.inLineCount++;
      out.push({ vm, target });
    }
    return out;
  }

  /** Targets found unreachable: no VM is placed there any more. */
  private readonly down = new Set<number>();

  /** A target could not be reached: later VMs go elsewhere. */
  markDown(target: number): void {
    this.down.add(target);
  }

  /**
   * Whether a VM that could not connect has another target to try (not down, not avoided by it);
   * if so it goes back to the head of the queue (after leave()).
   */
  retry(vm: V): boolean {
    if (vm.target !== null) return false;
    for (let t = 0; t < this.limits.targets; t++) {
      if (!this.down.has(t) && !vm.avoid?.has(t)) {
        this.queue.unshift(vm);
        return true;
      }
    }
    return false;
  }

  /** A VM goes back to the head of the queue as it is (a busy target to be tried again). */
  requeue(vm: V): void {
    this.queue.unshift(vm);
  }

  /** A launched VM leaves the line: its place, and its target's, go to the next. */
  leave(target: number): void {
    this.inLineCount--;
    this.perTarget[target]--;
  }

  /** The target a VM goes to now: its own if that has room, else the least loaded with room (fewest placed on a tie). */
  private placeOf(vm: QueuedVm): number | null {
    const { maxPerTarget, targets } = this.limits;
    const room = (t: number): boolean => maxPerTarget === null || this.perTarget[t] < maxPerTarget;
    if (vm.target !== null) return room(vm.target) ? vm.target : null;
    let best: number | null = null;
    for (let t = 0; t < targets; t++) {
      if (!room(t) || this.down.has(t) || vm.avoid?.has(t)) continue;
      const p = this.perTarget;
      if (best === null || p[t] < p[best] || (p[t] === p[best] && this.placed[t] < this.placed[best])) best = t;
    }
    return best;
  }
}

/**
 * When a VM set up under the real clock may start its migration's clock: in launch order, as slots
 * free, the first ones (up to the limit) together once all of them are set up. A VM's ticket is its
 * launch order; a VM that leaves before it was ever admitted (its set-up failed) is skipped.
 */
export class StartGate {
  private readonly waiting = new Map<number, () => void>();
  private readonly skipped = new Set<number>();
  private tickets = 0;
  private nextTicket = 0;
  private readyCount = 0;
  /** Migrations started and not yet left. */
  active = 0;

  constructor(
    private readonly maxConcurrent: number,
    /** How many start together first: the limit, or fewer VMs. */
    private readonly firstBatch: number,
  ) {}

  /** A launched VM's ticket. */
  ticket(): number {
    return this.tickets++;
  }

  /** The VM of `ticket` is set up: resolves when it may start. */
  ready(ticket: number): Promise<void> {
    if (ticket < this.firstBatch) this.readyCount++;
    return new Promise<void>((resolve) => {
      this.waiting.set(ticket, resolve);
      this.pump();
    });
  }

  /** The VM of `ticket` leaves: its slot goes to the next if it had one (`started`), else the line skips it. */
  leave(ticket: number, started: boolean): void {
    if (started) this.active--;
    else {
      // It never got in line to start: the ones behind it must not wait for it.
      this.skipped.add(ticket);
      if (ticket < this.firstBatch) this.readyCount++;
    }
    this.pump();
  }

  /** Interrupted: every VM waiting starts now (and ends at once, as it finds the signal aborted). */
  releaseAll(): void {
    for (const go of this.waiting.values()) {
      this.active++;
      go();
    }
    this.waiting.clear();
  }

  private pump(): void {
    if (this.readyCount < this.firstBatch) return;
    for (;;) {
      if (this.skipped.delete(this.nextTicket)) {
        this.nextTicket++;
        continue;
      }
      const go = this.waiting.get(this.nextTicket);
      if (go === undefined || this.active >= this.maxConcurrent) return;
      this.waiting.delete(this.nextTicket++);
      this.active++;
      go();
    }
  }
}
