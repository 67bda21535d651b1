/**
 * The end of every migration, completed or failed: the verdict on the target's memory, every part
 * shut down, the guest left running where it lives, and the result built once from what the
 * stages found.
 */
import type { MigrationResult } from '../result/schema.js';
import { describeFault } from '../channel/fault.js';
import { summarizeCodecs } from '../codec/summary.js';
import { deviceStateBytes } from '../guest/device-state.js';
import type { Migration } from './migration.js';
import type { PostcopyEnding } from './postcopy.js';
import { buildResult } from './result.js';

/** What the stages came to. */
export interface StagesOutcome {
  /** Why the run failed; undefined when every stage completed. */
  failure?: string;
  /** The guest ran on the target before the end (post-copy): past that, it cannot fall back to the source. */
  resumed: boolean;
  downtimeMs: number;
  /** The post-copy ending, where the run switched to it. */
  postcopy?: PostcopyEnding;
}

/** Verifies (a completed run), shuts everything down, and builds the result. */
export async function complete(m: Migration, outcome: StagesOutcome): Promise<MigrationResult> {
  const { clock, transport, encoding } = m.world;
  const { guest } = m.prepared;
  const totalTimeMs = clock.nowMs();
  const wallTimeMs = performance.now() - m.prepared.wallStartMs;
  const bytesSent = transport.bytesDelivered();
  await outcome.postcopy?.settle(outcome.failure !== undefined);
  // Verified with both guests still: the target must equal the source at suspension, with what the
  // guest wrote on the target during post-copy mirrored into the source.
  let failure = outcome.failure;
  let verified = false;
  if (failure === undefined) {
    const verdict = await transport
      .verify()
      .catch((e: unknown) => `verification failed: ${e instanceof Error ? e.message : String(e)}`);
    verified = verdict === null;
    if (verdict !== null) failure = verdict;
  }
  await transport.close();
  const warnings = faultWarnings(m);
  const codec = encoding ? summarizeCodecs(encoding.stats()) : undefined;
  await encoding?.close();
  // A migration that did not complete leaves the guest running on the source, unthrottled; past
  // the post-copy switch it can not: the target has run, and the state is split.
  if (failure !== undefined && !outcome.resumed) {
    guest.setThrottle(0);
    if (m.suspended) guest.resume();
  }
  const postcopy = await outcome.postcopy?.shutdown();
  const series = m.series.intervals(
    { atMs: totalTimeMs, bytes: m.sender.sentBytes, writes: guest.totalWrites() },
    m.suspended ? m.suspendedAtMs : null,
  );
  const { policy, loop, userAid } = m.strategies;
  const { config, records } = m;
  return buildResult({
    config,
    startedAt: m.startedAt,
    failure,
    resumed: outcome.resumed,
    verified,
    switchoverReason: m.lastDecision?.why,
    totalTimeMs,
    downtimeMs: outcome.downtimeMs,
    bytesSent,
    wallTimeMs,
    setup: m.prepared.setup,
    codec,
    beforePageWritesPerSec: m.prepared.beforePageWritesPerSec,
    guest: await guest.shutdown(),
    stages: m.stages,
    iterations: records.records,
    series,
    postcopy,
    qemu: loop.qemuStats && {
      ...loop.qemuStats(
        deviceStateBytes(config.vcpus),
        Math.max(0, ...records.records.map((it) => it.throttlePercent)),
      ),
      ...(m.qemuDowntimeMs === undefined ? {} : { downtimeMs: m.qemuDowntimeMs }),
      ...outcome.postcopy?.qemuStats(outcome.downtimeMs),
    },
    warnings,
    limits: m.watch?.events,
    names: { policy: policy.name, aid: userAid?.name, loop: loop.name },
  });
}

/** A --fault whose round never came: the run says so rather than pass for one that survived it. */
function faultWarnings(m: Migration): string[] {
  const { fault } = m.config;
  if (fault === null || m.world.transport.faults?.fired() !== false) return [];
  const last = Math.max(0, m.records.count() - 1);
  return [`--fault ${describeFault(fault)} never fired: the run ended in round ${last}, before round ${fault.round}`];
}
