/**
 * A two-level bitmap: a summary bit per bitmap word (64 pages) lets the scan skip clean regions
 * without reading their words, which pays on large, sparsely written guests.
 */
import type { DirtyLog, MarkMode } from './dirty-log.js';
import { BitmapDirtyLog } from './bitmap.js';

export class TwoLevelDirtyLog extends BitmapDirtyLog {
  override readonly name: DirtyLog['name'] = 'two-level';
  override readonly markMode: MarkMode = { kind: 'two-level' };

  override start(): void {
    super.start();
    for (const s of this.memory.slots) new Uint8Array(s.memory.buffer, s.layout.summaryPtr, s.layout.summaryWords * 8).fill(0);
  }

  override fetch(slot: number): number {
    const l = this.memory.slots[slot].layout;
    return this.checked(
      this.memory.kernels[slot].scanAndClearTwoLevel(l.summaryPtr, l.bitmapPtr, l.bitmapWords, l.listPtr, l.bitmapWords * 64),
    );
  }
}
