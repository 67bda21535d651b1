/**
 * The guest's initial memory content: a deterministic (seeded) mix of zero pages, compressible
 * text-like pages and incompressible random pages, so that codecs have something real to do.
 */
import { Xorshift128, deriveSeed } from '../util/prng.js';
import type { Kernels } from '../kernel/types.js';

export const enum PageKind {
  Zero = 0,
  Text = 1,
  Random = 2,
}

/** Shares of each kind among the pages, in percent; they add up to 100. */
export interface ContentMix {
  zeroPercent: number;
  textPercent: number;
  randomPercent: number;
  /**
   * Where the kinds lie, for a guest with a hot set (its first `hotPages` of `pageCount` pages):
   * with `hot`, the hot set has that mix of its own and the rest this one; without, the shares are
   * of the whole guest, and its zero pages are free memory: outside the hot set while they fit
   * there. Absent (no hot set): every page draws from the shares alike.
   */
  placement?: ContentPlacement;
}

export interface ContentPlacement {
  pageCount: number;
  hotPages: number;
  hot?: { zeroPercent: number; textPercent: number; randomPercent: number };
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

/** The kind of a page: a pure function of seed and page number (and the mix's placement). */
export function pageKind(seed: number, page: number, mix: ContentMix): PageKind {
  const pl = mix.placement;
  if (pl === undefined) {
    const r = deriveSeed(seed, page) % 100;
    if (r < mix.zeroPercent) return PageKind.Zero;
    if (r < mix.zeroPercent + mix.textPercent) return PageKind.Text;
    return PageKind.Random;
  }
  const hot = page < pl.hotPages;
  const shares = hot && pl.hot !== undefined ? pl.hot : mix;
  let zeroShare = shares.zeroPercent / 100;
  if (pl.hot === undefined) {
    // The guest's zero pages, outside the hot set while they fit.
    const zeros = zeroShare * pl.pageCount;
    const cold = pl.pageCount - pl.hotPages;
    zeroShare = hot ? Math.max(0, zeros - cold) / pl.hotPages : cold > 0 ? Math.min(1, zeros / cold) : 0;
  }
  const u = deriveSeed(seed, page) / 2 ** 32;
  if (u < zeroShare) return PageKind.Zero;
  const data = shares.textPercent + shares.randomPercent;
  if (data === 0) return PageKind.Zero;
  return (u - zeroShare) / (1 - zeroShare) < shares.textPercent / data ? PageKind.Text : PageKind.Random;
}

/**
 * The kind of the data a write puts into a page: the page's own kind, except that a zero page is
 * free memory, and a guest that writes it fills it with data: text or random, in the proportion
 * of the mix's text and random shares (random where the mix has neither). So a written page is
 * not a zero page any more, as in a real guest, and its later writes keep that kind.
 */
export function writtenKind(seed: number, page: number, mix: ContentMix): PageKind {
  const kind = pageKind(seed, page, mix);
  if (kind !== PageKind.Zero) return kind;
  const data = mix.textPercent + mix.randomPercent;
  if (data === 0) return PageKind.Random;
  return deriveSeed(seed ^ WRITTEN_KIND_STREAM, page) % 10_000 < (10_000 * mix.textPercent) / data
    ? PageKind.Text
    : PageKind.Random;
}

/** Tells writtenKind's draw apart from pageKind's. */
const WRITTEN_KIND_STREAM = 0x77_72_69_74;

/**
 * Fills `pages` (the slot's page area, starting at global page firstPage) with initial content.
 * The memory is fresh, so zero pages are only touched (one byte per 4 KiB): faulting them in now
 * keeps the page faults (2-10 us each here) out of the migration's writes and copies.
 * This is the sequential reference; set-up fills slices of a slot on several threads with
 * fillContentRange from contentStreamStates, which gives the same bytes.
 */
export function fillInitialContent(
  pages: Uint8Array,
  firstPage: number,
  pageCount: number,
  pageSizeBytes: number,
  seed: number,
  mix: ContentMix,
): void {
  fillContentRange(
    pages,
    firstPage,
    0,
    pageCount,
    pageSizeBytes,
    seed,
    mix,
    new Xorshift128(contentStreamSeed(seed)),
    true,
  );
}

/** Seed of a slot's content stream: each slot's content starts its stream afresh. */
export const contentStreamSeed = (seed: number): number => seed ^ 0x5eed;

/**
 * Where a slot's content stream stands at the start of every `chunkPages` pages (index k is page
 * k * chunkPages of the slot), without writing anything: a text page draws one number per corpus
 * slice and a random page one seed, so the walk costs a few ns a page. A thread given the state at
 * a chunk start fills that chunk exactly as the sequential fill would.
 */
export function contentStreamStates(
  firstPage: number,
  pageCount: number,
  pageSizeBytes: number,
  seed: number,
  mix: ContentMix,
  chunkPages: number,
): Array<[number, number, number, number]> {
  const textBytes = textCorpus().length;
  const rng = new Xorshift128(contentStreamSeed(seed));
  const states: Array<[number, number, number, number]> = [];
  for (let p = 0; p < pageCount; p++) {
    if (p % chunkPages === 0) states.push(rng.state());
    skipPage(rng, pageKind(seed, firstPage + p, mix), pageSizeBytes, textBytes);
  }
  return states;
}

/** Advances a content stream past one page of `kind` without writing it: the draws the fill makes. */
function skipPage(rng: Xorshift128, kind: PageKind, pageSizeBytes: number, textBytes: number): void {
  if (kind === PageKind.Text) {
    for (let done = 0; done < pageSizeBytes;)
      done += Math.min(textBytes - rng.below(textBytes - 1), pageSizeBytes - done);
  } else if (kind === PageKind.Random) {
    rng.nextU32();
  }
}

/**
 * One page of initial content of `kind`, drawn from `rng` as fillContentRange draws it, into `out`
 * at `at` (4-byte aligned there); with `out` null only the draws (the stream moves past the page).
 */
export function fillPage(
  kind: PageKind,
  rng: Xorshift128,
  out: Uint8Array | null,
  at: number,
  pageSizeBytes: number,
  text: Uint8Array,
): void {
  if (out === null) return skipPage(rng, kind, pageSizeBytes, text.length);
  if (kind === PageKind.Zero) {
    out.fill(0, at, at + pageSizeBytes);
  } else if (kind === PageKind.Text) {
    let done = 0;
    while (done < pageSizeBytes) {
      const from = rng.below(text.length - 1);
      const n = Math.min(text.length - from, pageSizeBytes - done);
      out.set(text.subarray(from, from + n), at + done);
      done += n;
    }
  } else {
    let x = rng.nextU32() | 1;
    const words = new Uint32Array(out.buffer, out.byteOffset + at, pageSizeBytes >>> 2);
    for (let w = 0; w < words.length; w++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[w] = x;
    }
  }
}

/** The kernels that fill a slot's pages in its own memory (set-up), and where things are there. */
export interface WasmFill {
  kernels: Pick<Kernels, 'fillBytes' | 'fillXorshift32x4' | 'copyBytes'>;
  /** Offset of the page area (`pages[0]`) in the memory. */
  pagesPtr: number;
  /** Offset of a copy of textCorpus() in the memory (see writeTextCorpus). */
  corpusPtr: number;
}

/** Puts the text corpus at `at` in `bytes` (a slot's memory), for WasmFill. */
export function writeTextCorpus(bytes: Uint8Array, at: number): void {
  bytes.set(textCorpus(), at);
}

/**
 * Fills pages [fromPage, toPage) of a slot's page area with their initial content, drawing from
 * `rng` (the slot's stream as it stands at fromPage). On a fresh memory zero pages are only
 * touched; on a reused one they are cleared. With `wasm` the bytes are written by kernels (4
 * random pages at a time, text slices by memory.copy), the same bytes as the plain loops here.
 * With `only` (a byte per page of the slot), pages whose byte is 0 are left as they are: they
 * hold this very content already (the stream still advances past them).
 */
export function fillContentRange(
  pages: Uint8Array,
  firstPage: number,
  fromPage: number,
  toPage: number,
  pageSizeBytes: number,
  seed: number,
  mix: ContentMix,
  rng: Xorshift128,
  fresh: boolean,
  wasm?: WasmFill,
  only?: Uint8Array,
): void {
  const text = textCorpus();
  const words = new Uint32Array(pages.buffer, pages.byteOffset, pages.length >>> 2);
  // Random pages waiting for a 4-lane kernel call: [page offset, seed] pairs.
  const batch: number[] = [];
  const flush = (): void => {
    if (!wasm || batch.length === 0) return;
    while (batch.length < 8) batch.push(batch[0], batch[1]); // a lane repeats a page: same bytes again
    const p = wasm.pagesPtr;
    wasm.kernels.fillXorshift32x4(
      p + batch[0],
      batch[1],
      p + batch[2],
      batch[3],
      p + batch[4],
      batch[5],
      p + batch[6],
      batch[7],
      pageSizeBytes,
    );
    batch.length = 0;
  };
  for (let p = fromPage; p < toPage; p++) {
    const at = p * pageSizeBytes;
    const kind = pageKind(seed, firstPage + p, mix);
    if (only !== undefined && only[p] === 0) {
      skipPage(rng, kind, pageSizeBytes, text.length);
      continue;
    }
    switch (kind) {
      case PageKind.Zero:
        if (fresh) for (let b = at; b < at + pageSizeBytes; b += 4096) pages[b] = 0;
        else if (wasm) wasm.kernels.fillBytes(wasm.pagesPtr + at, pageSizeBytes, 0);
        else pages.fill(0, at, at + pageSizeBytes);
        break;
      case PageKind.Text: {
        let done = 0;
        while (done < pageSizeBytes) {
          const from = rng.below(text.length - 1);
          const n = Math.min(text.length - from, pageSizeBytes - done);
          if (wasm) wasm.kernels.copyBytes(wasm.pagesPtr + at + done, wasm.corpusPtr + from, n);
          else pages.set(text.subarray(from, from + n), at + done);
          done += n;
        }
        break;
      }
      case PageKind.Random: {
        // xorshift32 (Marsaglia) seeded per page from the stream: a tight loop over local state.
        let x = rng.nextU32() | 1;
        if (wasm) {
          batch.push(at, x);
          if (batch.length === 8) flush();
          break;
        }
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
  flush();
}

/**
 * Writes `length` bytes at `at` in `view` with data of `kind` (writtenKind: a zero page's writes
 * are data, not zeros): text gets a slice of the text corpus, random gets random bytes, zero
 * zeros. So compression and delta ratios of dirtied pages stay those of their kind.
 */
export function writeOfKind(
  view: Uint8Array,
  at: number,
  length: number,
  kind: PageKind,
  rng: Xorshift128,
  text: Uint8Array,
): void {
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
    for (let done = 0; done < length;) {
      const from = rng.below(text.length - 1);
      const n = Math.min(text.length - from, length - done);
      view.set(text.subarray(from, from + n), at + done);
      done += n;
    }
  } else {
    for (let left = length; left > 0;) {
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
