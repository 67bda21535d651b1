/**
 * The run-time side of the dirty-tracking cost model (src/dirtylog/cost.ts): the counters the vCPUs
 * charge their faults and ring-full exits to, the meter the dirty log charges the host's work to
 * and the driver pays on its clock, and the records a round and a run carry.
 */
import type { Clock } from '../clock/clock.js';
import type { DirtyCostRecord } from '../result/schema.js';

/** The cost model's parameters, microseconds. */
export interface DirtyCostParams {
  /** Guest: the first write to a write-protected page (KVM's write-protect fault; the ring's push happens in it). */
  faultUs: number;
  /** Guest: a vCPU's exit to userspace on a full dirty ring and its re-entry (the wait for the harvest is apart). */
  ringFullExitUs: number;
  /** Host, once when pre-copy starts: enabling dirty logging (write-protecting the guest), per GiB. */
  enablePerGiBUs: number;
  /** Host, per fetch of the log (an ioctl, or the ring's reap): fixed part. */
  syncUs: number;
  /** Host, per fetch: walking and copying the bitmap, per GiB of guest memory. */
  syncPerGiBUs: number;
  /** Host: write-protecting one page again (in the fetch, the clear or the reset, as the strategy does it). */
  protectPerPageUs: number;
  /** Host, per KVM_CLEAR_DIRTY_LOG call (bitmap-chunked): fixed part. */
  clearUs: number;
  /** Host: collecting one entry from a dirty ring (ring). */
  harvestPerEntryUs: number;
  /** Host, per KVM_RESET_DIRTY_RINGS call (ring): fixed part. */
  resetUs: number;
}

// ---------------------------------------------------------------------------------- guest side

/** Per vCPU, Float64 counters: write-protect faults, their ms, ring-full exits, their ms. */
const FIELDS = 4;
export const FAULTS = 0;
export const FAULT_MS = 1;
export const RING_EXITS = 2;
export const RING_EXIT_MS = 3;

/** What a vCPU pays for dirty tracking, and where it counts it (shared with the driver). */
export interface VcpuCost {
  faultMs: number;
  ringFullExitMs: number;
  /** Float64 x 4 per vCPU: FAULTS, FAULT_MS, RING_EXITS, RING_EXIT_MS; then one: 1 while logging is on. */
  counters: SharedArrayBuffer;
}

export function vcpuCounters(cost: VcpuCost, vcpu: number): Float64Array {
  return new Float64Array(cost.counters, vcpu * FIELDS * 8, FIELDS);
}

/** 1 while dirty logging is on (the dirty log's start() sets it): before, a write faults on nothing. */
export function loggingFlag(cost: VcpuCost): Float64Array {
  return new Float64Array(cost.counters, cost.counters.byteLength - 8, 1);
}

/** The guest's dirty-tracking costs over all vCPUs so far. */
export type GuestCostTotals = DirtyCostRecord['guest'];

export function noGuestCosts(): GuestCostTotals {
  return { faults: 0, faultMs: 0, ringFullExits: 0, ringFullExitMs: 0 };
}

export function guestCostTotals(cost: VcpuCost): GuestCostTotals {
  const all = new Float64Array(cost.counters);
  const t = noGuestCosts();
  for (let i = 0; i + FIELDS <= all.length; i += FIELDS) {
    t.faults += all[i + FAULTS];
    t.faultMs += all[i + FAULT_MS];
    t.ringFullExits += all[i + RING_EXITS];
    t.ringFullExitMs += all[i + RING_EXIT_MS];
  }
  return t;
}

// ----------------------------------------------------------------------------------- host side

export type HostCostTotals = DirtyCostRecord['host'];
export type HostCostKind = keyof HostCostTotals;

export function noHostCosts(): HostCostTotals {
  return { enableMs: 0, syncMs: 0, clearMs: 0, harvestMs: 0, resetMs: 0 };
}

/**
 * The migration thread's dirty-tracking time: charged by the dirty log as it works, waited by the
 * driver at pay(). On the virtual clock the wait is exact; on the real one waits shorter than a
 * millisecond are gathered until they add up to one (a timer cannot wait less), and a forced pay
 * waits whatever is owed.
 */
export class HostCostMeter {
  readonly totals = noHostCosts();
  private owedMs = 0;

  charge(kind: HostCostKind, us: number): void {
    if (us <= 0) return;
    this.totals[kind] += us / 1000;
    this.owedMs += us / 1000;
  }

  async pay(clock: Clock, force = false): Promise<void> {
    if (this.owedMs <= 0) return;
    if (clock.kind === 'real' && !force && this.owedMs < 1) return;
    const owed = this.owedMs;
    this.owedMs = 0;
    await clock.sleepUntil(clock.nowMs() + owed);
  }
}

/** A dirty log's costs: its parameters, the host's meter, the vCPUs' share. */
export interface DirtyCosts {
  readonly params: DirtyCostParams;
  /** Whether any cost is charged (false for --dirty-cost none): records carry costs only then. */
  readonly on: boolean;
  readonly meter: HostCostMeter;
  readonly vcpu: VcpuCost;
}

export function dirtyCosts(params: DirtyCostParams, vcpus: number): DirtyCosts {
  return {
    params,
    on: Object.values(params).some((v) => v > 0),
    meter: new HostCostMeter(),
    vcpu: {
      faultMs: params.faultUs / 1000,
      ringFullExitMs: params.ringFullExitUs / 1000,
      counters: new SharedArrayBuffer((vcpus * FIELDS + 1) * 8),
    },
  };
}

/** Host and guest costs of one round (IterationRecord.dirtyCost), ms. */
export type RoundDirtyCost = DirtyCostRecord;

/** Adds `b` to `a` (the run's totals), or `now` minus `before` (a round's) with sign -1. */
export function addRoundCost(a: RoundDirtyCost, b: RoundDirtyCost, sign = 1): RoundDirtyCost {
  const host = noHostCosts();
  for (const k of Object.keys(host) as HostCostKind[]) host[k] = a.host[k] + sign * b.host[k];
  const g = a.guest;
  const h = b.guest;
  return {
    host,
    guest: {
      faults: g.faults + sign * h.faults,
      faultMs: g.faultMs + sign * h.faultMs,
      ringFullExits: g.ringFullExits + sign * h.ringFullExits,
      ringFullExitMs: g.ringFullExitMs + sign * h.ringFullExitMs,
    },
  };
}

export function noRoundCost(): RoundDirtyCost {
  return { host: noHostCosts(), guest: noGuestCosts() };
}

export function diffRoundCost(now: RoundDirtyCost, before: RoundDirtyCost): RoundDirtyCost {
  return addRoundCost(now, before, -1);
}

export function snapshotCost(costs: DirtyCosts): RoundDirtyCost {
  return { host: { ...costs.meter.totals }, guest: guestCostTotals(costs.vcpu) };
}

/** Host total of a round's costs, ms. */
export function hostCostMs(c: RoundDirtyCost): number {
  return c.host.enableMs + c.host.syncMs + c.host.clearMs + c.host.harvestMs + c.host.resetMs;
}

/** Guest total of a round's costs, summed over vCPUs, ms. */
export function guestCostMs(c: RoundDirtyCost): number {
  return c.guest.faultMs + c.guest.ringFullExitMs;
}
