/**
 * A two-level bitmap: a summary bit per bitmap word (64 pages) lets the scan skip clean regions
 * without reading their words, which pays on large, sparsely written guests.
 */
import type { DirtyLog, MarkMode } from './dirty-log.js';
import type { DirtyCosts } from './cost-meter.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import { BitmapDirtyLog, chargeSync } from './bitmap.js';

export class TwoLevelDirtyLog extends BitmapDirtyLog {
  override readonly name: DirtyLog['name'] = 'two-level';
  override readonly markMode: MarkMode;

  constructor(memory: GuestMemory, costs: DirtyCosts) {
    super(memory, costs);
    this.markMode = { kind: 'two-level', cost: costs.vcpu };
  }

  override start(): void {
    super.start();
    for (const s of this.memory.slots)
      new Uint8Array(s.memory.buffer, s.layout.summaryPtr, s.layout.summaryWords * 8).fill(0);
  }

  override fetch(slot: number): number {
    const l = this.memory.slots[slot].layout;
    const n = this.checked(
      this.memory.kernels[slot].scanAndClearTwoLevel(
        l.summaryPtr,
        l.bitmapPtr,
        l.bitmapWords,
        l.listPtr,
        l.bitmapWords * 64,
      ),
    );
    // The walk of the summary (its per-GiB cost is the summary's), each dirty page protected again.
    chargeSync(this.memory, this.costs, slot);
    this.costs.meter.charge('syncMs', n * this.costs.params.protectPerPageUs);
    return n;
  }
}
