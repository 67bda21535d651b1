/**
 * Worker side of an emulated vCPU (a piscina task named `writer`). It writes page bytes at its
 * share of the configured rate and, after each write, marks the page in the dirty bitmap: bytes
 * first, bit after, so a scan that clears the bit before copying can never miss the write.
 */
import type { PostcopyWriterTask, WriterReport, WriterTask } from './messages.js';
import { PostcopyVcpu } from './postcopy-vcpu.js';
import { ACK, PAUSE, RUN, SLICED, STARTED, STATE, STOP, THROTTLE, controlViews } from './control.js';
import { Vcpu } from './vcpu.js';
import type { TraceCursor } from '../trace/replay.js';
import { ThrottleSlices } from './throttle.js';
import { STALLED, STALLS, TAIL } from '../dirtylog/ring.js';

/** A vCPU that fell behind (descheduled) catches up at most this much backlog at once. */
const MAX_BACKLOG_MS = 50;
/** How often, in writes, a busy vCPU looks at the control block. */
const CONTROL_CHECK_WRITES = 64;

export function writer(task: WriterTask): WriterReport {
  const { i32 } = controlViews(task.control);
  const cpu = new Vcpu(task);

  /** KVM exits to userspace on a full ring; the vCPU waits until the driver harvests. Returns the exit's cost, ms. */
  const stallOnFullRing = (): number => {
    const r = cpu.ring as NonNullable<typeof cpu.ring>;
    const t0 = performance.now();
    Atomics.store(r.i32, STALLS, r.i32[STALLS] + 1);
    Atomics.store(r.i32, STALLED, 1);
    while (cpu.ringFull()) {
      if (Atomics.load(i32, STATE) === STOP) break; // torn down while stalled: nobody harvests any more
      Atomics.wait(r.i32, TAIL, Atomics.load(r.i32, TAIL), 5);
    }
    Atomics.store(r.i32, STALLED, 0);
    r.stallMs[0] += performance.now() - t0;
    return cpu.ringFullExit();
  };

  const writeOne = (): number => {
    const exitMs = cpu.ringFull() ? stallOnFullRing() : 0;
    return exitMs + (cpu.ringFull() ? 0 : cpu.write());
  };
  if (cpu.trace) {
    try {
      return runTrace(task, cpu.trace, writeOne);
    } finally {
      cpu.trace.close();
    }
  }
  return runPaced(task, writeOne);
}

/**
 * A trace vCPU's loop (src/trace/replay.ts): each write at its trace time, at --trace-speed, from
 * an anchor that time the program loses moves on (a pause, a throttle sleep, time in the
 * hypervisor, a backlog past MAX_BACKLOG_MS): its writes come later, none is dropped. Slowed
 * evenly, the replay runs at (1 - throttle) of its speed.
 */
function runTrace(task: WriterTask, trace: TraceCursor, writeOne: () => number): WriterReport {
  const { i32, writes } = controlViews(task.control);
  const speed = task.trace?.speed ?? 1;
  let rate = speed;
  let throttle = 0;
  let sliced = 0;
  let slices: ThrottleSlices | null = null;
  let anchorWall = performance.now();
  let anchorTrace = 0;
  const reanchor = (now: number, newRate: number): void => {
    anchorTrace += (now - anchorWall) * rate;
    anchorWall = now;
    rate = newRate;
  };
  let done = 0;
  let liveMs = 0;
  let liveSince = performance.now();
  Atomics.add(i32, STARTED, 1);
  Atomics.notify(i32, STARTED);
  for (;;) {
    const state = Atomics.load(i32, STATE);
    if (state === STOP) break;
    if (state === PAUSE) {
      const pausedAt = performance.now();
      liveMs += pausedAt - liveSince;
      parkWhilePaused(i32, task.vcpu);
      // The program stood still while paused.
      liveSince = performance.now();
      anchorWall += liveSince - pausedAt;
      continue;
    }
    const t = Atomics.load(i32, THROTTLE);
    const s = Atomics.load(i32, SLICED);
    if (t !== throttle || s !== sliced) {
      throttle = t;
      sliced = s;
      const now = performance.now();
      reanchor(now, s === 1 ? speed : (speed * (1000 - t)) / 1000);
      slices = s === 1 && t > 0 ? new ThrottleSlices(now, Math.min(t, 999) / 1000) : null;
    }
    const next = trace.nextMs();
    if (next === Infinity || rate <= 0) {
      // The trace is over (no --trace-loop), or the replay is held still: idle until told otherwise.
      Atomics.wait(i32, STATE, RUN, 100);
      continue;
    }
    let now = performance.now();
    const wake = slices?.sleepEndAt(now) ?? null;
    if (wake !== null) {
      // Asleep: the program's time stands still until the sleep ends.
      const sleptFrom = now;
      while (now < wake && Atomics.load(i32, STATE) === RUN) {
        Atomics.wait(i32, STATE, RUN, Math.max(0.05, wake - now));
        now = performance.now();
      }
      anchorWall += now - sleptFrom;
      continue;
    }
    const at = anchorWall + (next - anchorTrace) / rate;
    if (at > now) {
      Atomics.wait(i32, STATE, RUN, Math.max(0.05, Math.min(at - now, 2)));
      continue;
    }
    // Fallen behind by more than the backlog allowed (descheduled): the program runs that much later.
    if (now - at > MAX_BACKLOG_MS) anchorWall += now - at - MAX_BACKLOG_MS;
    let n = 0;
    for (; n < CONTROL_CHECK_WRITES; n++) {
      const due = anchorWall + (trace.nextMs() - anchorTrace) / rate;
      if (!(due <= now)) break;
      anchorWall += writeOne();
    }
    done += n;
    Atomics.store(writes, task.vcpu, BigInt(done));
  }
  if (Atomics.load(i32, ACK + task.vcpu) === 0) liveMs += performance.now() - liveSince;
  return { kind: 'writer-report', vcpu: task.vcpu, pageWrites: done, liveMs };
}

/**
 * A vCPU after a post-copy switch-over (a piscina task named `postcopyWriter`): it runs on the
 * target and blocks on every page that has not arrived, after requesting it.
 */
export function postcopyWriter(task: PostcopyWriterTask): WriterReport {
  const { i32 } = controlViews(task.control);
  const cpu = new PostcopyVcpu(task);
  return runPaced(task, () => {
    const page = cpu.nextPage();
    if (cpu.isMissing(page)) {
      const t0 = performance.now();
      cpu.request(page);
      while (cpu.isMissing(page)) {
        if (Atomics.load(i32, STATE) === STOP) return 0; // torn down: the page will not come
        const [array, index, seen] = cpu.waitWord(page);
        Atomics.wait(array, index, seen, 5);
      }
      cpu.requests.stallMs[0] += performance.now() - t0;
    }
    cpu.write();
    return 0;
  });
}

/**
 * The vCPU loop both kinds share: `writeOne` at the vCPU's share of the rate, parked while the
 * driver holds the guest paused, until told to stop. Throttled by the control block, it sleeps in
 * QEMU's slices (throttle.ts) and on waking makes up the writes due in the sleep's last
 * catchUpMs, dropping the rest (the post-copy guest is never throttled). `writeOne` returns the
 * milliseconds the write cost the vCPU in the hypervisor (src/dirtylog/cost.ts): its pace slips
 * by that much, as a vCPU's does that loses time to faults.
 */
function runPaced(
  task: { control: SharedArrayBuffer; vcpu: number; pageWritesPerSec: number; catchUpMs?: number },
  writeOne: () => number,
): WriterReport {
  const { i32, writes } = controlViews(task.control);
  const baseRatePerMs = task.pageWritesPerSec / 1000;
  let ratePerMs = baseRatePerMs;
  const catchUpWrites = Math.floor((task.catchUpMs ?? 0) * baseRatePerMs);
  let throttle = 0; // per-mille
  let sliced = 0;
  let slices: ThrottleSlices | null = null;

  let done = 0;
  let liveMs = 0;
  let liveSince = performance.now();
  let origin = performance.now();
  let paceDone = 0; // writes counted against the pacing origin

  Atomics.add(i32, STARTED, 1);
  Atomics.notify(i32, STARTED);
  for (;;) {
    const state = Atomics.load(i32, STATE);
    if (state === STOP) break;
    if (state === PAUSE) {
      liveMs += performance.now() - liveSince;
      parkWhilePaused(i32, task.vcpu);
      // Pacing restarts after a pause: a resumed guest does not burst to make up for lost time.
      origin = performance.now();
      liveSince = origin;
      paceDone = 0;
      continue;
    }
    const t = Atomics.load(i32, THROTTLE);
    const s = Atomics.load(i32, SLICED);
    if (t !== throttle || s !== sliced) {
      throttle = t;
      sliced = s;
      if (s === 1) {
        // cpu_throttle_set: the timer re-arms now; the pace stays the workload's own.
        slices = t > 0 ? new ThrottleSlices(performance.now(), Math.min(t, 999) / 1000) : null;
        ratePerMs = baseRatePerMs;
      } else {
        // Slowed evenly: the vCPU runs (1 - throttle) of its time; its pace restarts at the new rate.
        slices = null;
        ratePerMs = (baseRatePerMs * (1000 - t)) / 1000;
        origin = performance.now();
        paceDone = 0;
      }
    }
    if (ratePerMs <= 0) {
      Atomics.wait(i32, STATE, RUN, 100);
      continue;
    }
    const wake = slices?.sleepEndAt(performance.now()) ?? null;
    if (wake !== null) {
      // Asleep: wake at the sleep's end (or when the driver changes the state), then drop what
      // fell due before the catch-up.
      for (let now = performance.now(); now < wake && Atomics.load(i32, STATE) === RUN; now = performance.now()) {
        Atomics.wait(i32, STATE, RUN, Math.max(0.05, wake - now));
      }
      const owed = Math.floor((performance.now() - origin) * ratePerMs) - paceDone;
      if (owed > catchUpWrites) paceDone += owed - catchUpWrites;
      continue;
    }
    const elapsed = performance.now() - origin;
    let due = Math.floor(elapsed * ratePerMs) - paceDone;
    const maxDue = Math.ceil(MAX_BACKLOG_MS * ratePerMs);
    if (due > maxDue) {
      paceDone += due - maxDue;
      due = maxDue;
    }
    if (due <= 0) {
      const untilNextMs = (paceDone + 1) / ratePerMs - elapsed;
      Atomics.wait(i32, STATE, RUN, Math.max(0.05, Math.min(untilNextMs, 2)));
      continue;
    }
    let n = 0;
    for (; n < due; n++) {
      if (n % CONTROL_CHECK_WRITES === CONTROL_CHECK_WRITES - 1 && Atomics.load(i32, STATE) !== RUN) break;
      const lostMs = writeOne();
      if (lostMs > 0) {
        // Time lost in the hypervisor: the writes it would have paced come that much later.
        origin += lostMs;
        due = Math.min(due, Math.floor((performance.now() - origin) * ratePerMs) - paceDone);
      }
    }
    done += n;
    paceDone += n;
    Atomics.store(writes, task.vcpu, BigInt(done));
  }
  if (Atomics.load(i32, ACK + task.vcpu) === 0) liveMs += performance.now() - liveSince;
  return { kind: 'writer-report', vcpu: task.vcpu, pageWrites: done, liveMs };
}

/** The driver holds the guest paused: say so (the barrier before the final scan), and wait until it lets go. */
function parkWhilePaused(i32: Int32Array, vcpu: number): void {
  Atomics.store(i32, ACK + vcpu, 1);
  Atomics.notify(i32, ACK + vcpu);
  while (Atomics.load(i32, STATE) === PAUSE) Atomics.wait(i32, STATE, PAUSE, 100);
  Atomics.store(i32, ACK + vcpu, 0);
}
