/**
 * KVM's KVM_GET_DIRTY_LOG: each round fetches and clears the whole bitmap at once, then sends.
 * A page written after the fetch but before its copy is sent in this round and again in the next.
 */
import type { GuestMemory } from '../memory/guest-memory.js';
import type { DirtyLog, DirtyLogRoundStats, MarkMode } from './dirty-log.js';
import { loggingFlag, type DirtyCosts } from './cost-meter.js';

export class BitmapDirtyLog implements DirtyLog {
  readonly name: DirtyLog['name'] = 'bitmap';
  readonly markMode: MarkMode;

  constructor(
    protected readonly memory: GuestMemory,
    readonly costs: DirtyCosts,
  ) {
    this.markMode = { kind: 'bitmap', cost: costs.vcpu };
  }

  start(): void {
    this.memory.clearDirtyLog();
    chargeEnable(this.memory, this.costs);
  }

  fetch(slot: number): number {
    const l = this.memory.slots[slot].layout;
    const n = this.checked(
      this.memory.kernels[slot].scanAndClear(l.bitmapPtr, 0, l.bitmapWords, l.listPtr, l.bitmapWords * 64),
    );
    // KVM_GET_DIRTY_LOG: the ioctl, the bitmap's walk and copy, each dirty page write-protected again.
    chargeSync(this.memory, this.costs, slot);
    this.costs.meter.charge('syncMs', n * this.costs.params.protectPerPageUs);
    return n;
  }

  beforeSend(_slot: number, _offset: number, _count: number, _firstRound: boolean): void {}

  pending(): number {
    return this.memory.countDirty();
  }

  service(_nowMs: number): void {}

  takeRoundStats(): DirtyLogRoundStats {
    return {};
  }

  protected checked(n: number): number {
    if (n < 0) throw new Error('dirty scan overflowed its page list');
    return n;
  }
}

/** GiB of guest memory in a slot. */
function slotGiB(memory: GuestMemory, slot: number): number {
  const l = memory.slots[slot].layout;
  return (l.pageCount * memory.layout.pageSizeBytes) / 2 ** 30;
}

/** Enabling dirty logging: the whole guest write-protected (or, initially-all-set, next to nothing); vCPUs fault from now on. */
export function chargeEnable(memory: GuestMemory, costs: DirtyCosts): void {
  loggingFlag(costs.vcpu)[0] = 1; // from now on a write to a protected page faults
  costs.meter.charge(
    'enableMs',
    ((memory.layout.pageCount * memory.layout.pageSizeBytes) / 2 ** 30) * costs.params.enablePerGiBUs,
  );
}

/** A fetch of one slot's bitmap: the ioctl (once per fetch, at slot 0) and the walk of the slot's bitmap. */
export function chargeSync(memory: GuestMemory, costs: DirtyCosts, slot: number): void {
  costs.meter.charge(
    'syncMs',
    (slot === 0 ? costs.params.syncUs : 0) + slotGiB(memory, slot) * costs.params.syncPerGiBUs,
  );
}
