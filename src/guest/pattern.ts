/** Which page a vCPU writes next: the write patterns of --pattern, as pure seeded streams. */
import type { Xorshift128 } from '../util/prng.js';
import { NUMBER, invalid } from '../util/units.js';

export type WritePattern =
  | { kind: 'uniform' }
  /** A fraction of the pages (the hot set) receives `probability` of the writes. */
  | { kind: 'hotset'; fraction: number; probability: number }
  /** Writes walk the guest's pages in order, wrapping around: all of them, or its first `fraction` (a working set). */
  | { kind: 'sequential'; fraction?: number };

export type PageChooser = () => number;

export function pageChooser(
  pattern: WritePattern,
  pageCount: number,
  vcpu: number,
  vcpus: number,
  rng: Xorshift128,
  /** Writes this vCPU already did: a walk goes on from there (a post-copy guest continuing the source's). */
  after = 0,
): PageChooser {
  switch (pattern.kind) {
    case 'uniform':
      return () => rng.below(pageCount);
    case 'hotset': {
      const hotPages = hotPageCount(pageCount, pattern.fraction);
      const coldPages = pageCount - hotPages;
      const p = pattern.probability;
      return () => (coldPages === 0 || rng.nextFloat() < p ? rng.below(hotPages) : hotPages + rng.below(coldPages));
    }
    case 'sequential': {
      // vCPU v walks pages v, v + vcpus, v + 2 * vcpus ...: together they sweep the guest (or its
      // working set, the first pages) in order.
      const walked = pattern.fraction === undefined ? pageCount : hotPageCount(pageCount, pattern.fraction);
      const cycle = Math.max(1, Math.ceil((walked - (vcpu % walked)) / vcpus));
      let next = (vcpu % walked) + (after % cycle) * vcpus;
      if (next >= walked) next = vcpu % walked;
      return () => {
        const page = next;
        next += vcpus;
        if (next >= walked) next = (next % vcpus) % walked;
        return page;
      };
    }
  }
}

/** The hot set of `hotset:FRACTION:…` on a guest of pageCount pages: its first this many pages. */
export function hotPageCount(pageCount: number, fraction: number): number {
  return Math.max(1, Math.min(pageCount, Math.round(pageCount * fraction)));
}

const PATTERN_FORM =
  'uniform, sequential, sequential:FRACTION or hotset:FRACTION:PROBABILITY such as hotset:0.1:0.9 ' +
  '(0 < FRACTION <= 1, 0 <= PROBABILITY <= 1)';

/** Parses a write pattern: `uniform`, `sequential`, `sequential:FRACTION` or `hotset:FRACTION:PROBABILITY`. */
export function parsePattern(option: string, text: string): WritePattern {
  const t = text.trim().toLowerCase();
  if (t === 'uniform') return { kind: 'uniform' };
  if (t === 'sequential') return { kind: 'sequential' };
  const walk = new RegExp(`^sequential:${NUMBER}$`).exec(t);
  if (walk !== null && Number(walk[1]) > 0 && Number(walk[1]) <= 1)
    return { kind: 'sequential', fraction: Number(walk[1]) };
  const m = new RegExp(`^hotset:${NUMBER}:${NUMBER}$`).exec(t);
  if (m !== null) {
    const fraction = Number(m[1]);
    const probability = Number(m[2]);
    if (fraction > 0 && fraction <= 1 && probability >= 0 && probability <= 1) {
      return { kind: 'hotset', fraction, probability };
    }
  }
  throw invalid(option, PATTERN_FORM, text);
}
