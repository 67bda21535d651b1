/**
 * `evacuate --target` over real sockets: two receivers (`receive --max-migrations 2`) as two target
 * hosts, three migrations at once at most two per target; every VM verified by both hosts' MACs,
 * no receiver ever refuses one as busy, and each receiver takes its share.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { parseVmText, resolveEvacuation } from '../../src/evacuate/config.js';
import { runEvacuation } from '../../src/evacuate/evacuate.js';
import { startReceiver } from '../fixtures/receiver.js';
import { runMigration } from '../../src/driver/migrate.js';
import { smallConfig } from '../fixtures/migrate.js';

const a = await startReceiver({ token: 's3cret', maxMigrations: 2 });
const b = await startReceiver({ token: 's3cret', maxMigrations: 2 });
after(() => {
  void a.server.close();
  void b.server.close();
});

test('five VMs to two receivers over TCP, three at once, two per target: all verified, none refused', async () => {
  const url = (r: typeof a): string => `tcp://${r.address.host}:${r.address.port}`;
  const vms = [
    'ram=16MiB,dirty-rate=10MB/s',
    'ram=8MiB',
    'ram=16MiB,dirty-rate=20MB/s',
    'ram=8MiB,dirty-rate=5MB/s',
    'ram=16MiB,target=2',
  ];
  const ev = resolveEvacuation({
    host: { target: [url(a), url(b)], token: 's3cret', maxConcurrent: '3', maxPerTarget: '2', link: '2Gbit/s' },
    common: { vcpus: '1' },
    vms: vms.map((t, i) => parseVmText(t, `--vm ${i + 1}`)),
  });
  const r = await runEvacuation(ev);
  assert.equal(r.status, 'completed', JSON.stringify(r.vms.map((v) => v.reason)));
  for (const v of r.vms) assert.equal(v.result?.verified, true, v.name);
  assert.deepEqual([...a.refused, ...b.refused], [], 'no receiver refused a migration');
  assert.equal(r.vms[4].target, url(b), 'target=2 went to the second receiver');
  assert.ok(r.host.peakConcurrent <= 3);
  await a.waitForMigrations(1);
  await b.waitForMigrations(1);
  assert.equal(a.summaries.length + b.summaries.length, 5);
});

test('a dead target: the VMs that could not connect go to the live one, and later ones are not sent there', async () => {
  const url = (r: typeof a): string => `tcp://${r.address.host}:${r.address.port}`;
  // A port with nothing listening: a closed receiver.
  const gone = await startReceiver({ token: 's3cret' });
  const dead = url(gone);
  await gone.server.close();
  const ev = resolveEvacuation({
    host: { target: [dead, url(a)], token: 's3cret', maxConcurrent: '2', link: '2Gbit/s' },
    common: { vcpus: '1' },
    vms: ['ram=8MiB', 'ram=8MiB', 'ram=8MiB', 'ram=8MiB'].map((t, i) => parseVmText(t, `--vm ${i + 1}`)),
  });
  const r = await runEvacuation(ev);
  assert.equal(r.status, 'completed', JSON.stringify(r.vms.map((v) => v.reason)));
  for (const v of r.vms) {
    assert.equal(v.result?.verified, true, v.name);
    assert.equal(v.target, url(a), `${v.name} migrated to the live target`);
  }
  const tried = r.vms.flatMap((v) => v.tried ?? []);
  assert.equal(tried.length, 1, `only the first VM tried the dead target: ${JSON.stringify(tried)}`);
  assert.match(tried[0], /ECONNREFUSED/);
});

test('a target busy with another source: the VM tries it again a second later, and migrates once it is free', async () => {
  // A handshake waits 1 s for the slot (20 s by default) before it is refused as busy.
  const busy = await startReceiver({ token: 's3cret', maxMigrations: 1, queueWaitMs: 1000 });
  try {
    // Another source's migration holds the receiver's one slot for a few seconds.
    const other = runMigration(
      smallConfig({
        ramBytes: 16 * 2 ** 20,
        pageWritesPerSec: 0,
        linkBitsPerSec: 50e6,
        target: busy.address,
        token: 's3cret',
      }),
    );
    await new Promise((r) => setTimeout(r, 500));
    const ev = resolveEvacuation({
      host: { target: [`tcp://${busy.address.host}:${busy.address.port}`], token: 's3cret', link: '2Gbit/s' },
      common: { vcpus: '1' },
      vms: [parseVmText('ram=8MiB', '--vm 1')],
    });
    const r = await runEvacuation(ev);
    assert.equal((await other).status, 'completed');
    assert.equal(r.status, 'completed', JSON.stringify(r.vms.map((v) => v.reason)));
    assert.equal(r.vms[0].result?.verified, true);
    const tried = r.vms[0].tried ?? [];
    assert.ok(tried.length >= 1, 'it was refused as busy first');
    for (const t of tried) assert.match(t, /refused the migration: busy with migration/);
  } finally {
    await busy.server.close();
  }
});
