/**
 * Worker side of the in-process migration channel (a piscina task named `channel`). It takes
 * frames from the queue in order, holds each on the "wire" for as long as the link rate says,
 * and receives it into the target meanwhile: header and every page number checked, and only then
 * are bytes written into target memory (FrameReceiver.receiveView, which also runs the resend
 * meter over raw pages and reads PAGE_REFS frames' pages from the source's memory).
 */
import type { ChannelReport, ChannelTask } from '../protocol.js';
import {
  CLOSED, ERROR, HEAD, POSTCOPY, RELEASED, STARTED, STAT_BUSY_MS, STAT_RATE_BITS_PER_SEC, STAT_UNCHANGED, STAT_BYTES, STAT_FRAMES, STAT_LAST_DELIVERY_EPOCH_MS, STAT_PAGES, TAIL,
  entryAt, queueViews,
} from './queue.js';
import { FrameReceiver, receiverDecoders } from './receiver.js';
import { instantiateKernels } from '../kernel/loader.js';

/**
 * How far behind schedule the pacer may catch up at once: a late wake-up (a descheduled thread on
 * a busy machine) must not cost rate, but a long stall must not turn into a burst above the link
 * rate either. 1 ms lost 10 % of a 10 Gbit/s link under load; 20 ms (24 frames at 10 Gbit/s, 2 at
 * 1 Gbit/s) keeps the rate within 1 %.
 */
const CATCH_UP_MS = 20;

const epochNow = (): number => performance.timeOrigin + performance.now();

export function channel(task: ChannelTask): ChannelReport {
  const q = queueViews(task.queue);
  const kernels = task.targetSlots.map((s) => instantiateKernels(task.module, s.memory));
  const decoders = task.codecs ? receiverDecoders(task.targetSlots, kernels) : undefined;
  const receiver = new FrameReceiver(task.targetSlots, kernels, false, decoders, task.sourceSlots);
  receiver.meterResends = task.meter;
  const source = task.sourceSlots.map((s) => new Uint8Array(s.memory.buffer));
  const linkBytesPerMs = task.linkBitsPerSec === null ? Infinity : task.linkBitsPerSec / 8 / 1000;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const report: ChannelReport = { kind: 'channel-report', framesDelivered: 0, bytesDelivered: 0, pagesDelivered: 0, deviceStateBytes: 0 };

  Atomics.store(q.i32, STARTED, 1);
  Atomics.notify(q.i32, STARTED);
  let tail = Atomics.load(q.i32, TAIL);
  let nextFreeMs = epochNow();
  let idle = true;
  let busyMs = 0;
  for (;;) {
    const head = Atomics.load(q.i32, HEAD);
    if (tail === head) {
      if (Atomics.load(q.i32, CLOSED) === 1) break;
      idle = true;
      Atomics.wait(q.i32, HEAD, head, 50);
      continue;
    }
    const e = entryAt(q, tail);
    const srcLayout = task.sourceSlots[e.slot].layout;
    const from = srcLayout.framesPtr + e.buffer * srcLayout.frameBytes;
    const t0 = performance.now();

    // Pace: the frame occupies the link from its start until lengthBytes / rate later. The
    // schedule is cumulative, so a late wake-up is caught up (up to CATCH_UP_MS) rather than lost.
    const rateBits = q.stats[STAT_RATE_BITS_PER_SEC];
    const bytesPerMs = rateBits > 0 ? Math.min(rateBits / 8 / 1000, linkBytesPerMs) : linkBytesPerMs;
    let finishMs = epochNow();
    if (bytesPerMs !== Infinity) {
      const now = epochNow();
      const startMs = idle ? Math.max(nextFreeMs, now) : Math.max(nextFreeMs, now - CATCH_UP_MS);
      finishMs = startMs + e.lengthBytes / bytesPerMs;
      nextFreeMs = finishMs;
    }
    idle = false;

    // The receiver's work overlaps the frame's time on the wire. It reads the frame where the
    // sender packed it (zero-copy, as RDMA would): header and every descriptor are checked there
    // before a page is copied into target memory; then the buffer is freed and the wire waited for.
    if (report.error === undefined) {
      try {
        if (!receiver.trackArrivals && Atomics.load(q.i32, POSTCOPY) === 1) receiver.trackArrivals = true;
        receiver.receiveView(e.slot, source[e.slot].subarray(from, from + e.lengthBytes));
      } catch (err) {
        report.error = err instanceof Error ? err.message : String(err);
        Atomics.store(q.i32, ERROR, 1);
      }
    }
    // The frame has been read: its buffer is the sender's again.
    Atomics.add(q.i32, RELEASED + e.slot, 1);
    Atomics.notify(q.i32, RELEASED + e.slot);
    for (let left = finishMs - epochNow(); left > 0.02; left = finishMs - epochNow()) Atomics.wait(sleeper, 0, 0, left);
    busyMs += performance.now() - t0;
    q.stats[STAT_BYTES] += e.lengthBytes;
    q.stats[STAT_FRAMES] += 1;
    q.stats[STAT_LAST_DELIVERY_EPOCH_MS] = finishMs + task.latencyMs;
    q.stats[STAT_BUSY_MS] = busyMs;
    report.framesDelivered++;
    report.bytesDelivered += e.lengthBytes;
    report.pagesDelivered = receiver.counts.pages;
    report.deviceStateBytes = receiver.counts.deviceStateBytes;
    q.stats[STAT_PAGES] = receiver.counts.pages;
    q.stats[STAT_UNCHANGED] = receiver.counts.unchanged;
    tail++;
    Atomics.store(q.i32, TAIL, tail);
    Atomics.notify(q.i32, TAIL);
  }
  return report;
}

/** The connect stage's handshake: answers once the thread runs. */
export function ping(): 'pong' {
  return 'pong';
}
