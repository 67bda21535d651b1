/**
 * The guest's initial memory content: a deterministic (seeded) mix of zero pages, compressible
 * text-like pages and incompressible random pages, so that codecs have something real to do.
 */
import { Xorshift128, deriveSeed } from '../util/prng.js';

export const enum PageKind { Zero = 0, Text = 1, Random = 2 }

/** Shares of each kind among the pages, in percent; they add up to 100. */
export interface ContentMix {
  zeroPercent: number;
  textPercent: number;
  randomPercent: number;
}


const WORDS = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but ' +
  'have an they you were her all she there would their we him been has when who will more no if out ' +
  'page memory guest host migration dirty bitmap round copy kernel vcpu network frame target source ' +
  'resume suspend announce downtime bandwidth latency converge throttle register device state'
).split(' ');

/** 64 KiB of text-like bytes, the same for every seed: pages of kind Text are slices of it. */
let corpus: Uint8Array | undefined;
export function textCorpus(): Uint8Array {
  if (corpus) return corpus;
  const out = new Uint8Array(64 * 1024);
  const rng = new Xorshift128(0x7e57);
  let i = 0;
  while (i < out.length) {
    const word = WORDS[rng.below(WORDS.length)];
    for (let c = 0; c < word.length && i < out.length; c++) out[i++] = word.charCodeAt(c);
    if (i < out.length) out[i++] = rng.below(12) === 0 ? 10 : 32;
  }
  corpus = out;
  return out;
}

/** The kind of a page: a pure function of seed and page number. */
export function pageKind(seed: number, page: number, mix: ContentMix): PageKind {
  const r = deriveSeed(seed, page) % 100;
  if (r < mix.zeroPercent) return PageKind.Zero;
  if (r < mix.zeroPercent + mix.textPercent) return PageKind.Text;
  return PageKind.Random;
}

/**
 * Fills `pages` (the slot's page area, starting at global page firstPage) with initial content.
 * The memory is fresh, so zero pages are only touched (one byte per 4 KiB): faulting them in now
 * keeps the page faults (2-10 us each here) out of the migration's writes and copies.
 */
export function fillInitialContent(
  pages: Uint8Array, firstPage: number, pageCount: number, pageSizeBytes: number, seed: number, mix: ContentMix,
): void {
  const text = textCorpus();
  const words = new Uint32Array(pages.buffer, pages.byteOffset, (pageCount * pageSizeBytes) >>> 2);
  const rng = new Xorshift128(seed ^ 0x5eed);
  for (let p = 0; p < pageCount; p++) {
    const at = p * pageSizeBytes;
    switch (pageKind(seed, firstPage + p, mix)) {
      case PageKind.Zero:
        for (let b = at; b < at + pageSizeBytes; b += 4096) pages[b] = 0;
        break;
      case PageKind.Text: {
        let done = 0;
        while (done < pageSizeBytes) {
          const from = rng.below(text.length - 1);
          const n = Math.min(text.length - from, pageSizeBytes - done);
          pages.set(text.subarray(from, from + n), at + done);
          done += n;
        }
        break;
      }
      case PageKind.Random: {
        // xorshift32 (Marsaglia) seeded per page from the stream: a tight loop over local state.
        let x = rng.nextU32() | 1;
        const w1 = (at >>> 2) + (pageSizeBytes >>> 2);
        for (let w = at >>> 2; w < w1; w++) {
          x ^= x << 13;
          x ^= x >>> 17;
          x ^= x << 5;
          words[w] = x;
        }
        break;
      }
    }
  }
}

/**
 * Writes `length` bytes at `at` in `view` with data of the page's kind: zeros stay zeros, text
 * gets a slice of the text corpus, random gets random bytes. So compression and delta ratios of
 * dirtied pages stay those of their kind.
 */
export function writeOfKind(view: Uint8Array, at: number, length: number, kind: PageKind, rng: Xorshift128, text: Uint8Array): void {
  if (kind === PageKind.Zero) {
    if (length <= SMALL_WRITE_BYTES) for (let i = 0; i < length; i++) view[at + i] = 0;
    else view.fill(0, at, at + length);
  } else if (kind === PageKind.Text) {
    if (length <= SMALL_WRITE_BYTES) {
      // A few bytes (the usual write): a plain loop beats making a subarray to copy from.
      const from = rng.below(text.length - length);
      for (let i = 0; i < length; i++) view[at + i] = text[from + i];
      return;
    }
    for (let done = 0; done < length; ) {
      const from = rng.below(text.length - 1);
      const n = Math.min(text.length - from, length - done);
      view.set(text.subarray(from, from + n), at + done);
      done += n;
    }
  } else {
    for (let left = length; left > 0; ) {
      let r = rng.nextU32();
      for (let k = 0; k < 4 && left > 0; k++, left--) {
        view[at++] = r & 0xff;
        r >>>= 8;
      }
    }
  }
}

/** Writes up to this many bytes are copied byte by byte. */
const SMALL_WRITE_BYTES = 64;
