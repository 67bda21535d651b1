/**
 * Worker side of an emulated vCPU (a piscina task named `writer`). It writes page bytes at its
 * share of the configured rate and, after each write, marks the page in the dirty bitmap: bytes
 * first, bit after, so a scan that clears the bit before copying can never miss the write.
 */
import type { WriterReport, WriterTask } from '../protocol.js';
import { ACK, PAUSE, RUN, STARTED, STATE, STOP, controlViews } from './control.js';
import { pageChooser } from './pattern.js';
import { pageKind, textCorpus, writeOfKind } from './content.js';
import { Xorshift128, deriveSeed } from '../util/prng.js';
import { HEAD, STALLED, STALLS, TAIL, ringViews } from '../dirtylog/ring.js';

/** A vCPU that fell behind (descheduled) catches up at most this much backlog at once. */
const MAX_BACKLOG_MS = 50;
/** How often, in writes, a busy vCPU looks at the control block. */
const CONTROL_CHECK_WRITES = 64;

export function writer(task: WriterTask): WriterReport {
  const { i32, writes } = controlViews(task.control);
  const { pageSizeBytes, pagesPerSlot, pageCount } = task.guest;
  const pages = task.slots.map((s) => new Uint8Array(s.memory.buffer, s.layout.pagesPtr, s.layout.pageCount * pageSizeBytes));
  const bitmaps = task.slots.map((s) => new Int32Array(s.memory.buffer, s.layout.bitmapPtr, s.layout.bitmapWords * 2));
  const summaries = task.slots.map((s) => new Int32Array(s.memory.buffer, s.layout.summaryPtr, s.layout.summaryWords * 2));
  const ring = task.mark.kind === 'ring' ? ringViews(task.mark.rings[task.vcpu]) : undefined;
  const markKind = task.mark.kind;
  const rng = new Xorshift128(deriveSeed(task.seed, 1000 + task.vcpu));
  const choose = pageChooser(task.pattern, pageCount, task.vcpu, task.vcpus, rng);
  const writeSize = task.writeSizeBytes;
  const maxOffset = pageSizeBytes - writeSize;
  const ratePerMs = task.pageWritesPerSec / 1000;
  const text = textCorpus();

  let done = 0;
  let liveMs = 0;
  let origin = performance.now();
  let paceDone = 0; // writes counted against the pacing origin

  const writeOne = (): void => {
    const page = choose();
    const slot = Math.floor(page / pagesPerSlot);
    const local = page - slot * pagesPerSlot;
    const view = pages[slot];
    const at = local * pageSizeBytes + (maxOffset > 0 ? rng.below(maxOffset + 1) : 0);
    writeOfKind(view, at, writeSize, pageKind(task.seed, page, task.content), rng, text);
    // The bytes are stored; now log the write.
    const bit = 1 << (local & 31);
    const old = Atomics.or(bitmaps[slot], local >>> 5, bit);
    if (markKind === 'two-level') {
      const word = local >>> 6;
      Atomics.or(summaries[slot], word >>> 5, 1 << (word & 31));
    } else if (ring !== undefined && (old & bit) === 0) {
      push(page);
    }
  };

  /** Pushes a page into this vCPU's dirty ring, stalling while the ring is full (KVM exits). */
  const push = (page: number): void => {
    const r = ring as NonNullable<typeof ring>;
    const head = r.i32[HEAD];
    if (head - Atomics.load(r.i32, TAIL) >= r.size) {
      const t0 = performance.now();
      Atomics.store(r.i32, STALLS, r.i32[STALLS] + 1);
      Atomics.store(r.i32, STALLED, 1);
      for (let tail = Atomics.load(r.i32, TAIL); head - tail >= r.size; tail = Atomics.load(r.i32, TAIL)) {
        if (Atomics.load(i32, STATE) === STOP) break; // torn down while stalled: nobody harvests any more
        Atomics.wait(r.i32, TAIL, tail, 5);
      }
      Atomics.store(r.i32, STALLED, 0);
      r.stallMs[0] += performance.now() - t0;
      if (head - Atomics.load(r.i32, TAIL) >= r.size) return;
    }
    r.entries[head & (r.size - 1)] = page;
    Atomics.store(r.i32, HEAD, head + 1);
  };

  Atomics.add(i32, STARTED, 1);
  Atomics.notify(i32, STARTED);
  for (;;) {
    const state = Atomics.load(i32, STATE);
    if (state === STOP) break;
    if (state === PAUSE) {
      liveMs += performance.now() - origin;
      Atomics.store(i32, ACK + task.vcpu, 1);
      Atomics.notify(i32, ACK + task.vcpu);
      while (Atomics.load(i32, STATE) === PAUSE) Atomics.wait(i32, STATE, PAUSE, 100);
      Atomics.store(i32, ACK + task.vcpu, 0);
      // Pacing restarts after a pause: a resumed guest does not burst to make up for lost time.
      origin = performance.now();
      paceDone = 0;
      continue;
    }
    if (ratePerMs <= 0) {
      Atomics.wait(i32, STATE, RUN, 100);
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
      writeOne();
    }
    done += n;
    paceDone += n;
    Atomics.store(writes, task.vcpu, BigInt(done));
  }
  if (Atomics.load(i32, ACK + task.vcpu) === 0) liveMs += performance.now() - origin;
  return { kind: 'writer-report', vcpu: task.vcpu, pageWrites: done, liveMs };
}
