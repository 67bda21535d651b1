/**
 * What every set-up thread runs, the main thread included: take the next item (a shared Atomics
 * counter), do it, until none is left. Kept apart from the worker file so the main thread can run
 * it too, an item at a time between turns of its event loop.
 */
import { fillContentRange } from './content.js';
import { instantiateKernels } from '../kernel/loader.js';
import type { Kernels } from '../kernel/types.js';
import type { SetupTask } from './messages.js';
import { Xorshift128 } from '../util/prng.js';

/**
 * Where set-up puts the text corpus in a source slot's memory: its reserved low bytes, which no
 * kernel uses (src/kernel/types.ts), exactly 64 KiB as the corpus.
 */
export const CORPUS_PTR = 0;

/** Bytes between touches of a fresh memory: one per 4 KiB page faults it all in. */
const TOUCH_STRIDE_BYTES = 4096;

/**
 * A thread's side of a set-up task. `kernels[m][slot]` may be given (the main thread has them),
 * else they are instantiated here as needed.
 */
export class SetupWorker {
  private readonly counter: Int32Array;
  private readonly kernels: Kernels[][];
  /** Items this thread did. */
  done = 0;

  constructor(
    private readonly task: SetupTask,
    kernels?: Kernels[][],
  ) {
    this.counter = new Int32Array(task.counter);
    this.kernels = kernels ?? task.memories.map(() => []);
  }

  /** Does the next item; false when none was left. */
  next(): boolean {
    const i = Atomics.add(this.counter, 0, 1);
    if (i >= this.task.items.length) return false;
    this.run(i);
    this.done++;
    return true;
  }

  private kernelsOf(m: number, slot: number): Kernels {
    this.kernels[m][slot] ??= instantiateKernels(this.task.module, this.task.memories[m][slot].memory);
    return this.kernels[m][slot];
  }

  private run(i: number): void {
    const task = this.task;
    const item = task.items[i];
    const handle = task.memories[item.memory][item.slot];
    const fresh = task.fresh[item.memory][item.slot];
    if (item.kind === 'fill') {
      const l = handle.layout;
      const pages = new Uint8Array(handle.memory.buffer, l.pagesPtr, l.pageCount * l.pageSizeBytes);
      const touched = new Uint8Array(handle.memory.buffer, l.touchedPtr, l.pageCount);
      fillContentRange(
        pages,
        l.firstPage,
        item.fromPage,
        item.toPage,
        l.pageSizeBytes,
        task.seed,
        task.content,
        Xorshift128.fromState(item.rng),
        fresh,
        { kernels: this.kernelsOf(item.memory, item.slot), pagesPtr: l.pagesPtr, corpusPtr: CORPUS_PTR },
        item.touchedOnly ? touched : undefined,
      );
      touched.fill(0, item.fromPage, item.toPage);
    } else if (fresh) {
      const bytes = new Uint8Array(handle.memory.buffer, item.from, item.to - item.from);
      for (let at = 0; at < bytes.length; at += TOUCH_STRIDE_BYTES) bytes[at] = 0;
    } else {
      this.kernelsOf(item.memory, item.slot).fillBytes(item.from, item.to - item.from, 0);
    }
  }
}
