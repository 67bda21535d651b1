/**
 * Set-up of a run's guest memories, before the clock starts, on every core: the source's initial
 * content is written and the target made zero, in 16 MiB items that all threads (the main thread
 * and availableParallelism - 1 piscina workers) take from one shared counter, so the work balances
 * itself. Each byte is touched once: a fresh memory is faulted in by the write that fills it (or,
 * where it stays zero, by one touch per 4 KiB), a reused one (src/memory/pool.ts) is rewritten
 * without a fault. The content is the same byte for byte as fillInitialContent's sequential fill:
 * each fill item starts from the slot's content stream as it stands at its first page.
 */
import os from 'node:os';
import { Piscina } from 'piscina';
import { contentStreamStates, textCorpus, writeTextCorpus, type ContentMix } from './content.js';
import type { SetupItem, SetupTask } from './messages.js';
import type { GuestMemory } from './guest-memory.js';
import type { SlotLayout } from './layout.js';
import { CORPUS_PTR, SetupWorker } from './setup-work.js';

const SETUP_WORKER = new URL('./setup-worker.js', import.meta.url).href;
/** Bytes per item: small enough to balance two threads, large enough that taking one costs nothing. */
export const SETUP_ITEM_BYTES = 16 * 1024 * 1024;

export interface SetupPlan {
  module: WebAssembly.Module;
  /** The source guest, to fill with its initial content (all of its memory is rewritten). */
  source?: { memory: GuestMemory; seed: number; content: ContentMix };
  /** Memories to make all zero: a target's. */
  zero?: GuestMemory[];
  /** Whether the calling thread takes items too; a receiver keeps its event loop free. Default true. */
  mainThreadWorks?: boolean;
  /** Threads in all, the main one included when it works. Default os.availableParallelism(). */
  threads?: number;
}

export interface SetupReport {
  wallMs: number;
  /** Threads that took items, the main one included when it worked. */
  threads: number;
  /** Slot memories that were new (faulted in now) and reused (rewritten). */
  freshSlots: number;
  reusedSlots: number;
}

/**
 * The set-up threads, kept for the next set-up (starting one costs about 50 ms here, a quarter of
 * a reused 1 GiB guest's set-up), one pool per thread count asked for: set-ups may overlap (a
 * receiver and a source in one process). Idle, they do not keep the process alive (piscina unrefs
 * them). A thread that has worked on a memory may keep it alive after its task, even with its heap
 * collected (seen: one time in six, a 1 GiB run after two 256 MiB runs peaked 250 MiB above its
 * need), so when the memory pool lets memories go it retires these threads (retireSetupThreads):
 * their isolates end, and with them any reference to a released memory.
 */
interface SetupThreads {
  piscina: Piscina;
  /** Set-ups running on it. */
  busy: number;
  /** Retired while busy: ends when its last set-up does. */
  retired: boolean;
}

const threadPools = new Map<number, SetupThreads>();

function setupThreads(workers: number): SetupThreads {
  let pool = threadPools.get(workers);
  if (!pool) {
    pool = {
      piscina: new Piscina({ filename: SETUP_WORKER, minThreads: workers, maxThreads: workers, idleTimeout: Infinity }),
      busy: 0,
      retired: false,
    };
    threadPools.set(workers, pool);
  }
  return pool;
}

/** Ends the set-up threads (those at work, once their set-up is done); new ones start when needed. */
export function retireSetupThreads(): void {
  for (const pool of threadPools.values()) {
    pool.retired = true;
    if (pool.busy === 0) void pool.piscina.destroy();
  }
  threadPools.clear();
}

/** Splits [from, to) into clear items of at most SETUP_ITEM_BYTES. */
function clearItems(memory: number, slot: number, from: number, to: number): SetupItem[] {
  const items: SetupItem[] = [];
  for (let at = from; at < to; at += SETUP_ITEM_BYTES)
    items.push({ kind: 'clear', memory, slot, from: at, to: Math.min(to, at + SETUP_ITEM_BYTES) });
  return items;
}

/**
 * What each memory's page area holds since set-up last filled it, as the fill's parameters; kept
 * only while that is so (a memory made zero, or being set up, has none). With the touched map, a
 * reused source of the same content needs only its written pages rewritten.
 */
const filledWith = new WeakMap<WebAssembly.Memory, string>();

/** Something other than set-up rewrote the memory's pages (a trace's initial content): its next set-up rewrites all of them. */
export function contentRewritten(memory: GuestMemory): void {
  for (const s of memory.slots) filledWith.delete(s.memory);
}

const contentTag = (l: SlotLayout, seed: number, c: ContentMix): string =>
  `${seed}:${c.zeroPercent}:${c.textPercent}:${c.randomPercent}:${JSON.stringify(c.placement ?? null)}:${l.firstPage}:${l.pageCount}:${l.pageSizeBytes}:${l.pagesPtr}`;

interface SetupItems {
  memories: GuestMemory[];
  items: SetupItem[];
  /** To record once every item is done: each source slot's memory and its new content. */
  filled: Array<[WebAssembly.Memory, string]>;
}

function planSetupItems(plan: SetupPlan): SetupItems {
  const memories: GuestMemory[] = [];
  const fills: SetupItem[] = [];
  const clears: SetupItem[] = [];
  const filled: Array<[WebAssembly.Memory, string]> = [];
  if (plan.source) {
    const { memory, seed, content } = plan.source;
    const m = memories.push(memory) - 1;
    for (const s of memory.slots) {
      const l = s.layout;
      if (l.pages === 'procedural') {
        // No pages to fill: a fresh memory is all zero (nothing is touched, so nothing is resident);
        // a reused one is cleared.
        filledWith.delete(s.memory);
        if (!memory.fresh[l.index]) clears.push(...clearItems(m, l.index, l.startBytes, l.endBytes));
        continue;
      }
      const tag = contentTag(l, seed, content);
      const touchedOnly = !memory.fresh[l.index] && filledWith.get(s.memory) === tag;
      filledWith.delete(s.memory);
      filled.push([s.memory, tag]);
      const chunkPages = Math.max(1, Math.floor(SETUP_ITEM_BYTES / l.pageSizeBytes));
      const states = contentStreamStates(l.firstPage, l.pageCount, l.pageSizeBytes, seed, content, chunkPages);
      states.forEach((rng, k) =>
        fills.push({
          kind: 'fill',
          memory: m,
          slot: l.index,
          fromPage: k * chunkPages,
          toPage: Math.min(l.pageCount, (k + 1) * chunkPages),
          rng,
          touchedOnly,
        }),
      );
      // The reserved low bytes get the text corpus (before any item runs); the bytes between them
      // and the pages (the target's offset), and bitmaps, lists, hashes and frame buffers are
      // cleared; the touched map is the fill items' (they read it, then clear their pages' bytes).
      if (CORPUS_PTR + textCorpus().length > l.pagesPtr)
        throw new RangeError('the text corpus does not fit below the pages');
      writeTextCorpus(new Uint8Array(s.memory.buffer), CORPUS_PTR);
      clears.push(
        ...clearItems(m, l.index, textCorpus().length, l.pagesPtr),
        ...clearItems(m, l.index, l.pagesPtr + l.pageCount * l.pageSizeBytes, l.touchedPtr),
        ...clearItems(m, l.index, l.touchedPtr + l.pageCount, l.endBytes),
      );
    }
  }
  for (const memory of plan.zero ?? []) {
    const m = memories.push(memory) - 1;
    for (const s of memory.slots) {
      filledWith.delete(s.memory);
      if (s.layout.pages === 'procedural' && memory.fresh[s.layout.index]) continue;
      clears.push(...clearItems(m, s.layout.index, s.layout.startBytes, s.layout.endBytes));
    }
  }
  // Fills first: they take longest, and the clears even out the end.
  return { memories, items: [...fills, ...clears], filled };
}

function setupTask(plan: SetupPlan): { memories: GuestMemory[]; task: SetupTask; filled: SetupItems['filled'] } {
  const { memories, items, filled } = planSetupItems(plan);
  const task: SetupTask = {
    kind: 'setup',
    module: plan.module,
    memories: memories.map((m) => m.slots),
    fresh: memories.map((m) => m.fresh),
    items,
    counter: new SharedArrayBuffer(4),
    seed: plan.source?.seed ?? 0,
    content: plan.source?.content ?? { zeroPercent: 100, textPercent: 0, randomPercent: 0 },
  };
  return { memories, task, filled };
}

function report(memories: readonly GuestMemory[], t0: number, threads: number): SetupReport {
  const slots = memories.flatMap((m) => m.fresh);
  return {
    wallMs: performance.now() - t0,
    threads,
    freshSlots: slots.filter(Boolean).length,
    reusedSlots: slots.filter((f) => !f).length,
  };
}

export async function setUpMemories(plan: SetupPlan): Promise<SetupReport> {
  const t0 = performance.now();
  const { memories, task, filled } = setupTask(plan);
  const items = task.items;
  const mainWorks = plan.mainThreadWorks ?? true;
  const threads = Math.max(1, plan.threads ?? os.availableParallelism());
  const workers = Math.min(items.length, Math.max(mainWorks ? 0 : 1, threads - (mainWorks ? 1 : 0)));
  const pool = workers > 0 ? setupThreads(workers) : undefined;
  if (pool) pool.busy++;
  try {
    const running = Array.from({ length: workers }, () => (pool as SetupThreads).piscina.run(task) as Promise<number>);
    if (mainWorks) {
      const main = new SetupWorker(
        task,
        memories.map((m) => m.kernels),
      );
      // One item per turn of the event loop: piscina hands the workers their tasks meanwhile.
      while (main.next()) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(running);
  } finally {
    if (pool && --pool.busy === 0 && pool.retired) void pool.piscina.destroy();
  }
  // piscina may keep a finished task object a while: nothing in it may keep the memories alive.
  task.memories.length = 0;
  task.items.length = 0;
  for (const [memory, tag] of filled) filledWith.set(memory, tag);
  return report(memories, t0, workers + (mainWorks ? 1 : 0));
}
