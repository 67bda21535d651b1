/** Set-up thread (piscina worker): does set-up items beside the main thread (src/memory/setup.ts). */
import type { SetupTask } from '../protocol.js';
import { SetupWorker } from './setup-work.js';

/** Takes items until none is left; returns how many it did. */
export default function setup(task: SetupTask): number {
  const w = new SetupWorker(task);
  while (w.next());
  return w.done;
}
