/**
 * QEMU's rule (migration/migration.c, migration_iteration_run): switch over once the pending
 * bytes can be sent within the downtime limit at the bandwidth measured:
 *   thresholdBytes = bandwidthBytesPerSec * downtimeLimitMs / 1000.
 * QEMU itself never gives up; --max-iterations makes it fail instead of looping forever.
 * Weighed after each round of the round-based loop (`--policy qemu-rounds`); `--policy qemu` runs
 * QEMU's own loop (src/precopy/qemu.ts), which applies the rule where QEMU does.
 */
import type { PolicyDecision, PolicyState, StopPolicy } from './policy.js';
import { pendingBytes } from './policy.js';
import { formatBytes } from '../util/format.js';

export class QemuPolicy implements StopPolicy {
  readonly name = 'qemu';

  decide(s: PolicyState): PolicyDecision {
    const pending = pendingBytes(s);
    const thresholdBytes = (s.bandwidthBytesPerSec * s.downtimeLimitMs) / 1000;
    const facts = `pending ${formatBytes(pending)}, threshold ${formatBytes(thresholdBytes)} (${s.downtimeLimitMs} ms at measured bandwidth)`;
    if (pending <= thresholdBytes) return { action: 'switchover', why: `${facts}: fits the downtime limit` };
    if (s.maxIterations !== null && s.roundsDone >= s.maxIterations) {
      return { action: 'fail', why: `did not converge within ${s.maxIterations} iterations: ${facts}` };
    }
    return { action: 'continue', why: facts };
  }
}
