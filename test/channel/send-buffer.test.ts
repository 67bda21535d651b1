/**
 * --send-buffer (virtual clock): the sender writes that many bytes ahead of a link of finite rate,
 * as into a socket's buffer; what it writes at the stop waits behind what the buffer holds. Over an
 * unlimited link (the host's copy is the sender's own work) it changes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveRunConfig } from '../../src/config/options.js';
import { runMigration } from '../../src/driver/migrate.js';
import { OptionError } from '../../src/util/errors.js';

const BUFFER = 4 * 2 ** 20;

const run = (more: Record<string, string>) =>
  runMigration(
    resolveRunConfig({
      clock: 'virtual',
      ram: '32MiB',
      vcpus: '1',
      dirtyRate: '500pages/s',
      pattern: 'hotset:0.25:1',
      latency: '0ms',
      dirtyCost: 'none',
      seed: '4',
      ...more,
    }),
  );

test('--send-buffer takes a size, 0 for none, on the virtual clock only', () => {
  assert.equal(resolveRunConfig({ clock: 'virtual', sendBuffer: '4MiB' }).sendBufferBytes, BUFFER);
  assert.equal(resolveRunConfig({ clock: 'virtual', sendBuffer: '0' }).sendBufferBytes, 0);
  assert.equal(resolveRunConfig({}).sendBufferBytes, 0);
  assert.throws(
    () => resolveRunConfig({ clock: 'real', sendBuffer: '4MiB' }),
    (e: unknown) => e instanceof OptionError && /--send-buffer only applies with --clock virtual/.test(e.message),
  );
  assert.throws(() => resolveRunConfig({ clock: 'virtual', sendBuffer: 'lots' }), /--send-buffer must be a size/);
});

test("a sender faster than the link fills the buffer: the guest's downtime runs a buffer's time past QEMU's", async () => {
  const link = { link: '100Mbit/s' };
  const plain = await run(link);
  const buffered = await run({ ...link, sendBuffer: '4MiB' });
  assert.equal(plain.status, 'completed', plain.reason);
  assert.equal(buffered.status, 'completed', buffered.reason);
  assert.equal(buffered.verified, true);
  // QEMU's downtime ends with the device state written; the guest's once it has arrived. Between
  // them: the device state's own time on the wire, and with a full buffer that buffer's.
  const bufferMs = (BUFFER * 8 * 1000) / 100e6; // 335.5 ms
  const gap = (r: typeof plain): number => r.totals.downtimeMs - (r.qemu?.downtimeMs ?? NaN);
  assert.ok(gap(plain) < 20, `without a buffer the guest resumes ${gap(plain)} ms after QEMU's downtime ends`);
  assert.ok(
    Math.abs(gap(buffered) - gap(plain) - bufferMs) < 0.05 * bufferMs,
    `with it ${gap(buffered)} ms after, the buffer holds ${bufferMs} ms`,
  );
});

test('over an unlimited link a send buffer changes nothing', async () => {
  const plain = await run({ link: 'unlimited', maxBandwidth: '200Mbit/s' });
  const buffered = await run({ link: 'unlimited', maxBandwidth: '200Mbit/s', sendBuffer: '4MiB' });
  assert.equal(buffered.totals.downtimeMs, plain.totals.downtimeMs);
  assert.equal(buffered.totals.bytesSent, plain.totals.bytesSent);
  assert.equal(buffered.totals.totalTimeMs, plain.totals.totalTimeMs);
});

test("post-copy: the device state waits behind the buffer (STOP to RESUME), QEMU's own downtime does not", async () => {
  const options = { link: '100Mbit/s', postcopyAfter: '2', dirtyRate: '2000pages/s' };
  const plain = await run(options);
  const buffered = await run({ ...options, sendBuffer: '4MiB' });
  assert.equal(buffered.status, 'completed', buffered.reason);
  assert.equal(buffered.verified, true);
  const plainStop = plain.qemu?.stopToResumeMs ?? NaN;
  const stop = buffered.qemu?.stopToResumeMs ?? NaN;
  // No rate limit: the sender writes faster than the link carries, and the buffer is full.
  const bufferMs = (BUFFER * 8 * 1000) / 100e6;
  assert.ok(
    Math.abs(stop - plainStop - bufferMs) < 0.1 * bufferMs,
    `STOP to RESUME ${stop} ms, ${plainStop} without the buffer`,
  );
  assert.ok((buffered.qemu?.downtimeMs ?? Infinity) < 50, `QEMU's downtime ${buffered.qemu?.downtimeMs} ms`);
});
