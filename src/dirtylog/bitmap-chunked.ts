/**
 * KVM's KVM_CLEAR_DIRTY_LOG (manual protect): a round fetches the bitmap without clearing it and
 * clears each chunk of pages just before sending it, so a page written between the fetch and its
 * copy goes once, with its newest bytes, instead of again next round. Round 0 clears too, as with
 * KVM's initially-all-set mode: a page written before its first copy is not sent twice.
 */
import type { DirtyLog } from './dirty-log.js';
import { BitmapDirtyLog, chargeSync } from './bitmap.js';

export class ChunkedBitmapDirtyLog extends BitmapDirtyLog {
  override readonly name: DirtyLog['name'] = 'bitmap-chunked';

  override fetch(slot: number): number {
    const l = this.memory.slots[slot].layout;
    const n = this.checked(
      this.memory.kernels[slot].collectDirty(l.bitmapPtr, 0, l.bitmapWords, l.listPtr, l.bitmapWords * 64),
    );
    // KVM_GET_DIRTY_LOG with manual protect: the bitmap's copy only; protection waits for the clears.
    chargeSync(this.memory, this.costs, slot);
    return n;
  }

  override beforeSend(slot: number, offset: number, count: number, _firstRound: boolean): void {
    // Clear, then copy: a write after this clear is marked again and goes next round.
    const l = this.memory.slots[slot].layout;
    const cleared = this.memory.kernels[slot].clearPages(l.bitmapPtr, l.listPtr + offset * 4, count);
    // One KVM_CLEAR_DIRTY_LOG when the chunk holds dirty pages, write-protecting them again.
    if (cleared > 0)
      this.costs.meter.charge('clearMs', this.costs.params.clearUs + cleared * this.costs.params.protectPerPageUs);
  }
}
