/**
 * The post-copy advise frame's body (FrameType.PostcopyAdvise, src/wire/postcopy.ts): the guest the
 * target runs from the switch-over on, as UTF-8 JSON: { guest: its workload (GuestOptions less the
 * procedural memory), sourceWrites: each source vCPU's writes when it stopped (the target's go on
 * from there, as QEMU's vCPU state carries where a guest was) }. Nothing is trusted: decodeAdvise
 * checks every field against the handshake's guest.
 */
import type { GuestOptions } from '../guest/host.js';
import type { WritePattern } from '../guest/pattern.js';
import type { ContentMix } from '../memory/content.js';
import type { Hello } from '../wire/handshake.js';
import { FrameError } from '../wire/frame.js';

/** The guest a post-copy target runs, as the advise frame carries it. */
export interface AdvisedGuest {
  guest: Omit<GuestOptions, 'procedural' | 'trace'>;
  sourceWrites: number[];
}

export const MAX_ADVISE_BYTES = 4096;
/** Page writes per second a target accepts to run (10x the fastest guest a benchmark here asks for). */
const MAX_PAGE_WRITES_PER_SEC = 1e8;

export function encodeAdvise(a: AdvisedGuest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(a));
}

/** The advise frame's body, every field checked; throws FrameError with what is wrong. */
export function decodeAdvise(body: Uint8Array, hello: Hello): AdvisedGuest {
  if (body.length > MAX_ADVISE_BYTES)
    throw new FrameError(`a post-copy advise of ${body.length} bytes exceeds ${MAX_ADVISE_BYTES}`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (e) {
    throw new FrameError(`a post-copy advise that is not JSON: ${(e as Error).message}`);
  }
  const bad = (what: string): never => {
    throw new FrameError(`a post-copy advise with a bad ${what}`);
  };
  const obj = (v: unknown, what: string): Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : bad(what);
  const num = (v: unknown, what: string, min: number, max: number, integer = false): number =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v))
      ? v
      : bad(what);
  const a = obj(raw, 'body');
  const g = obj(a.guest, 'guest');
  const vcpus = num(g.vcpus, 'vCPU count', 1, 64, true);
  if (vcpus !== hello.vcpus) bad(`vCPU count (${vcpus}, the handshake said ${hello.vcpus})`);
  const pageCount = Math.floor(hello.ramBytes / hello.pageSizeBytes);
  const writes = Array.isArray(a.sourceWrites) ? a.sourceWrites : bad('sourceWrites');
  if (writes.length !== vcpus) bad('sourceWrites (one per vCPU)');
  return {
    guest: {
      vcpus,
      pageWritesPerSec: num(g.pageWritesPerSec, 'page write rate', 0, MAX_PAGE_WRITES_PER_SEC),
      pattern: pattern(obj(g.pattern, 'pattern'), bad),
      writeSizeBytes: num(g.writeSizeBytes, 'write size', 1, hello.pageSizeBytes, true),
      catchUpMs: num(g.catchUpMs, 'catch-up', 0, 3_600_000),
      seed: num(g.seed, 'seed', 0, 2 ** 32 - 1, true),
      writeSeed: num(g.writeSeed, 'write seed', 0, 2 ** 32 - 1, true),
      content: content(obj(g.content, 'content'), pageCount, num, obj, bad),
    },
    sourceWrites: writes.map((w) => num(w, 'sourceWrites entry', 0, Number.MAX_SAFE_INTEGER, true)),
  };
}

function pattern(p: Record<string, unknown>, bad: (what: string) => never): WritePattern {
  const fraction = (v: unknown): number => (typeof v === 'number' && v > 0 && v <= 1 ? v : bad('pattern fraction'));
  switch (p.kind) {
    case 'uniform':
      return { kind: 'uniform' };
    case 'sequential':
      return p.fraction === undefined ? { kind: 'sequential' } : { kind: 'sequential', fraction: fraction(p.fraction) };
    case 'hotset': {
      const probability = typeof p.probability === 'number' && p.probability >= 0 && p.probability <= 1;
      return {
        kind: 'hotset',
        fraction: fraction(p.fraction),
        probability: probability ? (p.probability as number) : bad('pattern probability'),
      };
    }
    default:
      return bad('pattern kind');
  }
}

function content(
  c: Record<string, unknown>,
  pageCount: number,
  num: (v: unknown, what: string, min: number, max: number, integer?: boolean) => number,
  obj: (v: unknown, what: string) => Record<string, unknown>,
  bad: (what: string) => never,
): ContentMix {
  const shares = (s: Record<string, unknown>): Pick<ContentMix, 'zeroPercent' | 'textPercent' | 'randomPercent'> => {
    const r = {
      zeroPercent: num(s.zeroPercent, 'zero share', 0, 100),
      textPercent: num(s.textPercent, 'text share', 0, 100),
      randomPercent: num(s.randomPercent, 'random share', 0, 100),
    };
    if (Math.abs(r.zeroPercent + r.textPercent + r.randomPercent - 100) > 1e-6) bad('content mix (not 100 %)');
    return r;
  };
  const mix: ContentMix = shares(c);
  if (c.placement !== undefined) {
    const p = obj(c.placement, 'content placement');
    const placedPages = num(p.pageCount, 'content placement', pageCount, pageCount, true);
    mix.placement = {
      pageCount: placedPages,
      hotPages: num(p.hotPages, 'content hot set', 1, pageCount, true),
      ...(p.hot === undefined ? {} : { hot: shares(obj(p.hot, 'hot content')) }),
    };
  }
  return mix;
}
