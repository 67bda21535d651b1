/**
 * A real QEMU migration as a reference (schema qemu-precopy-anchor/1: bench/reference/qemu/ and
 * what `migbench calibrate --out DIR` writes), and the same scenario in migbench's options, as the
 * fidelity benchmark and the calibration run it.
 */
import type { RawRunOptions } from '../config/options.js';

/** What a reference file holds, of what is compared (schema qemu-precopy-anchor/1). */
export interface Reference {
  name: string;
  params: {
    ram_mib: number;
    wss_mib: number;
    dirty_rate_pages_per_s: number;
    pattern: 'random' | 'seq';
    max_bandwidth_bytes_per_s: number;
    downtime_limit_ms: number;
    xbzrle: boolean;
    xbzrle_cache_mib: number | null;
    auto_converge: boolean;
    link_bw_bytes_per_s: number | null;
    timeout_s: number;
    page_size: number;
    /** The dirtier's catch-up after it could not run, ms (dirtier.c's BACKLOG_MS). */
    dirtier_backlog_ms: number;
    /** Post-copy references: migrate-start-postcopy once dirty-sync-count reached this; absent or null: pre-copy. */
    postcopy_after_passes?: number | null;
    /** Multifd references: the channels; absent or null: one channel. */
    multifd_channels?: number | null;
  };
  summary: {
    converged: boolean;
    total_time_ms: number;
    downtime_ms: number | null;
    ram_transferred: number;
    ram_duplicate_pages: number;
    ram_dirty_sync_count: number;
    max_cpu_throttle_percentage: number;
    /** Page writes per second the dirtier achieved in the seconds before the migration. */
    dirtier_rate_before_mean: number;
    /** Post-copy references: page requests, bytes after the switch, the destination's block time, STOP to RESUME. */
    ram_postcopy_requests?: number;
    ram_postcopy_bytes?: number;
    postcopy_blocktime_ms?: number | null;
    observed_downtime_ms?: number | null;
    /** Multifd references: multifd-bytes. */
    ram_multifd_bytes?: number;
  };
}

/** The kind of a reference: pre-copy, post-copy (asked for after N syncs), or multifd. */
export function referenceKind(ref: Reference): 'precopy' | 'postcopy' | 'multifd' {
  if (ref.params.multifd_channels != null) return 'multifd';
  return ref.params.postcopy_after_passes == null ? 'precopy' : 'postcopy';
}

/**
 * A scenario as migbench options: 1 vCPU writing at the rate the dirtier achieved before the
 * migration (its target is 1-2 % beyond what the TCG guest reaches; the rate during the migration
 * is not used, as it holds the migration's own effects); the working set is the hot set and takes every write
 * (random) or is walked in order (seq); QEMU's own zero-page count gives the share of
 * zero pages, which lie outside the hot set (the dirtier fills its working set with random
 * bytes: the zero pages are free memory), the rest random; codec zero
 * (QEMU sends a zero page as a few bytes), plus xbzrle with its cache where QEMU had it.
 */
export function scenarioOptions(ref: Reference): RawRunOptions {
  const p = ref.params;
  const pages = (p.ram_mib * 2 ** 20) / p.page_size;
  const zeroPercent = Math.min(100, (100 * ref.summary.ram_duplicate_pages) / pages);
  const options: RawRunOptions = {
    clock: 'virtual',
    ram: `${p.ram_mib}MiB`,
    pageSize: `${p.page_size}`,
    vcpus: '1',
    dirtyRate: `${ref.summary.dirtier_rate_before_mean.toFixed(0)}pages/s`,
    // The dirtier walks its working set in order (seq) or writes it at random.
    pattern: p.pattern === 'seq' ? `sequential:${p.wss_mib / p.ram_mib}` : `hotset:${p.wss_mib / p.ram_mib}:1`,
    content: `mixed:${zeroPercent.toFixed(3)}:0:${(100 - zeroPercent).toFixed(3)}`,
    // max-bandwidth limits the migration, lifted at switchover; the link is loopback (unlimited)
    // unless the scenario ran through a rate-limited relay (_linkNN).
    maxBandwidth: `${p.max_bandwidth_bytes_per_s * 8}bit/s`,
    link: p.link_bw_bytes_per_s === null ? 'unlimited' : `${p.link_bw_bytes_per_s * 8}bit/s`,
    // QEMU's socket: Linux autotunes its send buffer up to tcp_wmem's 4 MiB (the default the
    // reference host ran with). It matters only through the relay, where QEMU writes faster than
    // the relay carries (its rate limit counts in flushes) and the buffer fills; over loopback the
    // host's copy is the sender's own work.
    sendBuffer: '4MiB',
    latency: '0ms',
    policy: 'qemu',
    downtimeLimit: `${p.downtime_limit_ms}ms`,
    timeout: `${p.timeout_s}s`,
    codec: p.xbzrle ? 'zero,xbzrle' : 'zero',
    seed: '1',
    // The dirtier makes up at most its backlog of writes after being descheduled (a throttle sleep).
    catchUp: `${p.dirtier_backlog_ms}ms`,
  };
  if (p.xbzrle && p.xbzrle_cache_mib !== null) options.xbzrleCache = `${p.xbzrle_cache_mib}MiB`;
  if (p.auto_converge) options.autoConverge = true;
  // migrate-start-postcopy once dirty-sync-count reached N (the harness polled every 100 ms).
  if (p.postcopy_after_passes != null) options.postcopyAfter = String(p.postcopy_after_passes);
  if (p.multifd_channels != null) options.multifd = String(p.multifd_channels);
  return options;
}
