/**
 * Verification over TCP cannot be forged by a peer on the way (issue 15). An in-process proxy
 * between source and receiver changes page 0 in a way that keeps its XXH64 (and the frame body's)
 * unchanged, as the probe did: add 2^33 x P2^-1 to the u64 at the page's offset 0 and subtract
 * P1 x P2^-1 from the u64 at offset 32 (XXH64's lane 0 then carries exactly the same state past
 * the second stripe). Every frame still passes its checksum; the unkeyed digest of memory would
 * have agreed. The keyed MAC does not: the run ends failed, naming it. So does a proxy that zeroes
 * the device state and fixes the frame's checksum.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveRunConfig } from '../../src/config/options.js';
import { runMigration } from '../../src/driver/migrate.js';
import { FrameType, HEADER_BYTES } from '../../src/wire/frame.js';
import { startReceiver } from '../fixtures/receiver.js';
import { xxh64 } from '../fixtures/wire-client.js';
import { startFrameProxy } from '../fixtures/frame-proxy.js';

const M64 = (1n << 64n) - 1n;
const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;

/** The inverse of an odd number modulo 2^64. */
function inverse64(a: bigint): bigint {
  let x = 1n;
  for (let i = 0; i < 7; i++) x = (x * (2n - a * x)) & M64; // Newton: doubles the correct bits each step
  return x;
}

/** The XXH64-preserving change of a page at `at` in `b` (both u64s in lane 0 of consecutive stripes). */
function forgePage(b: Buffer, at: number): void {
  const inv = inverse64(P2);
  b.writeBigUInt64LE((b.readBigUInt64LE(at) + (1n << 33n) * inv) & M64, at);
  b.writeBigUInt64LE((b.readBigUInt64LE(at + 32) - ((P1 * inv) & M64) + (1n << 64n)) & M64, at + 32);
}

type Mode = 'pass' | 'forge-page' | 'zero-device-state';

/** A proxy that passes everything but the frames its mode changes; `changed` counts what it did. */
async function startProxy(
  to: number,
  mode: Mode,
): Promise<{ port: number; changed: { pages: number; deviceState: number; hashKept: boolean }; close(): void }> {
  const changed = { pages: 0, deviceState: 0, hashKept: false };
  const proxy = await startFrameProxy(to, (frame) => {
    const type = frame.readUInt16LE(6);
    const count = frame.readUInt32LE(8);
    if (
      mode === 'forge-page' &&
      type === FrameType.Pages &&
      changed.pages === 0 &&
      frame.readUInt32LE(HEADER_BYTES) === 0
    ) {
      const at = HEADER_BYTES + count * 8; // page 0 is the first after the descriptors
      const size = frame.readUInt32LE(HEADER_BYTES + 4) & 0xffffff;
      const before = xxh64(frame.subarray(at, at + size));
      const bodyBefore = xxh64(frame.subarray(HEADER_BYTES));
      forgePage(frame, at);
      changed.hashKept =
        xxh64(frame.subarray(at, at + size)) === before && xxh64(frame.subarray(HEADER_BYTES)) === bodyBefore;
      changed.pages++;
    }
    if (mode === 'zero-device-state' && type === FrameType.DeviceState) {
      frame.fill(0, HEADER_BYTES);
      frame.writeBigUInt64LE(xxh64(frame.subarray(HEADER_BYTES)), 24);
      changed.deviceState++;
    }
  });
  return { ...proxy, changed };
}

async function migrateThrough(mode: Mode) {
  const receiver = await startReceiver();
  const proxy = await startProxy(receiver.address.port, mode);
  try {
    const r = await runMigration(
      resolveRunConfig({
        target: `tcp://127.0.0.1:${proxy.port}`,
        ram: '16MiB',
        dirtyRate: '0',
        content: 'random',
        link: '2Gbit/s',
        seed: '5',
        dirtyCost: 'none',
      }),
    );
    return { r, changed: proxy.changed };
  } finally {
    proxy.close();
    await receiver.server.close();
  }
}

test('through a proxy that changes nothing, the run completes verified (the proxy itself is sound)', async () => {
  const { r } = await migrateThrough('pass');
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
});

test('a page changed on the way, its XXH64 kept: every frame passes, the MAC does not', async () => {
  const { r, changed } = await migrateThrough('forge-page');
  assert.equal(changed.pages, 1, 'the proxy changed page 0');
  assert.equal(changed.hashKept, true, "the change keeps the page's XXH64 and the frame body's");
  assert.equal(r.status, 'failed');
  assert.equal(r.verified, false);
  assert.match(r.reason ?? '', /verification failed: the target's HMAC-SHA256 digest of memory and device state/);
});

test('a device state zeroed on the way, its checksum fixed: the MAC fails the run', async () => {
  const { r, changed } = await migrateThrough('zero-device-state');
  assert.equal(changed.deviceState, 1);
  assert.equal(r.status, 'failed');
  assert.equal(r.verified, false);
  assert.match(r.reason ?? '', /HMAC-SHA256 digest of memory and device state/);
});
