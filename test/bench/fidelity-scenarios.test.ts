/** Every QEMU reference scenario (bench/reference/qemu/) becomes valid migbench options with its parameters. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadReferences, referenceKind, scenarioOptions } from '../../bench/lib/fidelity.js';
import { resolveRunConfig } from '../../src/config/options.js';

test('the 34 pre-copy, 8 post-copy and 3 multifd references load, and each resolves to a run with its RAM, rate, limits and codecs', () => {
  const refs = loadReferences();
  assert.equal(refs.filter((r) => referenceKind(r) === 'precopy').length, 34);
  assert.equal(refs.filter((r) => referenceKind(r) === 'postcopy').length, 8);
  assert.equal(refs.filter((r) => referenceKind(r) === 'multifd').length, 3);
  for (const ref of refs) {
    const p = ref.params;
    const c = resolveRunConfig(scenarioOptions(ref));
    assert.equal(c.ramBytes, p.ram_mib * 2 ** 20, ref.name);
    // The rate the guest reached before the migration: within 2.5 % under the dirtier's target.
    assert.equal(c.pageWritesPerSec, Math.round(ref.summary.dirtier_rate_before_mean), ref.name);
    assert.ok(
      c.pageWritesPerSec <= p.dirty_rate_pages_per_s && c.pageWritesPerSec > 0.975 * p.dirty_rate_pages_per_s,
      ref.name,
    );
    assert.equal(c.maxBandwidthBitsPerSec, p.max_bandwidth_bytes_per_s * 8, ref.name);
    assert.equal(c.linkBitsPerSec, p.link_bw_bytes_per_s === null ? null : p.link_bw_bytes_per_s * 8, ref.name);
    assert.equal(c.downtimeLimitMs, p.downtime_limit_ms, ref.name);
    assert.equal(c.timeoutMs, p.timeout_s * 1000, ref.name);
    assert.equal(c.autoConverge !== null, p.auto_converge, ref.name);
    assert.deepEqual(c.codecs, p.xbzrle ? ['zero', 'xbzrle'] : ['zero'], ref.name);
    if (p.xbzrle) assert.equal(c.xbzrleCacheBytes, (p.xbzrle_cache_mib as number) * 2 ** 20, ref.name);
    assert.equal(c.clock, 'virtual');
    // Post-copy once dirty-sync-count reached N, as the harness issued migrate-start-postcopy.
    assert.equal(c.postcopy, referenceKind(ref) === 'postcopy', ref.name);
    assert.equal(c.postcopyAfterRounds, p.postcopy_after_passes ?? null, ref.name);
    assert.equal(c.multifdChannels, p.multifd_channels ?? null, ref.name);
  }
});
