/**
 * Per-migration time limits as KubeVirt sets them (pkg/virt-launcher/virtwrap/live-migration-source.go,
 * its migration monitor; the KubeVirt user guide's MigrationConfiguration):
 * - completion timeout: completionTimeoutPerGiB x the guest's GiB from the migration's start;
 * - progress timeout: no new low of the data remaining (QEMU's "remaining", bytes still to send)
 *   for that long.
 * KubeVirt cancels (aborts) on either, or on the completion timeout switches to post-copy when
 * allowPostCopy is set. Here each limit has its action: cancel (the VM stays on the source),
 * postcopy (the switch at the end of the current round; no limit applies after it, as in
 * KubeVirt), or auto-converge (the throttle starts, QEMU's auto-converge rules; the limits start
 * over, and a limit that fires again cancels).
 */
import { formatMs } from '../util/format.js';
import type { LimitEvent } from '../result/schema.js';

export const TIMEOUT_ACTIONS = ['cancel', 'postcopy', 'auto-converge'] as const;
export type TimeoutAction = LimitEvent['action'];

export interface MigrationLimits {
  /** The completion timeout, ms from the migration's start; null: none. */
  completionMs: number | null;
  onCompletion: TimeoutAction;
  /** The progress timeout, ms without a new low of the data remaining; null: none. */
  progressMs: number | null;
  onProgress: TimeoutAction;
}

export type { LimitEvent };

export class LimitWatch {
  readonly events: LimitEvent[] = [];
  private startMs = 0;
  private lowBytes = Infinity;
  private lowAtMs = 0;
  private acted = false;
  private off = false;

  constructor(private readonly limits: MigrationLimits) {}

  /** The data remaining at `nowMs` (after a sync or a round). */
  remaining(bytes: number, nowMs: number): void {
    if (bytes < this.lowBytes) {
      this.lowBytes = bytes;
      this.lowAtMs = nowMs;
    }
  }

  /** Stops watching (post-copy has begun, or the guest is suspended). */
  stop(): void {
    this.off = true;
  }

  /** The limit that fires at `nowMs`, with the action to take now; null if none. */
  check(nowMs: number): LimitEvent | null {
    if (this.off) return null;
    const { completionMs, progressMs } = this.limits;
    let event: LimitEvent | null = null;
    if (completionMs !== null && nowMs - this.startMs > completionMs) {
      event = {
        atMs: nowMs,
        limit: 'completion',
        action: this.limits.onCompletion,
        why: `the completion timeout of ${formatMs(completionMs)} passed`,
      };
    } else if (progressMs !== null && nowMs - this.lowAtMs > progressMs) {
      const low = Number.isFinite(this.lowBytes)
        ? `; the least remaining was ${(this.lowBytes / 2 ** 20).toFixed(1)} MiB at ${formatMs(this.lowAtMs)}`
        : '';
      event = {
        atMs: nowMs,
        limit: 'progress',
        action: this.limits.onProgress,
        why: `no progress for the progress timeout of ${formatMs(progressMs)}${low}`,
      };
    }
    if (event === null) return null;
    // Auto-converge once: the limits start over with the throttle on; a second firing cancels.
    if (this.acted && event.action === 'auto-converge') event.action = 'cancel';
    this.events.push(event);
    this.acted = true;
    if (event.action === 'auto-converge') {
      this.startMs = nowMs;
      this.lowAtMs = nowMs;
      this.lowBytes = Infinity;
    } else {
      this.off = true;
    }
    return event;
  }
}
