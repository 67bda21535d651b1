/**
 * One simulated time for several migrations at once: a host evacuation under `--clock virtual`
 * (src/evacuate/). Each migration keeps its own clock, from 0 at its start (TimelineClock), but
 * all of them stand on one timeline, and the timeline decides who runs.
 *
 * Exactly one participant runs at a time (it holds the turn). A participant gives the turn up when
 * it sleeps until a later instant, parks until woken, or leaves; the timeline then hands it to the
 * waiter with the earliest instant (the first queued among equals), and advances time to that
 * instant first: every started migration's guest does what that much time holds. A participant
 * that waits for a worker thread keeps the turn meanwhile, so what the others do never depends
 * on how fast threads run: an evacuation is as deterministic as a single virtual run. Time stands
 * still while a migration sets itself up (allocates and fills its memories), as it does for a
 * single run, whose set-up is reported apart from its clock.
 */
import { VirtualClock } from './virtual.js';

interface Waiter {
  atMs: number;
  seq: number;
  participant: TimelineParticipant;
  grant: () => void;
}

export class VirtualTimeline {
  private now = 0;
  private seq = 0;
  private readonly queue: Waiter[] = [];
  private holder: TimelineParticipant | null = null;
  private readonly clocks = new Set<TimelineClock>();

  nowMs(): number {
    return this.now;
  }

  /** A new participant, queued for its first turn at the present instant (await turn()). */
  join(): TimelineParticipant {
    const p = new TimelineParticipant(this);
    p.first = this.enqueue(p, this.now);
    return p;
  }

  /** @internal */
  enqueue(participant: TimelineParticipant, atMs: number): Promise<void> {
    return new Promise<void>((grant) => {
      const w: Waiter = { atMs: Math.max(atMs, this.now), seq: this.seq++, participant, grant };
      let i = this.queue.length;
      while (i > 0 && this.queue[i - 1].atMs > w.atMs) i--;
      this.queue.splice(i, 0, w);
      this.dispatch();
    });
  }

  /** @internal */
  release(participant: TimelineParticipant): void {
    if (this.holder !== participant) throw new Error('a participant gave up a turn it did not hold');
    this.holder = null;
    this.dispatch();
  }

  /** @internal */
  attach(clock: TimelineClock): void {
    this.clocks.add(clock);
  }

  /** @internal */
  detach(clock: TimelineClock): void {
    this.clocks.delete(clock);
  }

  /** Hands the turn to the earliest waiter, advancing time to its instant first. */
  private dispatch(): void {
    if (this.holder !== null) return;
    const w = this.queue.shift();
    if (w === undefined) return;
    if (w.atMs > this.now) {
      const from = this.now;
      for (const clock of this.clocks) clock.advanceGlobal(from, w.atMs);
      this.now = w.atMs;
    }
    this.holder = w.participant;
    w.grant();
  }
}

/** One migration's (or the scheduler's) place on a timeline. */
export class TimelineParticipant {
  /** @internal its first turn. */
  first: Promise<void> = Promise.resolve();
  private parked: (() => void) | null = null;
  private clock: TimelineClock | null = null;
  private left = false;

  constructor(readonly timeline: VirtualTimeline) {}

  /** Waits for the first turn. */
  turn(): Promise<void> {
    return this.first;
  }

  /** Gives the turn up until the timeline reaches `ms` (timeline time). */
  async sleepUntil(ms: number): Promise<void> {
    // As VirtualClock: work handed to other threads just before is posted before time moves.
    await Promise.resolve();
    this.timeline.release(this);
    await this.timeline.enqueue(this, ms);
  }

  /** Gives the turn up until wake() is called (by whoever holds the turn then). */
  async park(): Promise<void> {
    const woken = new Promise<void>((resolve) => {
      this.parked = resolve;
    });
    this.timeline.release(this);
    await woken;
  }

  /** Queues a parked participant for a turn at the present instant. */
  wake(): void {
    const resume = this.parked;
    if (resume === null) return;
    this.parked = null;
    void this.timeline.enqueue(this, this.timeline.nowMs()).then(resume);
  }

  /** Gives the turn up for good; its clock stops. */
  leave(): void {
    if (this.left) return;
    this.left = true;
    if (this.clock) this.timeline.detach(this.clock);
    this.timeline.release(this);
  }

  /** @internal */
  bind(clock: TimelineClock): void {
    this.clock = clock;
  }
}

/**
 * A migration's clock on a shared timeline: 0 when the migration starts (start()), and before;
 * its guest advances whenever the timeline does, whoever holds the turn.
 */
export class TimelineClock extends VirtualClock {
  private originMs: number | null = null;

  constructor(private readonly participant: TimelineParticipant) {
    super();
    participant.bind(this);
  }

  /** Time 0 is the timeline's present; from now on the guest moves with the timeline. */
  start(): void {
    this.originMs = this.participant.timeline.nowMs();
    this.participant.timeline.attach(this);
  }

  /** Where this clock's 0 lies on the timeline (0 before start()). */
  get origin(): number {
    return this.originMs ?? 0;
  }

  override nowMs(): number {
    return this.originMs === null ? 0 : this.participant.timeline.nowMs() - this.originMs;
  }

  override async sleepUntil(ms: number): Promise<void> {
    if (this.originMs === null) throw new Error('a timeline clock sleeps only once its migration has started');
    await this.participant.sleepUntil(ms + this.originMs);
  }

  /** CPU time passes as a sleep: the other migrations run meanwhile. */
  override async spend(ms: number): Promise<void> {
    await this.sleepUntil(this.nowMs() + ms);
  }

  override advanceTo(): void {
    throw new Error('a timeline clock does not advance by itself: its timeline does');
  }

  /** @internal the timeline moved from `fromMs` to `toMs` (timeline time). */
  advanceGlobal(fromMs: number, toMs: number): void {
    const origin = this.origin;
    for (const advance of this.listeners) advance(fromMs - origin, toMs - origin);
  }
}
