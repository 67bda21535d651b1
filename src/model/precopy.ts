/**
 * The analytic pre-copy model (Clark et al. 2005; the geometric series every later paper uses):
 * a guest of M bytes dirties D bytes/s of distinct pages, the link carries R bytes/s, lambda = D/R.
 * Round i sends V_i = M lambda^i (V_0 = M) in V_i / R; the stop policy picks the last pre-copy
 * round n, and the stop-and-copy round sends V_(n+1): downtime = V_(n+1) / R, total =
 * M (1 - lambda^(n+2)) / (1 - lambda) / R. migbench adds its own framing (32-byte frame headers,
 * 8-byte page descriptors), the device state and the link latency per round trip, so the model
 * and a run of this tool can be compared number for number.
 */
import { OptionError } from '../util/errors.js';
import type { RunConfig } from '../config/types.js';
import type { ModelPrediction, ModelRound } from '../result/schema.js';
export type { ModelPrediction, ModelRound } from '../result/schema.js';
import { HYPERV_MAX_PASSES } from '../policy/hyperv.js';
import { XEN_MAX_FACTOR, XEN_MAX_ITERS, XEN_MIN_DIRTY_PAGES } from '../policy/xen.js';
import { pagesPerFrameFor } from '../memory/layout.js';
import { DESCRIPTOR_BYTES } from '../kernel/types.js';
import { HEADER_BYTES } from '../wire/frame.js';
import { deviceStateBytes } from '../guest/device-state.js';

/** Rounds the model follows at most before it calls a run unconverged. */
const MODEL_MAX_ROUNDS = 10_000;

export function predictPrecopy(c: RunConfig): ModelPrediction {
  const pageCount = c.ramBytes / c.pageSizeBytes;
  const wirePerPage = c.pageSizeBytes + DESCRIPTOR_BYTES + HEADER_BYTES / pagesPerFrameFor(c.pageSizeBytes);
  const linkBytesPerMs = c.linkBitsPerSec === null ? Infinity : c.linkBitsPerSec / 8 / 1000;
  // Pre-copy runs at --max-bandwidth where it is below the link; the final copy at the link's rate.
  const precopyBytesPerMs = Math.min(
    linkBytesPerMs,
    c.maxBandwidthBitsPerSec === null ? Infinity : c.maxBandwidthBitsPerSec / 8 / 1000,
  );
  const dirtyPagesPerMs = c.pageWritesPerSec / 1000;
  const lambda = precopyBytesPerMs === Infinity ? 0 : (dirtyPagesPerMs * wirePerPage) / precopyBytesPerMs;
  const precopyTimeOf = (bytes: number): number => bytes / precopyBytesPerMs + c.latencyMs;
  const timeOf = (bytes: number): number => bytes / linkBytesPerMs + c.latencyMs;

  const rounds: ModelRound[] = [];
  let pages = pageCount;
  let totalBytes = 0;
  let why: string;
  let converges: boolean;
  for (let i = 0; ; i++) {
    const bytes = pages * wirePerPage;
    const durationMs = precopyTimeOf(bytes);
    rounds.push({ index: i, phase: 'precopy', pagesSent: pages, bytesSent: bytes, durationMs });
    totalBytes += bytes;
    // Distinct pages dirtied during the round: every write a new page, at most the whole guest.
    const pending = Math.min(pageCount, dirtyPagesPerMs * durationMs);
    const bandwidth = bytes / durationMs;
    const decision = decide(c, i + 1, pending, bandwidth, totalBytes);
    if (decision.stop) {
      why = decision.why;
      converges = !decision.failed;
      pages = pending;
      break;
    }
    if (i + 1 >= MODEL_MAX_ROUNDS) {
      why = `no switch-over within ${MODEL_MAX_ROUNDS} rounds (lambda ${lambda.toFixed(3)} >= 1 never shrinks the rounds)`;
      converges = false;
      break;
    }
    pages = pending;
  }
  const precopyMs = rounds.reduce((t, r) => t + r.durationMs, 0);
  const setupMs = 3 * c.latencyMs; // connect's round trip, config's one way
  if (!converges) {
    return { lambda, converges, why, rounds, totalTimeMs: setupMs + precopyMs, downtimeMs: 0, bytesSent: totalBytes };
  }
  const finalBytes = pages * wirePerPage + HEADER_BYTES + deviceStateBytes(c.vcpus) + HEADER_BYTES;
  const stopMs = timeOf(finalBytes);
  rounds.push({
    index: rounds.length,
    phase: 'stop-and-copy',
    pagesSent: pages,
    bytesSent: finalBytes,
    durationMs: stopMs,
  });
  const resumeMs = timeOf(HEADER_BYTES);
  const announceMs = timeOf(HEADER_BYTES + 60);
  return {
    lambda,
    converges,
    why,
    rounds,
    totalTimeMs: setupMs + precopyMs + stopMs + resumeMs + announceMs,
    downtimeMs: stopMs + resumeMs,
    bytesSent: totalBytes + finalBytes + 2 * HEADER_BYTES + 60,
  };
}

/** The stop policies' rules over the model's numbers (src/policy/ holds the real ones). */
function decide(
  c: RunConfig,
  roundsDone: number,
  pendingPages: number,
  bandwidthBytesPerMs: number,
  totalBytes: number,
): { stop: boolean; failed?: boolean; why: string } {
  const max = c.maxIterations;
  switch (c.policy) {
    // The model is round-based: it weighs QEMU's rule after each round for both (for `qemu`, QEMU's
    // own loop, that is an approximation: the loop syncs more often than it has rounds).
    case 'qemu':
    case 'qemu-rounds': {
      const approx =
        c.policy === 'qemu'
          ? " (QEMU's rule weighed per round: the model is round-based, QEMU's own loop syncs more often)"
          : '';
      if (pendingPages * c.pageSizeBytes <= bandwidthBytesPerMs * c.downtimeLimitMs)
        return { stop: true, why: `pending bytes fit the downtime limit${approx}` };
      if (max !== null && roundsDone >= max)
        return { stop: true, failed: true, why: `did not converge within ${max} iterations` };
      return { stop: false, why: '' };
    }
    case 'hyperv': {
      if (pendingPages <= Math.max(64, Math.floor(c.ramBytes / c.pageSizeBytes / 1000)))
        return { stop: true, why: 'dirty set small' };
      if (roundsDone >= Math.min(HYPERV_MAX_PASSES, max ?? HYPERV_MAX_PASSES))
        return { stop: true, why: 'pass cap reached' };
      return { stop: false, why: '' };
    }
    case 'xen': {
      if (pendingPages < XEN_MIN_DIRTY_PAGES)
        return { stop: true, why: `fewer than ${XEN_MIN_DIRTY_PAGES} dirty pages` };
      if (roundsDone >= Math.min(XEN_MAX_ITERS, max ?? XEN_MAX_ITERS)) return { stop: true, why: 'round cap reached' };
      if (totalBytes >= XEN_MAX_FACTOR * c.ramBytes) return { stop: true, why: `${XEN_MAX_FACTOR} x RAM sent` };
      return { stop: false, why: '' };
    }
    default:
      // A policy it has no rules for (the user's file, or one added since) is said, not guessed.
      throw new OptionError(
        '--policy',
        `the analytic model knows the built-in policies (qemu, qemu-rounds, hyperv, xen), not ${c.policy === 'user' ? 'a policy from a file' : `--policy ${c.policy}`}`,
      );
  }
}
