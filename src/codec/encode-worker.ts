/**
 * Worker side of an encoder thread (--compress-threads): a piscina task named `encode` per frame.
 * Each thread has its own chain, so xbzrle's cache here sees only the pages routed to this thread;
 * the driver routes every page to the same thread each time.
 */
import { workerData } from 'node:worker_threads';
import type { EncodeTask, EncodeResult, EncoderWorkerData } from './messages.js';
import { kernelsOfSlots } from '../kernel/loader.js';
import { ChainEncoder } from './chain-encoder.js';
import { preloadUserCodecs } from './user-codec.js';

const data = workerData as EncoderWorkerData;
const progress = new Int32Array(data.progress);
let encoder: ChainEncoder | undefined;

export async function encode(task: EncodeTask): Promise<EncodeResult> {
  // The user's codec files, imported in this thread once, before its chain is built.
  if (encoder === undefined) await preloadUserCodecs(data.settings.userCodecs);
  encoder ??= new ChainEncoder(data.slots, kernelsOfSlots(data.module, data.slots), data.settings, data.procedural);
  const t0 = performance.now();
  try {
    const bodyLength = encoder.encode(
      task.slot,
      task.listPtr,
      task.count,
      task.bodyPtr,
      task.capacityBytes,
      task.phase,
    );
    return { kind: 'encoded', bodyLength, cpuMs: performance.now() - t0, stats: encoder.stats() };
  } finally {
    // The frame's pages have been read (or never will be): a write held for them may go on.
    Atomics.add(progress, data.lane, 1);
    Atomics.notify(progress, data.lane);
  }
}

/** Answers once the thread runs (ThreadedEncoding.open). */
export function ping(): 'pong' {
  return 'pong';
}
