/**
 * The guest control block: one small SharedArrayBuffer through which the driver runs, pauses
 * (suspends) and stops the vCPU writers, and through which they acknowledge and count.
 *   Int32 [STATE]          RUN | PAUSE | STOP, written by the driver
 *   Int32 [STARTED]        vCPUs that have begun running
 *   Int32 [THROTTLE]       per-mille of its time each vCPU is held back (auto-converge, SDPS)
 *   Int32 [SLICED]         1: held back in QEMU's sleep slices (throttle.ts); 0: its pace slowed evenly
 *   Int32 [ACK + vcpu]     1 while that vCPU is parked in a pause, written by the vCPU
 *   BigInt64 [WRITES + v]  page writes done by vCPU v so far, written by the vCPU
 */
import type { ThrottleHow } from './throttle.js';

export const STATE = 0;
export const STARTED = 1;
export const THROTTLE = 2;
export const SLICED = 3;
export const ACK = 8;
export const MAX_VCPUS = 256;

export const RUN = 0;
export const PAUSE = 1;
export const STOP = 2;

const INT32_SLOTS = ACK + MAX_VCPUS;
const WRITES_BYTE_OFFSET = INT32_SLOTS * 4;

export function createControlBlock(): SharedArrayBuffer {
  return new SharedArrayBuffer(WRITES_BYTE_OFFSET + MAX_VCPUS * 8);
}

export function controlViews(sab: SharedArrayBuffer): { i32: Int32Array; writes: BigInt64Array } {
  return {
    i32: new Int32Array(sab, 0, INT32_SLOTS),
    writes: new BigInt64Array(sab, WRITES_BYTE_OFFSET, MAX_VCPUS),
  };
}

/** Driver side of the control block. */
export class GuestControl {
  readonly sab = createControlBlock();
  private readonly v = controlViews(this.sab);

  constructor(readonly vcpus: number) {
    if (vcpus > MAX_VCPUS) throw new RangeError(`at most ${MAX_VCPUS} vCPUs`);
  }

  private set(state: number): void {
    Atomics.store(this.v.i32, STATE, state);
    Atomics.notify(this.v.i32, STATE);
  }

  /**
   * Suspends the guest: asks every vCPU to pause and waits until each has acknowledged, so no
   * write is in progress when this resolves (the barrier before the final scan). `whileWaiting`
   * runs between checks.
   */
  async pause(whileWaiting: () => void = () => {}, timeoutMs = 10_000): Promise<void> {
    this.set(PAUSE);
    const deadline = performance.now() + timeoutMs;
    for (let v = 0; v < this.vcpus; v++) {
      while (Atomics.load(this.v.i32, ACK + v) !== 1) {
        const left = deadline - performance.now();
        if (left <= 0) throw new Error(`vCPU ${v} did not acknowledge the pause within ${timeoutMs} ms`);
        whileWaiting(); // e.g. harvest dirty rings: a vCPU stalled on a full ring cannot pause
        const wait = Atomics.waitAsync(this.v.i32, ACK + v, 0, Math.min(left, 5));
        if (wait.async) await wait.value;
      }
    }
  }

  /** Resolves once every vCPU runs: the guest is up before the migration starts. */
  async started(timeoutMs = 30_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (let n = Atomics.load(this.v.i32, STARTED); n < this.vcpus; n = Atomics.load(this.v.i32, STARTED)) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`only ${n} of ${this.vcpus} vCPUs started within ${timeoutMs} ms`);
      const wait = Atomics.waitAsync(this.v.i32, STARTED, n, Math.min(left, 50));
      if (wait.async) await wait.value;
    }
  }

  resume(): void {
    this.set(RUN);
  }

  /** Sets the pause state without waiting for acknowledgements (vCPUs that have not started yet). */
  pauseNow(): void {
    this.set(PAUSE);
  }

  /** Holds every vCPU back `fraction` of its time (0 .. 0.99), as `how` says (ThrottleHow). */
  setThrottle(fraction: number, how: ThrottleHow = 'even'): void {
    Atomics.store(this.v.i32, SLICED, how === 'slices' ? 1 : 0);
    Atomics.store(this.v.i32, THROTTLE, Math.round(fraction * 1000));
  }

  stop(): void {
    this.set(STOP);
  }

  /** Page writes each vCPU has done so far. */
  writesPerVcpu(): number[] {
    return Array.from({ length: this.vcpus }, (_, v) => Number(Atomics.load(this.v.writes, v)));
  }

  /** Page writes all vCPUs have done so far. */
  totalWrites(): number {
    let sum = 0;
    for (let v = 0; v < this.vcpus; v++) sum += Number(Atomics.load(this.v.writes, v));
    return sum;
  }
}
