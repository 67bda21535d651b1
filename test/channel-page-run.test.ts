/**
 * PAGE_RUN frames (the virtual clock's channel): a run of consecutive raw pages that the receiver
 * reads from the source's memory. The run must land with the bytes of its send instant, so a
 * guest write to a page of a run not yet read waits for it (VirtualChannel.holdWrite); and only a
 * receiver that shares the source's memory takes one, inside the slot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadKernelModule } from '../src/kernel/loader.js';
import { planGuestLayout } from '../src/memory/layout.js';
import { GuestMemory } from '../src/memory/guest-memory.js';
import { VirtualClock } from '../src/clock/virtual.js';
import { VirtualChannel } from '../src/channel/virtual.js';
import { FrameReceiver } from '../src/channel/receiver.js';
import { FrameError, FrameType, HEADER_BYTES, PAGE_RUN_BODY_BYTES, writeFrameHeader } from '../src/wire/frame.js';

const PAGE = 4096;
const PAGES = 2048;
const RUN = 256;
const module = await loadKernelModule();
const layout = planGuestLayout(PAGES * PAGE, PAGE);
const shape = { pageCount: layout.pageCount, pagesPerSlot: layout.pagesPerSlot, pageSizeBytes: PAGE };

/** Page p of the source before any write: every byte (p * 7 + 1) & 255. */
const before = (p: number): number => (p * 7 + 1) & 255;

test('a page run lands with the bytes of its send instant: a write to one of its pages waits for it', async () => {
  const source = GuestMemory.allocate(layout, module);
  const target = GuestMemory.allocate(layout, module);
  const pages = source.pages(0);
  for (let p = 0; p < PAGES; p++) pages.fill(before(p), p * PAGE, (p + 1) * PAGE);
  const channel = new VirtualChannel(source, null, 0, new VirtualClock(), false, true);
  await channel.prepare(target);
  await channel.connect();
  await channel.open(target, module, shape);
  const send = channel.sendPageRun;
  assert.ok(send, 'the channel takes page runs');
  try {
    for (let first = 0; first < PAGES; first += RUN) {
      const wire: number = await send(0, first, RUN, 0, () => undefined);
      assert.equal(wire, HEADER_BYTES + RUN * (8 + PAGE), 'a run stands on the link for the bytes of a raw frame');
      // The guest writes a page of the run just sent, as soon as the channel lets it.
      const written = first + RUN - 1;
      channel.holdWrite(0, written);
      pages.fill(0xee, written * PAGE, (written + 1) * PAGE);
    }
    await channel.drain();
    const got = target.pages(0);
    for (let p = 0; p < PAGES; p++) {
      const at = got.subarray(p * PAGE, (p + 1) * PAGE);
      assert.ok(at.every((b) => b === before(p)), `page ${p} holds its bytes as they were when its run was sent`);
    }
    // Round 1 sends every page again: all but the written ones go unchanged (the resend meter
    // compares with what the target holds, on whichever thread receives the run).
    assert.equal(channel.unchangedPages(), 0, 'nothing is a resend in round 0');
    for (let first = 0; first < PAGES; first += RUN) await send(0, first, RUN, 1, () => undefined);
    await channel.drain();
    assert.equal(channel.unchangedPages(), PAGES - PAGES / RUN);
    assert.equal(source.firstDifferentPage(target), -1, 'round 1 brought the written pages over');
  } finally {
    await channel.close();
  }
});

test('a page-run frame is refused by a receiver without the source memory, and outside the slot', async () => {
  const source = GuestMemory.allocate(layout, module);
  const target = GuestMemory.allocate(layout, module);
  source.pages(0).fill(0x42);
  const frame = (first: number, count: number): Uint8Array => {
    const bytes = new Uint8Array(HEADER_BYTES + PAGE_RUN_BODY_BYTES);
    const view = new DataView(bytes.buffer);
    writeFrameHeader(view, 0, { type: FrameType.PageRun, count, bodyLengthBytes: PAGE_RUN_BODY_BYTES, round: 0, checksum: 0n });
    view.setUint32(HEADER_BYTES, first, true);
    return bytes;
  };
  const alone = new FrameReceiver(target.slots, target.kernels, false);
  assert.throws(() => alone.receiveView(0, frame(0, 4)), (e: unknown) => e instanceof FrameError && /does not share the source's memory/.test(e.message));
  // The TCP receiver's path (a frame staged in the target's frame buffer) never takes one.
  const shared = new FrameReceiver(target.slots, target.kernels, false, undefined, source.slots);
  const t = target.slots[0];
  new Uint8Array(t.memory.buffer).set(frame(0, 4), t.layout.framesPtr);
  assert.throws(() => shared.receive(0, t.layout.framesPtr, HEADER_BYTES + PAGE_RUN_BODY_BYTES), FrameError);
  for (const [first, count] of [[PAGES, 1], [PAGES - 2, 3], [0, PAGES + 1], [1, 0xffffffff]]) {
    assert.throws(() => shared.receiveView(0, frame(first, count)), (e: unknown) => e instanceof FrameError && /outside/.test(e.message), `run ${first} + ${count}`);
  }
  assert.ok(target.pages(0).every((b) => b === 0), 'nothing was written');
  shared.receiveView(0, frame(PAGES - 2, 2));
  const got = target.pages(0);
  assert.ok(got.subarray((PAGES - 2) * PAGE).every((b) => b === 0x42), 'a run inside the slot is copied');
  assert.equal(shared.counts.pages, 2);
});
