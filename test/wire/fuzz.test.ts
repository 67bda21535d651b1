/**
 * Fuzz: seeded random and mutated frames into the receiver's frame decoder (header parse,
 * checksum, unpack kernel or codec decoders) over a small target memory. No crash (only FrameError
 * comes out), no hang (bounded in time), and no byte written outside the target's page area and
 * the frame buffer the frame sits in (every other byte of the memory is a guard pattern).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadKernelModule } from '../../src/kernel/loader.js';
import { planGuestLayout } from '../../src/memory/layout.js';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { FrameReceiver, receiverDecoders } from '../../src/channel/receiver.js';
import { FrameError, FRAME_MAGIC, HEADER_BYTES, WIRE_VERSION } from '../../src/wire/frame.js';
import { CODEC_IDS } from '../../src/codec/codec.js';
import { TestPrng } from '../fixtures/prng.js';

const PAGE = 4096;
const PAGES = 64;
const GUARD = 0x5a;
const FRAMES = 50_000;
const BUDGET_MS = 4_000;

const memory = GuestMemory.allocate(planGuestLayout(PAGES * PAGE, PAGE), await loadKernelModule());
const slot = memory.slots[0];
const l = slot.layout;
const bytes = new Uint8Array(slot.memory.buffer);
const view = new DataView(slot.memory.buffer);
const pagesEnd = l.pagesPtr + PAGES * PAGE;
const frameAt = l.framesPtr;
const frameEnd = l.framesPtr + l.frameBytes;
const k = memory.kernels[0];

/** Random bytes that frame data is sliced from (filling each frame byte by byte is slow). */
const NOISE = new Uint8Array(2 * 1024 * 1024);
new TestPrng(99).fill(NOISE);

function outsideWritable(at: number): boolean {
  return !((at >= l.pagesPtr && at < pagesEnd) || (at >= frameAt && at < frameEnd));
}

/** A frame body: descriptors of random codecs (mostly well-formed lengths), then random data. */
function randomBody(rng: TestPrng, codecs: boolean): { body: Uint8Array; count: number } {
  const count = rng.below(7);
  const ids = codecs
    ? [CODEC_IDS.raw, CODEC_IDS.zero, CODEC_IDS.xbzrle, CODEC_IDS.lz4, CODEC_IDS.deflate]
    : [CODEC_IDS.raw];
  const descs: [number, number, number][] = [];
  let data = 0;
  for (let i = 0; i < count; i++) {
    const id = ids[rng.below(ids.length)];
    const page = rng.chance(0.95) ? rng.below(PAGES) : rng.nextU32();
    const len = id === CODEC_IDS.raw ? PAGE : id === CODEC_IDS.zero ? 0 : 1 + rng.below(rng.chance(0.5) ? 64 : 5000);
    descs.push([page, id, len]);
    data += len;
  }
  const body = new Uint8Array(count * 8 + data);
  const from = rng.below(NOISE.length - data);
  body.set(NOISE.subarray(from, from + data), count * 8);
  const dv = new DataView(body.buffer);
  descs.forEach(([page, id, len], i) => {
    dv.setUint32(i * 8, page, true);
    dv.setUint32(i * 8 + 4, ((id << 24) | len) >>> 0, true);
  });
  return { body, count };
}

/** Writes header + body into the frame buffer, mutates some of it, and returns the frame length. */
function placeFrame(rng: TestPrng, codecs: boolean): number {
  if (rng.chance(0.05)) {
    // pure noise
    const len = rng.below(l.frameBytes + 1);
    bytes.set(NOISE.subarray(0, len), frameAt);
    for (let i = 0; i < 8 && len > 0; i++) bytes[frameAt + rng.below(len)] = rng.below(256);
    return len;
  }
  const { body, count } = randomBody(rng, codecs);
  const len = Math.min(HEADER_BYTES + body.length, l.frameBytes);
  bytes.set(body.subarray(0, len - HEADER_BYTES), frameAt + HEADER_BYTES);
  view.setUint32(frameAt, FRAME_MAGIC, true);
  view.setUint16(frameAt + 4, WIRE_VERSION, true);
  view.setUint16(frameAt + 6, rng.chance(0.9) ? 1 : rng.below(8), true);
  view.setUint32(frameAt + 8, count, true);
  view.setUint32(frameAt + 12, len - HEADER_BYTES, true);
  view.setUint32(frameAt + 16, rng.below(5), true);
  view.setUint32(frameAt + 20, 0, true);
  // Mutations: byte flips anywhere, a changed count or length field.
  const flips = rng.chance(0.5) ? rng.below(4) : 0;
  for (let i = 0; i < flips; i++) bytes[frameAt + rng.below(len)] ^= 1 << rng.below(8);
  if (rng.chance(0.1)) view.setUint32(frameAt + 8, rng.chance(0.5) ? rng.nextU32() : count + 1, true);
  if (rng.chance(0.1)) view.setUint32(frameAt + 12, rng.chance(0.5) ? rng.nextU32() : len - HEADER_BYTES + 1, true);
  // Most frames carry a correct checksum of what they hold, so the decoders see the garbage.
  const bodyLen = Math.min(view.getUint32(frameAt + 12, true), len - HEADER_BYTES);
  view.setBigUint64(
    frameAt + 24,
    rng.chance(0.9) ? k.hash64(frameAt + HEADER_BYTES, Math.max(0, bodyLen), 0n) : BigInt(rng.nextU32()),
    true,
  );
  return rng.chance(0.05) ? rng.below(len + 1) : len; // sometimes truncated
}

for (const codecs of [false, true]) {
  test(`${FRAMES} seeded random and mutated ${codecs ? 'codec' : 'raw'} frames: only FrameErrors, nothing written out of bounds`, () => {
    // Guard pattern everywhere but the page area (kept as is) and the frame buffer.
    for (let at = 0; at < bytes.length; at++) if (outsideWritable(at)) bytes[at] = GUARD;
    const receiver = new FrameReceiver(memory.slots, memory.kernels, {
      verifyChecksums: true,
      decoders: codecs ? receiverDecoders(memory.slots, memory.kernels) : undefined,
    });
    const rng = new TestPrng(codecs ? 2024 : 7);
    const t0 = performance.now();
    let done = 0;
    let accepted = 0;
    for (; done < FRAMES && performance.now() - t0 < BUDGET_MS; done++) {
      const len = placeFrame(rng, codecs);
      try {
        receiver.receive(0, {
          memory: memory.slots[0].memory,
          kernels: memory.kernels[0],
          ptr: frameAt,
          lengthBytes: len,
        });
        accepted++;
      } catch (e) {
        if (!(e instanceof FrameError))
          assert.fail(`frame ${done}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      }
    }
    let bad = -1;
    for (let at = 0; at < bytes.length && bad < 0; at++) if (outsideWritable(at) && bytes[at] !== GUARD) bad = at;
    assert.equal(bad, -1, `byte ${bad} outside the pages and the frame buffer was written`);
    assert.ok(done >= 5_000, `only ${done} frames in ${BUDGET_MS} ms`);
    assert.ok(accepted > 0, 'some well-formed frames went through (the generator reaches the decoders)');
  });
}
