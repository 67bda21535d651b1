/**
 * Nothing from the wire is trusted: each malformed input is rejected with a clear message on the
 * receiver and to the peer, that connection is closed, and the receiver keeps listening (a good
 * migration afterwards completes verified). The receiver has a token, so every stream is TLS-PSK
 * (src/wire/tls.ts): the inputs below come inside a TLS session keyed by the right token, as from
 * a source that holds it; without it nothing gets past the TLS handshake.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { runMigration } from '../../src/driver/migrate.js';
import { smallConfig } from '../fixtures/migrate.js';
import { startReceiver } from '../fixtures/receiver.js';
import { exchange, frame, hello, pagesBody } from '../fixtures/wire-client.js';
import { computeMac } from '../../src/wire/mac-worker.js';

const receiver = await startReceiver({ token: 's3cret' });
after(() => receiver.server.close());
const good = (): Buffer => hello({ token: 's3cret' });

/** A handshake refused: the REPLY says why and the receiver reports the same. */
async function refused(parts: Buffer[], why: RegExp): Promise<void> {
  const before = receiver.refused.length;
  const x = await exchange(receiver.address, parts, { token: 's3cret' });
  assert.ok(x.closed, 'the receiver closed the connection');
  assert.equal(x.reply?.accepted, false);
  assert.match(x.reply?.reason ?? '', why);
  assert.match(receiver.refused[before] ?? '', why);
}

/** A migration rejected mid-stream: an ERROR to the peer, a failed migration on the receiver. */
async function rejected(parts: Buffer[], why: RegExp, opts: { end?: boolean } = {}): Promise<void> {
  const before = receiver.summaries.length;
  const x = await exchange(receiver.address, parts, { ...opts, token: 's3cret' });
  assert.ok(x.closed, 'the receiver closed the connection');
  assert.equal(x.reply?.accepted, true);
  const error = x.feedback.find((f) => f.kind === 'error');
  assert.ok(error && error.kind === 'error', 'an error message to the peer');
  assert.match(error.message, why);
  const [s] = (await receiver.waitForMigrations(before + 1)).slice(before);
  assert.equal(s.status, 'failed');
  assert.match(s.reason ?? '', why);
}

test('without the token no stream gets past TLS: the handshake fails before any HELLO is read', async () => {
  const before = receiver.refused.length;
  const plain = await exchange(receiver.address, [good()]);
  assert.ok(plain.closed);
  assert.equal(plain.reply, undefined, 'no REPLY to a plain stream');
  const wrongKey = await exchange(receiver.address, [good()], { token: 'guess' });
  assert.ok(wrongKey.closed);
  assert.equal(wrongKey.reply, undefined, 'no REPLY under another key');
  const lines = receiver.refused.slice(before);
  assert.equal(lines.length, 2, lines.join('\n'));
  for (const l of lines) assert.match(l, /TLS handshake failed.*a wrong token, or a source without --token/);
});

test('a wrong magic is refused', () =>
  refused([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.padEnd(64))], /bad handshake magic 0x20544547/));

test('a wrong version is refused', () => {
  const h = good();
  h.writeUInt16LE(99, 4);
  return refused([h], /unsupported wire version 99/);
});

test('a bad token is refused, and a missing one', async () => {
  await refused([hello({ token: 'guess' })], /wrong token/);
  await refused([hello({ token: '' })], /needs a token/);
});

test('an impossible RAM size is refused', () =>
  refused([hello({ token: 's3cret', ramBytes: 5000 })], /bad RAM size 5000/));

test('a body length past the frame buffer is rejected before it is read', () =>
  rejected(
    [good(), frame(new Uint8Array(0), { bodyLengthBytes: 0x7fffffff })],
    /frame body of 2147483647 bytes exceeds the limit/,
  ));

test('a page number past the RAM is rejected', () =>
  rejected([good(), frame(pagesBody([4_000_000]), { count: 1 })], /page 4000000, past the RAM of 2048 pages/));

test('a page past the RAM later in a frame is rejected before any page is written', () =>
  rejected([good(), frame(pagesBody([5, 2048]), { count: 2 })], /outside the target/));

test('a checksum mismatch is rejected', () =>
  rejected([good(), frame(pagesBody([1]), { count: 1, checksum: 1234n })], /checksum mismatch/));

test('a wrong frame magic or type is rejected', async () => {
  await rejected([good(), frame(new Uint8Array(0), { magic: 0xdeadbeef })], /bad frame magic 0xdeadbeef/);
  await rejected([good(), frame(new Uint8Array(0), { type: 77 })], /unknown frame type 77/);
});

test('a count that the body cannot hold is rejected', () =>
  rejected([good(), frame(pagesBody([1]), { count: 3 })], /shorter than its 3 pages/));

test('a truncated stream is rejected', async () => {
  await rejected(
    [good(), frame(pagesBody([1]), { count: 1 }).subarray(0, 100)],
    /truncated stream: stream 0 closed inside a frame/,
    { end: true },
  );
  await rejected(
    [good(), frame(pagesBody([1]), { count: 1 })],
    /truncated stream: stream 0 closed before the end of migration/,
    { end: true },
  );
});

test('a kill frame without --allow-kill is rejected', () =>
  rejected([good(), frame(new Uint8Array(0), { type: 6 })], /not started with --allow-kill/));

test('unknown handshake flags and non-zero reserved fields are refused', async () => {
  const flags = good();
  flags.writeUInt16LE(0x5, 6);
  await refused([flags], /unknown handshake flags 0x4/);
  // Codec files named (flag bit 1) with no names at all.
  const noNames = good();
  noNames.writeUInt16LE(0x3, 6);
  await refused([noNames], /bad codec names/);
  const reserved = good();
  reserved.writeUInt16LE(1, 30);
  await refused([reserved], /the handshake's reserved field is 0x1, not 0/);
  const f = frame(pagesBody([1]), { count: 1 });
  f.writeUInt32LE(5, 20);
  await rejected([good(), f], /a frame header's reserved field is 0x5, not 0/);
});

/** Every page of the 8 MiB guest once, in frames of 256 pages. */
const allPages = (): Buffer[] =>
  Array.from({ length: 8 }, (_, i) =>
    frame(pagesBody(Array.from({ length: 256 }, (_, j) => i * 256 + j)), { count: 256 }),
  );

test('a migration that is not complete is refused as such at its end, and frames after the end are refused', async () => {
  const state = Buffer.alloc(4096, 9);
  const end = frame(new Uint8Array(0), { type: 3 });
  await rejected([good(), end], /end of migration with 2048 of 2048 pages never sent: the migration is not complete/);
  await rejected([good(), ...allPages().slice(1), frame(state, { type: 2 }), end], /256 of 2048 pages never sent/);
  await rejected([good(), ...allPages(), end], /end of migration without the device state/);
  await rejected(
    [good(), ...allPages(), frame(state, { type: 2 }), end, frame(pagesBody([1]), { count: 1 })],
    /a frame of type 1 after the end of migration/,
  );
});

test('verify: one request per migration, with a 32-byte key, after the end, counting the frames; answered with the MAC', async () => {
  const key = Buffer.alloc(32, 7);
  const state = Buffer.alloc(4096, 9);
  const end = frame(new Uint8Array(0), { type: 3 });
  // A whole migration: 8 page frames, the device state, the end; the verify counts those 10.
  const whole = (): Buffer[] => [good(), ...allPages(), frame(state, { type: 2 }), end];
  const verify = (count: number): Buffer => frame(key, { type: 5, count });
  await rejected(
    [good(), frame(key, { type: 5 })],
    /a verify request before the device state: the migration is not complete/,
  );
  await rejected(
    [good(), frame(state, { type: 2 }), frame(new Uint8Array(0), { type: 5 })],
    /a verify frame carries a 32-byte key, not 0 bytes/,
  );
  await rejected(
    [good(), frame(state, { type: 2 }), verify(1)],
    /a verify request before the end of migration: the migration is not complete/,
  );
  await rejected(
    [...whole(), verify(9)],
    /the verify request counts 9 frames sent before it, but 10 arrived: frames were lost or added on the way/,
  );
  await rejected([...whole(), verify(10), verify(11)], /a second verify request: one per migration/);
  await rejected([good(), frame(state, { type: 2 }), frame(state, { type: 2 })], /a second device state frame/);
  // Answered: HMAC-SHA256 under the key, of the shape, the target memory (every page 0xab) and the device state.
  const x = await exchange(receiver.address, [...whole(), verify(10)], { timeoutMs: 2000, token: 's3cret' });
  const mac = x.feedback.find((f) => f.kind === 'mac');
  assert.ok(mac && mac.kind === 'mac', 'a MAC came back');
  const memory = new SharedArrayBuffer(8 * 1024 * 1024);
  new Uint8Array(memory).fill(0xab);
  const expected = computeMac({
    key,
    pageSizeBytes: 4096,
    pageCount: 2048,
    ranges: [{ buffer: memory, offset: 0, length: memory.byteLength }],
    deviceState: state,
  });
  assert.deepEqual(mac.mac, expected);
});

test('the receiver still accepts a good migration after all that', async () => {
  const r = await runMigration(
    smallConfig({ ramBytes: 8 * 1024 * 1024, pageWritesPerSec: 2000, target: receiver.address, token: 's3cret' }),
  );
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
});
