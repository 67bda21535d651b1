/**
 * The process's guest-memory pool. A finished run gives its memories (source and target slots)
 * back; the next run, or the receiver's next migration, takes memories of a fitting size from it
 * instead of allocating: a reused memory is resident already, so set-up rewrites its bytes
 * (src/memory/setup.ts) without a page fault. Memories that the next request cannot use are
 * released for real before anything new is allocated (see gc.ts for what that takes), so the pool
 * holds at most what one run needs and a suite's memory stays flat however many runs it has.
 *
 * A memory fits when it is at least the layout's bytes for it and at most 1/8 (plus 1 MiB)
 * longer: guests a few pages apart (a receiver alternating 512 MiB and 512 MiB + 4 KiB) share
 * memories, while a small guest never holds on to a large guest's resident bytes.
 */
import { GuestMemory } from './guest-memory.js';
import type { GuestLayout } from './layout.js';
import { collectGarbage } from './gc.js';
import { retireSetupThreads } from './setup.js';

const MiB = 1024 * 1024;

/** What lets dropped memories go for real: every thread that may still hold them lets go. */
function release(): void {
  retireSetupThreads();
  collectGarbage();
}

/** The longest memory that may serve a slot of `needBytes`. */
export function longestFitting(needBytes: number): number {
  return needBytes + Math.floor(needBytes / 8) + MiB;
}

export interface PoolStats {
  /** Memories handed out again instead of allocated. */
  reused: number;
  /** New memories allocated. */
  allocated: number;
  /** Idle memories dropped because no request fitted them. */
  released: number;
}

export class MemoryPool {
  private idle: WebAssembly.Memory[] = [];
  readonly stats: PoolStats = { reused: 0, allocated: 0, released: 0 };

  /** Bytes of the idle memories, by their full length (what they may keep resident). */
  idleBytes(): number {
    return this.idle.reduce((n, m) => n + m.buffer.byteLength, 0);
  }

  /** Idle memories. */
  idleCount(): number {
    return this.idle.length;
  }

  /**
   * One guest memory per layout, all at once, so that one run's needs are matched together:
   * the largest slots pick first, each the shortest idle memory that fits. Idle memories left
   * over are released (and collected) before the missing ones are allocated.
   */
  acquire(layouts: readonly GuestLayout[], module: WebAssembly.Module): GuestMemory[] {
    const chosen = this.take(layouts);
    if (this.dropIdle() > 0) release();
    return layouts.map((l, g) => {
      const memory = new GuestMemory(l, module, chosen[g]);
      this.stats.allocated += l.memoryBytes.filter((_, i) => chosen[g][i] === undefined).length;
      return memory;
    });
  }

  /** Takes out of the idle list a fitting memory for each memory of a layout that has one: [layout][memory]. */
  private take(layouts: readonly GuestLayout[]): Array<Array<WebAssembly.Memory | undefined>> {
    const requests = layouts.flatMap((l, g) => l.memoryBytes.map((need, i) => ({ g, i, need })));
    requests.sort((a, b) => b.need - a.need);
    const chosen = layouts.map((l) => new Array<WebAssembly.Memory | undefined>(l.memoryBytes.length));
    this.idle.sort((a, b) => a.buffer.byteLength - b.buffer.byteLength);
    for (const r of requests) {
      const at = this.idle.findIndex(
        (m) => m.buffer.byteLength >= r.need && m.buffer.byteLength <= longestFitting(r.need),
      );
      if (at < 0) continue;
      chosen[r.g][r.i] = this.idle[at];
      this.idle.splice(at, 1);
      this.stats.reused++;
    }
    return chosen;
  }

  /**
   * Gives memories back for the next acquire. The caller keeps no view of them. Procedural
   * memories are not kept: a new one costs nothing until touched, while a reused one is cleared
   * whole at set-up, frames, lists and scratch of every slot (about 10 MiB a 2 GiB slot): a suite's
   * second 1 TiB run peaked at 13 GiB that way, against 2.6 GiB for its first. The run's
   * collection (src/driver/migrate.ts) frees them.
   */
  release(...memories: ReadonlyArray<GuestMemory | undefined>): void {
    for (const m of memories) {
      if (m === undefined || m.layout.slots.some((s) => s.pages === 'procedural')) continue;
      this.idle.push(...m.memories);
    }
  }

  /** Releases every idle memory for real. */
  drain(): void {
    // The list is dropped in a call of its own: a frame that had loaded it may keep it in a
    // register through the collection (seen: one collection freed nothing, the next did).
    if (this.dropIdle() > 0) release();
  }

  private dropIdle(): number {
    const n = this.idle.length;
    this.idle = [];
    this.stats.released += n;
    return n;
  }
}

/** The pool of this process: runs, suites and the receiver share it. */
export const memoryPool = new MemoryPool();
