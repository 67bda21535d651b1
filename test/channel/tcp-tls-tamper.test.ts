/**
 * A man in the middle of a TLS-PSK stream (a token given: src/wire/tls.ts) cannot alter it unseen
 * (issue 27). A proxy between source and receiver flips one byte in every chunk it forwards past
 * the TLS handshake, one way or the other: every run fails, the guest still on the source, with
 * raw pages, two streams and a codec chain. Through the same proxy passing everything, the run
 * completes verified, so the proxy itself is sound. Without the token a proxy cannot even end the
 * handshake (test/channel/tcp-hostile-input.test.ts), so it cannot read the MAC key or rewrite
 * the MAC, as it could over plain TCP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { resolveRunConfig } from '../../src/config/options.js';
import { runMigration } from '../../src/driver/migrate.js';
import { startReceiver } from '../fixtures/receiver.js';

type Mode = 'pass' | 'flip-to-receiver' | 'flip-to-source';

/**
 * Bytes left alone first each way: the TLS handshake and the HELLO or its REPLY (a change there
 * only fails the connect). The receiver's side sends little after it: acknowledgements.
 */
const UNTOUCHED_BYTES: Record<string, number> = { 'flip-to-receiver': 8 * 1024, 'flip-to-source': 1024 };

async function startProxy(to: number, mode: Mode): Promise<{ port: number; flipped: () => number; close(): void }> {
  let flipped = 0;
  const tamper = (direction: Mode) => {
    let seen = 0;
    return (d: Buffer): Buffer => {
      seen += d.length;
      if (mode !== direction || seen < UNTOUCHED_BYTES[direction]) return d;
      const b = Buffer.from(d);
      b[b.length >> 1] ^= 0x01;
      flipped++;
      return b;
    };
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(to, '127.0.0.1');
    const toReceiver = tamper('flip-to-receiver');
    const toSource = tamper('flip-to-source');
    client.on('data', (d: Buffer) => upstream.write(toReceiver(d)));
    upstream.on('data', (d: Buffer) => client.write(toSource(d)));
    upstream.on('end', () => client.end());
    client.on('end', () => upstream.end());
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, flipped: () => flipped, close: () => server.close() };
}

async function migrateThrough(mode: Mode, extra: Record<string, string> = {}) {
  const receiver = await startReceiver({ token: 'tamper-proof' });
  const proxy = await startProxy(receiver.address.port, mode);
  try {
    const r = await runMigration(
      resolveRunConfig({
        target: `tcp://127.0.0.1:${proxy.port}`,
        token: 'tamper-proof',
        ram: '16MiB',
        dirtyRate: '20MB/s',
        content: 'random',
        link: '2Gbit/s',
        seed: '5',
        ...extra,
      }),
    );
    return { r, flipped: proxy.flipped() };
  } finally {
    proxy.close();
    await receiver.server.close();
  }
}

const VARIANTS: Array<[string, Record<string, string>]> = [
  ['raw pages', {}],
  ['two connections', { multifd: '2' }],
  ['zero,lz4', { codec: 'zero,lz4' }],
];

test('through a TLS proxy that changes nothing, the run completes verified', async () => {
  const { r, flipped } = await migrateThrough('pass');
  assert.equal(flipped, 0);
  assert.equal(r.status, 'completed', r.reason);
  assert.equal(r.verified, true);
});

for (const [name, extra] of VARIANTS) {
  for (const mode of ['flip-to-receiver', 'flip-to-source'] as const) {
    test(`a byte flipped per chunk ${mode === 'flip-to-receiver' ? 'towards the receiver' : 'towards the source'}, ${name}: the run fails, the guest stays on the source`, async () => {
      const { r, flipped } = await migrateThrough(mode, extra);
      assert.ok(flipped > 0, 'the proxy changed the stream');
      assert.equal(r.status, 'failed');
      assert.equal(r.verified, false);
      assert.equal(r.sourceRunning, true);
      assert.match(
        r.reason ?? '',
        /TLS record failed its authentication|rejected a TLS record|closed unexpectedly|the receiver reported|verification failed/,
      );
    });
  }
}
