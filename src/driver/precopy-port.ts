/** The driver's side of the pre-copy port (src/precopy/port.ts): a loop's requests, served by this migration's parts. */
import type { PrecopyPort } from '../precopy/port.js';
import type { Migration } from './migration.js';

export function precopyPort(m: Migration): PrecopyPort {
  const { config, source, sender, records, controls, clock } = m;
  const { dirtyLog } = m.prepared;
  const aids = m.strategies.aids;
  const lanes = m.world.transport.lanes;
  const lists = source.slots.map((s) => new Uint32Array(s.memory.buffer, s.layout.listPtr, s.layout.pageCount));
  return {
    guest: {
      pageSizeBytes: config.pageSizeBytes,
      ramBytes: config.ramBytes,
      slotPageCounts: source.slots.map((s) => s.layout.pageCount),
    },
    settings: {
      maxIterations: config.maxIterations,
      // Post-copy needs a target that runs the guest: in this process, or one that runs it itself (TCP).
      postcopy: config.postcopy && (m.target !== null || m.world.transport.remotePostcopy !== undefined),
      postcopyAfterRounds: config.postcopyAfterRounds,
      postcopyAtMs: config.postcopyAtMs,
      multifdChannels: config.multifdChannels,
      streamBitsPerSec: config.linkBitsPerSec ?? config.hostCopyBitsPerSec,
      linkLimited: config.linkBitsPerSec !== null,
      maxBandwidthBitsPerSec: config.maxBandwidthBitsPerSec,
    },
    clock,
    dirty: {
      fetch: (slot) => lists[slot].subarray(0, dirtyLog.fetch(slot)),
      pending: () => dirtyLog.pending(),
      pay: (exact) => dirtyLog.costs.meter.pay(clock, exact),
    },
    send: {
      pagesPerFrame: source.slots[0].layout.pagesPerFrame,
      list: (slot) => lists[slot],
      pages: (slot, count, record, how) => sender.sendList(slot, count, record, how),
      round: (phase, all) => records.round(phase, all),
      delivered: () => records.delivered(),
      written: () => records.written(),
      ...(lanes ? { laneWritten: (lane: number) => lanes.written(lane) } : {}),
    },
    records,
    control: {
      aids,
      controls,
      afterRound: (facts) => {
        for (const aid of aids) aid.afterRound(facts, controls);
      },
      decide: (state) => (m.lastDecision = m.strategies.policy.decide(state)),
      note: (decision) => {
        m.lastDecision = decision;
      },
      checkpoint: () => m.checkpoint(),
      remaining: (bytes) => m.watch?.remaining(bytes, clock.nowMs()),
      postcopyRequested: () => m.postcopyRequested,
      limitRate: (bitsPerSec) => controls.limitRate(bitsPerSec),
    },
  };
}
