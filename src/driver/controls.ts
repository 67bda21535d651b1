/**
 * What the convergence aids act on (AidControls): the guest's throttle, the send rate, the downtime
 * limit; and the loop's own rate limit (QEMU's max-bandwidth) under the aids' rate, lifted when the
 * guest is suspended.
 */
import type { AidControls } from '../converge/aid.js';
import type { ThrottleHow } from '../guest/throttle.js';
import type { GuestHost } from '../guest/host.js';
import type { Transport } from '../channel/transport.js';

/** The lower of two rate limits, bits/s; null: none. */
function lowerRate(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

export class RunControls implements AidControls {
  throttle = 0;
  rateBitsPerSec: number | null = null;
  /** The loop's limit (--max-bandwidth), under the aids' rate. */
  private maxBandwidth: number | null = null;

  constructor(
    private readonly guest: GuestHost,
    private readonly transport: Transport,
    public downtimeLimitMs: number,
  ) {}

  setThrottle(fraction: number, how?: ThrottleHow): void {
    this.throttle = Math.round(fraction * 1000) / 1000; // per-mille, as the control block holds it
    this.guest.setThrottle(this.throttle, how);
  }

  setRate(bitsPerSec: number | null): void {
    this.rateBitsPerSec = bitsPerSec;
    this.apply();
  }

  /** The loop's rate limit (QEMU's max-bandwidth); null lifts it (QEMU lifts it at the switch-over). */
  limitRate(bitsPerSec: number | null): void {
    this.maxBandwidth = bitsPerSec;
    this.apply();
  }

  private apply(): void {
    this.transport.setRate(lowerRate(this.maxBandwidth, this.rateBitsPerSec));
  }
}
