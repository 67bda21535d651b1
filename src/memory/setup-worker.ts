/** Set-up thread (piscina worker): does set-up items beside the main thread (src/memory/setup.ts). */
import type { SetupTask } from './messages.js';
import { collectGarbage } from './gc.js';
import { SetupWorker } from './setup-work.js';

/**
 * Takes items until none is left; returns how many it did. The thread outlives the task (set-up
 * threads are kept for the next run), so before it answers it lets go of the task's memories and
 * collects. That is not always enough for a released memory to go (see retireSetupThreads), but it
 * keeps this thread's heap small between set-ups.
 */
export default function setup(task: SetupTask): number {
  const done = work(task);
  // piscina still holds the task object: empty what refers to memories.
  task.memories.length = 0;
  task.items.length = 0;
  collectGarbage();
  return done;
}

/** In a call of its own, so that no frame left holds the memories or their kernels. */
function work(task: SetupTask): number {
  const w = new SetupWorker(task);
  while (w.next());
  return w.done;
}
