/** Which page a vCPU writes next: the write patterns of --pattern, as pure seeded streams. */
import type { WritePattern } from '../config/types.js';
import { type Xorshift128 } from '../util/prng.js';

export type PageChooser = () => number;

export function pageChooser(
  pattern: WritePattern,
  pageCount: number,
  vcpu: number,
  vcpus: number,
  rng: Xorshift128,
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
      // vCPU v walks pages v, v + vcpus, v + 2 * vcpus ...: together they sweep the guest in order.
      let next = vcpu % pageCount;
      return () => {
        const page = next;
        next += vcpus;
        if (next >= pageCount) next = (next % vcpus) % pageCount;
        return page;
      };
    }
  }
}

/** The hot set of `hotset:FRACTION:…` on a guest of pageCount pages: its first this many pages. */
export function hotPageCount(pageCount: number, fraction: number): number {
  return Math.max(1, Math.min(pageCount, Math.round(pageCount * fraction)));
}
