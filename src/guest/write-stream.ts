/**
 * One vCPU's stream of writes, shared by the source's vCPUs (vcpu.ts) and the post-copy vCPUs on
 * the target (postcopy-vcpu.ts): which page the next write goes to (the pattern), where in the
 * page, and its bytes (of the page's content kind), all from the vCPU's own seeded generator.
 */
import type { ContentMix } from '../memory/content.js';
import type { WritePattern } from './pattern.js';
import type { GuestShape } from '../memory/layout.js';
import { pageChooser, type PageChooser } from './pattern.js';
import { textCorpus, writeOfKind, writtenKind } from '../memory/content.js';
import { Xorshift128, deriveSeed } from '../util/prng.js';
import type { ProceduralHandle, ProceduralMemory } from '../memory/procedural.js';

export interface WriteStreamSpec {
  vcpu: number;
  vcpus: number;
  guest: GuestShape;
  pattern: WritePattern;
  writeSizeBytes: number;
  /** Seed of the content (what kind a written zero page becomes). */
  seed: number;
  /** Seed of the writes: which pages, where in them, what bytes (a suite's repeat derives its own). */
  writeSeed: number;
  content: ContentMix;
  /** The procedural memory the pages are (src/memory/procedural.ts); null: they are in the slots. */
  procedural: ProceduralHandle | null;
}

/** Where a global page lives: its slot and its number in the slot. */
export interface PagePlace {
  slot: number;
  local: number;
}

export class WriteStream {
  private readonly rng: Xorshift128;
  private chooser: PageChooser;
  private readonly text = textCorpus();
  private readonly maxOffset: number;

  /** `stream` tells streams of one vCPU apart (the source's guest, and its continuation on the target). */
  constructor(
    private readonly spec: WriteStreamSpec,
    stream: number,
  ) {
    this.rng = new Xorshift128(deriveSeed(spec.writeSeed, stream + spec.vcpu));
    this.chooser = pageChooser(spec.pattern, spec.guest.pageCount, spec.vcpu, spec.vcpus, this.rng);
    this.maxOffset = spec.guest.pageSizeBytes - spec.writeSizeBytes;
  }

  /** The vCPU did `writes` writes before this stream (the source's, before a post-copy switch): a walk goes on from there. */
  continueAfter(writes: number): void {
    const { spec } = this;
    this.chooser = pageChooser(spec.pattern, spec.guest.pageCount, spec.vcpu, spec.vcpus, this.rng, writes);
  }

  /** The global page of the next write. */
  choose(): number {
    return this.chooser();
  }

  place(page: number): PagePlace {
    const slot = Math.floor(page / this.spec.guest.pagesPerSlot);
    return { slot, local: page - slot * this.spec.guest.pagesPerSlot };
  }

  /**
   * One write into a procedural memory (src/memory/procedural.ts): the same draws as write(), its
   * bytes kept in the log; `both`, the target's state moves too (post-copy). Returns its record.
   */
  writeLogged(memory: ProceduralMemory, page: number, both = false): number {
    const offset = this.maxOffset > 0 ? this.rng.below(this.maxOffset + 1) : 0;
    return memory.write(page, offset, this.rng, both);
  }

  /**
   * Writes one write's bytes to global page `page`, number `local` of the slot whose pages are
   * `pages`; returns the offset in `pages` it wrote writeSizeBytes at.
   */
  write(pages: Uint8Array, page: number, local: number): number {
    const at = local * this.spec.guest.pageSizeBytes + (this.maxOffset > 0 ? this.rng.below(this.maxOffset + 1) : 0);
    writeOfKind(
      pages,
      at,
      this.spec.writeSizeBytes,
      writtenKind(this.spec.seed, page, this.spec.content),
      this.rng,
      this.text,
    );
    return at;
  }
}
