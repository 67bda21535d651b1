/**
 * Faults in a guest memory's pages on another thread. A first touch of wasm memory costs 2-10 us
 * per 4 KiB page on the machines measured (0.35 GB/s): done during a migration it would measure
 * the emulator, not the migration, so a target's memory is faulted in during set-up, while the
 * source's content is being written on the main thread. A target host with preallocated guest
 * memory (QEMU's -mem-prealloc, hugepage pools) pays the same before migrating.
 */
import { Piscina } from 'piscina';
import type { PrefaultTask } from '../protocol.js';
import type { GuestMemory } from './guest-memory.js';

const WORKER = new URL('../channel/channel-worker.js', import.meta.url).href;

/** Runs the prefault on `pool` if given (a pool whose worker file is the channel worker), else on a thread of its own. */
export async function prefaultOnThread(memory: GuestMemory, pool?: Piscina): Promise<void> {
  const own = pool ?? new Piscina({ filename: WORKER, minThreads: 1, maxThreads: 1 });
  try {
    const task: PrefaultTask = { kind: 'prefault', slots: memory.slots };
    await own.run(task, { name: 'prefault' });
  } finally {
    if (!pool) await own.destroy();
  }
}
