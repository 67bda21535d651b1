/**
 * PAGE_REFS frames (the virtual clock's channel): raw pages named by number, which the receiver
 * reads from the source's memory. They must land with the bytes of their send instant, so a guest
 * write to a page of a frame not yet read waits for it (the write gate); and only a
 * receiver that shares the source's memory takes one, and only pages inside the slot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadKernelModule } from '../../src/kernel/loader.js';
import { planGuestLayout } from '../../src/memory/layout.js';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { VirtualClock } from '../../src/clock/virtual.js';
import { VirtualTransport } from '../../src/channel/virtual.js';
import { Link, LinkShare, SIMULATED_PACING } from '../../src/link/link.js';
import { WriteGate } from '../../src/memory/write-gate.js';
import { FrameReceiver, type FrameAt } from '../../src/channel/receiver.js';
import { FrameError, FrameType, HEADER_BYTES, writeFrameHeader } from '../../src/wire/frame.js';

const PAGE = 4096;
const PAGES = 2048;
const FRAME = 256;
const module = await loadKernelModule();
const layout = planGuestLayout(PAGES * PAGE, PAGE);
const shape = { pageCount: layout.pageCount, pagesPerSlot: layout.pagesPerSlot, pageSizeBytes: PAGE };

/** Page p of the source before any write: every byte (p * 7 + 1) & 255. */
const before = (p: number): number => (p * 7 + 1) & 255;

test('pages sent by reference land with the bytes of their send instant: a write to one waits for it', async () => {
  const source = GuestMemory.allocate(layout, module);
  const target = GuestMemory.allocate(layout, module);
  const pages = source.pages(0);
  for (let p = 0; p < PAGES; p++) pages.fill(before(p), p * PAGE, (p + 1) * PAGE);
  // Every page once, scattered (as a scan of a busy guest lists them), in frames of FRAME pages.
  const s = source.slots[0];
  const list = new Uint32Array(s.memory.buffer, s.layout.listPtr, PAGES);
  list.forEach((_, i) => {
    list[i] = (i * 7) % PAGES;
  });
  const gate = new WriteGate();
  const link = new LinkShare(Link.create({ bitsPerSec: null, latencyMs: 0 }), SIMULATED_PACING);
  const channel = new VirtualTransport(source, target, module, link, new VirtualClock(), gate, {
    codecs: false,
    receiveHere: false,
    pageRefs: true,
    userCodecs: [],
    sendBufferBytes: 0,
  });
  await channel.prepare();
  await channel.connect();
  await channel.open(shape);
  const refs = channel.pageRefs;
  assert.ok(refs, 'the channel takes pages by reference');
  const send = refs.send;
  try {
    for (let off = 0; off < PAGES; off += FRAME) {
      const wire: number = await send(0, off, FRAME, 0, () => undefined);
      assert.equal(
        wire,
        HEADER_BYTES + FRAME * (8 + PAGE),
        'the frame stands on the link for the bytes of a raw frame',
      );
      // The guest writes a page of the frame just sent, as soon as the channel lets it.
      const written = list[off + FRAME - 1];
      gate.beforeWrite(0, written);
      pages.fill(0xee, written * PAGE, (written + 1) * PAGE);
    }
    await channel.drain();
    const got = target.pages(0);
    for (let p = 0; p < PAGES; p++) {
      const at = got.subarray(p * PAGE, (p + 1) * PAGE);
      assert.ok(
        at.every((b) => b === before(p)),
        `page ${p} holds its bytes as they were when its frame was sent`,
      );
    }
    // Round 1 sends every page again: all but the written ones go unchanged (the resend meter
    // compares with what the target holds, on whichever thread receives the frame).
    assert.equal(channel.resendMeter?.unchangedPages(), 0, 'nothing is a resend in round 0');
    for (let off = 0; off < PAGES; off += FRAME) await send(0, off, FRAME, 1, () => undefined);
    await channel.drain();
    assert.equal(channel.resendMeter?.unchangedPages(), PAGES - PAGES / FRAME);
    assert.equal(source.firstDifferentPage(target), -1, 'round 1 brought the written pages over');
  } finally {
    await channel.close();
  }
});

test('a page-reference frame is refused by a receiver without the source memory, and outside the slot', async () => {
  const source = GuestMemory.allocate(layout, module);
  const target = GuestMemory.allocate(layout, module);
  source.pages(0).fill(0x42);
  const frame = (...numbers: number[]): Uint8Array => {
    const bytes = new Uint8Array(HEADER_BYTES + numbers.length * 4);
    const view = new DataView(bytes.buffer);
    writeFrameHeader(view, 0, {
      type: FrameType.PageRefs,
      count: numbers.length,
      bodyLengthBytes: numbers.length * 4,
      round: 0,
      checksum: 0n,
    });
    numbers.forEach((n, i) => view.setUint32(HEADER_BYTES + i * 4, n, true));
    return bytes;
  };
  // A frame where the in-process receivers find one: in a frame buffer of the source's slot.
  const s = source.slots[0];
  const inSource = (bytes: Uint8Array): FrameAt => {
    new Uint8Array(s.memory.buffer).set(bytes, s.layout.framesPtr);
    return { memory: s.memory, kernels: source.kernels[0], ptr: s.layout.framesPtr, lengthBytes: bytes.length };
  };
  const alone = new FrameReceiver(target.slots, target.kernels, { verifyChecksums: false });
  assert.throws(
    () => alone.receive(0, inSource(frame(0, 1))),
    (e: unknown) => e instanceof FrameError && /does not share the source's memory/.test(e.message),
  );
  // The TCP receiver's path (a frame staged in the target's frame buffer, no source memory) never takes one.
  const t = target.slots[0];
  new Uint8Array(t.memory.buffer).set(frame(0, 1), t.layout.framesPtr);
  assert.throws(
    () =>
      alone.receive(0, {
        memory: t.memory,
        kernels: target.kernels[0],
        ptr: t.layout.framesPtr,
        lengthBytes: HEADER_BYTES + 8,
      }),
    FrameError,
  );
  const shared = new FrameReceiver(target.slots, target.kernels, { verifyChecksums: false, sourceSlots: source.slots });
  for (const numbers of [[PAGES], [0, 1, PAGES + 5], [0xffffffff]]) {
    assert.throws(
      () => shared.receive(0, inSource(frame(...numbers))),
      (e: unknown) => e instanceof FrameError && /outside/.test(e.message),
      `pages ${numbers}`,
    );
  }
  const short = frame(1, 2).subarray(0, HEADER_BYTES + 4);
  new DataView(short.buffer).setUint32(12, 4, true); // body length 4, count still 2
  assert.throws(
    () => shared.receive(0, inSource(short)),
    (e: unknown) => e instanceof FrameError && /shorter/.test(e.message),
  );
  assert.ok(
    target.pages(0).every((b) => b === 0),
    'nothing was written',
  );
  shared.receive(0, inSource(frame(PAGES - 1, 3, 4)));
  const got = target.pages(0);
  for (const p of [PAGES - 1, 3, 4])
    assert.ok(
      got.subarray(p * PAGE, (p + 1) * PAGE).every((b) => b === 0x42),
      `page ${p} is copied`,
    );
  assert.ok(
    got.subarray(5 * PAGE, (PAGES - 1) * PAGE).every((b) => b === 0),
    'no other page is',
  );
  assert.equal(shared.counts.pages, 3);
});
