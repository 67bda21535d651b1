/**
 * One vCPU after a post-copy switch-over: it runs on the target, whose memory still lacks the pages
 * that were dirty at suspension. A page's bit in the target slot's bitmap means "not arrived yet";
 * a vCPU that touches such a page requests it (a push into its request ring) and blocks until it
 * arrives, as a userfaultfd fault does under QEMU. Every write is also mirrored into the source's
 * memory, so that at the end the target can be checked, byte for byte, against what the guest
 * wrote; where the source is on another host, a page is kept as it arrived before its first write
 * instead (PostcopyPlacement.pristine), so the target can put back what the source sent.
 */
import type { PostcopyWriterTask } from './messages.js';
import type { SlotHandle } from '../memory/layout.js';
import { HEAD, STALLS, ringPush, ringViews, type RingViews } from '../dirtylog/ring.js';
import { WriteStream } from './write-stream.js';
import { ProceduralMemory } from '../memory/procedural.js';

/** What a post-copy vCPU needs: its task, less what the pacing loop around it uses. */
export type PostcopyVcpuSpec = Omit<PostcopyWriterTask, 'kind' | 'control' | 'pageWritesPerSec'>;

export class PostcopyVcpu {
  readonly requests: RingViews;
  private readonly target: Uint8Array[];
  private readonly shadow: Uint8Array[];
  /** Per source slot, a byte per page: the mirror wrote it (SlotLayout.touchedPtr). */
  private readonly shadowTouched: Uint8Array[];
  /** Per target slot: the "not arrived" bits. */
  readonly missing: Int32Array[];
  private readonly stream: WriteStream;
  /** The page of the write in progress (chosen, maybe waiting for it), or -1. */
  private pending = -1;
  /** The stream goes on from the source's writes (read at the first write). */
  private continued = false;
  /** Where writes go when the pages are procedural: the log, both sides' states; null: the memories. */
  private readonly procedural: ProceduralMemory | null;
  /** Per target slot: pages as they arrived, and each page's state (PostcopyPlacement.pristine); [] when mirroring. */
  private readonly pristine: Uint8Array[];
  private readonly pristineState: Uint8Array[];

  constructor(private readonly spec: PostcopyVcpuSpec) {
    const size = spec.guest.pageSizeBytes;
    const pages = (s: SlotHandle): Uint8Array =>
      new Uint8Array(s.memory.buffer, s.layout.pagesPtr, s.layout.pageCount * size);
    this.procedural = spec.procedural ? new ProceduralMemory(spec.procedural) : null;
    this.target = this.procedural ? [] : spec.targetSlots.map(pages);
    this.shadow = this.procedural ? [] : spec.shadowSlots.map(pages);
    this.shadowTouched = this.procedural
      ? []
      : spec.shadowSlots.map((s) => new Uint8Array(s.memory.buffer, s.layout.touchedPtr, s.layout.pageCount));
    this.missing = spec.targetSlots.map(
      (s) => new Int32Array(s.memory.buffer, s.layout.bitmapPtr, s.layout.bitmapWords * 2),
    );
    this.pristine = (spec.pristine ?? []).map((b) => new Uint8Array(b));
    this.pristineState = spec.pristine
      ? spec.targetSlots.map((s) => new Uint8Array(s.memory.buffer, s.layout.touchedPtr, s.layout.pageCount))
      : [];
    this.requests = ringViews(spec.requests);
    // A stream of its own: the post-copy guest is a continuation, not a replay, of the source's.
    this.stream = new WriteStream(spec, 5000);
  }

  /** The page the next write goes to (chosen now, or the one it is waiting for). */
  nextPage(): number {
    if (!this.continued) {
      // The first write after the switch: the source's writes are known by now (set before resume).
      this.continued = true;
      this.stream.continueAfter(new Float64Array(this.spec.sourceWrites)[this.spec.vcpu] ?? 0);
    }
    if (this.pending < 0) this.pending = this.stream.choose();
    return this.pending;
  }

  /** Where a page's "not arrived" bit lives: [slot, 32-bit word, bit]. */
  private locate(page: number): [number, number, number] {
    const { slot, local } = this.stream.place(page);
    return [slot, local >>> 5, 1 << (local & 31)];
  }

  isMissing(page: number): boolean {
    const [slot, word, bit] = this.locate(page);
    return (Atomics.load(this.missing[slot], word) & bit) !== 0;
  }

  /** The word to wait on for `page` to arrive: [array, index, value seen]. */
  waitWord(page: number): [Int32Array, number, number] {
    const [slot, word] = this.locate(page);
    return [this.missing[slot], word, Atomics.load(this.missing[slot], word)];
  }

  /** Asks the source for `page` (an urgent request) and counts it. */
  request(page: number): void {
    const r = this.requests;
    ringPush(r, page);
    Atomics.store(r.i32, STALLS, r.i32[STALLS] + 1);
    Atomics.notify(r.i32, HEAD); // a receiver on another host's behalf waits on it (src/receiver/)
  }

  /** Keeps `local` of `slot` as it arrived, once, before the guest's first write to it (several vCPUs may race). */
  private keepPristine(slot: number, local: number): void {
    const state = this.pristineState[slot];
    if (Atomics.load(state, local) === 2) return;
    if (Atomics.compareExchange(state, local, 0, 1) === 0) {
      const size = this.spec.guest.pageSizeBytes;
      const at = local * size;
      this.pristine[slot].set(this.target[slot].subarray(at, at + size), at);
      Atomics.store(state, local, 2);
      return;
    }
    while (Atomics.load(state, local) !== 2); // another vCPU copies it: 4 KiB, a moment
  }

  /** Performs the pending write (its page has arrived): into the target, mirrored into the source. */
  write(): void {
    const page = this.nextPage();
    this.pending = -1;
    if (this.procedural) {
      // One record: the target's state and the source's mirror both move to it.
      this.stream.writeLogged(this.procedural, page, true);
      return;
    }
    const { slot, local } = this.stream.place(page);
    if (this.pristine.length > 0) {
      this.keepPristine(slot, local);
      this.stream.write(this.target[slot], page, local);
      return;
    }
    const at = this.stream.write(this.target[slot], page, local);
    const len = this.spec.writeSizeBytes;
    this.shadowTouched[slot][local] = 1;
    this.shadow[slot].set(this.target[slot].subarray(at, at + len), at);
  }
}
