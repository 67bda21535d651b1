/**
 * Worker side of a receiving thread (a piscina task named `channel`). It takes frames from the
 * queue in order, holds each on its link for as long as the link says (src/link/link.ts; none for
 * an unpaced thread), and receives it into the target meanwhile: header and every page number
 * checked, and only then are bytes written into target memory (FrameReceiver.receive, which
 * also runs the resend meter over raw pages and reads PAGE_REFS frames' pages from the source's
 * memory).
 */
import type { ChannelReport, ChannelTask } from './messages.js';
import {
  CLOSED,
  ERROR,
  HEAD,
  POSTCOPY,
  RELEASED,
  STARTED,
  STAT_RATE_BITS_PER_SEC,
  STAT_UNCHANGED,
  STAT_BYTES,
  STAT_LAST_DELIVERY_EPOCH_MS,
  TAIL,
  entryAt,
  queueViews,
} from './queue.js';
import { FrameReceiver, receiverDecoders } from './receiver.js';
import { kernelsOfSlots } from '../kernel/loader.js';
import { Link, LinkShare, REAL_TIME_PACING } from '../link/link.js';
import { preloadUserCodecs } from '../codec/user-codec.js';

const epochNow = (): number => performance.timeOrigin + performance.now();

export async function channel(task: ChannelTask): Promise<ChannelReport> {
  const q = queueViews(task.queue);
  // The user's codec files, imported in this thread before it starts (src/codec/user-codec.ts).
  await preloadUserCodecs(task.userCodecs);
  const kernels = kernelsOfSlots(task.module, task.targetSlots);
  const decoders = task.codecs ? receiverDecoders(task.targetSlots, kernels, task.userCodecs) : undefined;
  const receiver = new FrameReceiver(task.targetSlots, kernels, {
    verifyChecksums: false,
    decoders,
    sourceSlots: task.sourceSlots,
    procedural: task.procedural,
  });
  receiver.meterResends = task.meter;
  // The frames lie in the source's frame buffers: checked there, by kernels bound to that memory.
  const sourceKernels = kernelsOfSlots(task.module, task.sourceSlots);
  const link = task.link === null ? null : new LinkShare(Link.attach(task.link, task.linkUser), REAL_TIME_PACING);
  const report: ChannelReport = { kind: 'channel-report' };

  Atomics.store(q.i32, STARTED, 1);
  Atomics.notify(q.i32, STARTED);
  let tail = Atomics.load(q.i32, TAIL);
  let idle = true;
  for (;;) {
    // Closed: frames still queued are dropped, not delivered at the link's pace (an interrupted
    // run on a slow link would otherwise wait for seconds of them). A completed run drained first.
    if (Atomics.load(q.i32, CLOSED) === 1) break;
    const head = Atomics.load(q.i32, HEAD);
    if (tail === head) {
      idle = true;
      Atomics.wait(q.i32, HEAD, head, 50);
      continue;
    }
    const e = entryAt(q, tail);
    const srcLayout = task.sourceSlots[e.slot].layout;
    const from = srcLayout.framesPtr + e.buffer * srcLayout.frameBytes;

    // Pace: the frame holds the link from its start for lengthBytes / rate.
    let arrivalMs = epochNow();
    if (link !== null) {
      const cap = q.stats[STAT_RATE_BITS_PER_SEC];
      link.setCap(cap > 0 ? cap : null);
      arrivalMs = link.occupy(e.lengthBytes, epochNow(), idle).arrivalMs;
    }
    idle = false;

    // The receiver's work overlaps the frame's time on the wire. It reads the frame where the
    // sender packed it (zero-copy, as RDMA would): header and every descriptor are checked there
    // before a page is copied into target memory; then the buffer is freed and the wire waited for.
    if (report.error === undefined) {
      try {
        if (!receiver.trackArrivals && Atomics.load(q.i32, POSTCOPY) === 1) receiver.trackArrivals = true;
        receiver.receive(e.slot, {
          memory: task.sourceSlots[e.slot].memory,
          kernels: sourceKernels[e.slot],
          ptr: from,
          lengthBytes: e.lengthBytes,
        });
      } catch (err) {
        report.error = err instanceof Error ? err.message : String(err);
        Atomics.store(q.i32, ERROR, 1);
      }
    }
    // The frame has been read: its buffer is the sender's again.
    Atomics.add(q.i32, RELEASED + e.slot, 1);
    Atomics.notify(q.i32, RELEASED + e.slot);
    const endMs = link === null ? 0 : link.nextFree;
    // The wire's time, cut short by a close (it notifies CLOSED): that frame is not delivered.
    for (let left = endMs - epochNow(); left > 0.02; left = endMs - epochNow()) Atomics.wait(q.i32, CLOSED, 0, left);
    if (Atomics.load(q.i32, CLOSED) === 1) break;
    q.stats[STAT_BYTES] += e.lengthBytes;
    q.stats[STAT_LAST_DELIVERY_EPOCH_MS] = arrivalMs;
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
