/**
 * KVM's KVM_GET_DIRTY_LOG: each round fetches and clears the whole bitmap at once, then sends.
 * A page written after the fetch but before its copy is sent in this round and again in the next.
 */
import type { GuestMemory } from '../memory/guest-memory.js';
import type { DirtyLog, DirtyLogRoundStats, MarkMode } from './dirty-log.js';

export class BitmapDirtyLog implements DirtyLog {
  readonly name: DirtyLog['name'] = 'bitmap';
  readonly markMode: MarkMode = { kind: 'bitmap' };

  constructor(protected readonly memory: GuestMemory) {}

  start(): void {
    this.memory.clearDirtyLog();
  }

  fetch(slot: number): number {
    const l = this.memory.slots[slot].layout;
    return this.checked(this.memory.kernels[slot].scanAndClear(l.bitmapPtr, 0, l.bitmapWords, l.listPtr, l.bitmapWords * 64));
  }

  beforeSend(_slot: number, _offset: number, _count: number, _firstRound: boolean): void {}

  pending(): number {
    return this.memory.countDirty();
  }

  service(): void {}

  takeRoundStats(): DirtyLogRoundStats {
    return {};
  }

  protected checked(n: number): number {
    if (n < 0) throw new Error('dirty scan overflowed its page list');
    return n;
  }
}
