/**
 * Soak: 20 migrations in a row into one `migbench receive` (a child process); each completes
 * verified, and the receiver's memory stays stable (its RSS after the first and the last, from its
 * per-migration lines).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMigration } from '../../src/driver/migrate.js';
import { smallConfig } from '../fixtures/migrate.js';
import { spawnReceiver } from '../fixtures/receiver-process.js';

test('20 migrations into one receiver all complete verified; its RSS grows by less than 64 MiB', async (t) => {
  const receiver = await spawnReceiver([]);
  try {
    const config = smallConfig({
      ramBytes: 8 * 1024 * 1024,
      pageWritesPerSec: 1000,
      linkBitsPerSec: null,
      vcpus: 1,
      target: { host: '127.0.0.1', port: receiver.port },
    });
    for (let i = 0; i < 20; i++) {
      const r = await runMigration(config);
      assert.equal(r.status, 'completed', `migration ${i}: ${r.reason}`);
      assert.equal(r.verified, true);
    }
    const deadline = Date.now() + 5000;
    while (
      receiver
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('migration ')).length < 20 &&
      Date.now() < deadline
    )
      await new Promise((r) => setTimeout(r, 50));
    const lines = receiver
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('migration '));
    assert.equal(lines.length, 20);
    assert.ok(
      lines.every((l) => / completed: /.test(l)),
      lines.join('\n'),
    );
    const rss = lines.map((l) => /receiver RSS ([\d.]+) MiB/.exec(l)).map((m) => Number(m?.[1]));
    t.diagnostic(`receiver RSS after migration 1: ${rss[0]} MiB, after 20: ${rss[19]} MiB`);
    assert.ok(rss[19] - rss[0] < 64, `receiver RSS grew from ${rss[0]} to ${rss[19]} MiB`);
  } finally {
    receiver.child.kill('SIGTERM');
    await receiver.exited();
  }
});
