/**
 * What dirty tracking costs on a KVM host, which the emulator's own bitmaps do not: the guest's
 * write-protection faults and ring-full exits, the host's ioctls that enable logging, fetch the
 * log, clear chunks, harvest and reset rings. One set of parameters, with defaults per strategy
 * (STRATEGY_DEFAULTS, each number's source in docs/strategies.md, "What dirty tracking costs a KVM host"),
 * every one overridable: `--dirty-cost kvm,fault=5us,sync-per-gib=1ms` or `--dirty-cost none`. This
 * file is the model (parameters, defaults, parsing); cost-meter.ts charges and reports it.
 *
 * Where a cost falls, it is charged on both clocks:
 * - Guest costs hold the vCPU that incurs them: its next write comes that much later (a vCPU does
 *   not make up time it lost in the hypervisor). The vCPU counts them in shared memory
 *   (VcpuCost.counters), so rounds report them whichever thread the vCPU runs on.
 * - Host costs hold the migration thread: the dirty log charges them to a HostCostMeter as it does
 *   the work, and the driver waits what is owed before it goes on (HostCostMeter.pay): the sender
 *   waits the sync, and a final sync with the guest suspended lengthens the downtime.
 */
import type { DirtyCostParams } from './cost-meter.js';
import type { DirtyLogName } from './dirty-log.js';
import { OptionError } from '../util/errors.js';
import { parseDuration } from '../util/units.js';

export type DirtyCostKey = keyof DirtyCostParams;

/** Parameter names as typed after `--dirty-cost kvm,`: `fault=2us`. */
export const COST_PARAM_NAMES: Readonly<Record<string, DirtyCostKey>> = {
  fault: 'faultUs',
  'ring-full-exit': 'ringFullExitUs',
  'enable-per-gib': 'enablePerGiBUs',
  sync: 'syncUs',
  'sync-per-gib': 'syncPerGiBUs',
  'protect-per-page': 'protectPerPageUs',
  clear: 'clearUs',
  'harvest-per-entry': 'harvestPerEntryUs',
  reset: 'resetUs',
};

/** No cost at all: --dirty-cost none, the emulator as it was. */
export const NO_DIRTY_COST: Readonly<DirtyCostParams> = {
  faultUs: 0,
  ringFullExitUs: 0,
  enablePerGiBUs: 0,
  syncUs: 0,
  syncPerGiBUs: 0,
  protectPerPageUs: 0,
  clearUs: 0,
  harvestPerEntryUs: 0,
  resetUs: 0,
};

/**
 * KVM's costs (x86, TDP MMU, 4 KiB pages), from published measurements; docs/strategies.md cites each:
 * - fault 2.3 us: dirty_log_perf_test, 96 vCPUs x 1 GiB, iteration 2 dirty memory time 0.664 s
 *   against 0.062 s without faults, over 262,144 pages per vCPU (Gardon, 2022).
 * - protect-per-page 0.045 us: the same run's clear dirty log time, 1.14 s for 25.2 M dirty pages.
 * - sync-per-gib 6.9 us: the same run's get dirty log time, 0.66 ms for 96 GiB (a bitmap copy).
 * - sync, clear, reset 2 us: one ioctl on a slot with little to do (dirty_log_perf_test on
 *   LoongArch, get dirty log 2.1 us for 1 GiB of 16 KiB pages; Zhao, 2023).
 * - enable-per-gib 3.6 ms: write-protecting all of a 128 GiB guest took 460 ms; 10 ms with
 *   KVM_DIRTY_LOG_INITIALLY_SET, which CLEAR_DIRTY_LOG allows (78 us per GiB; Zhou, 2020).
 * - ring-full-exit 5 us and harvest-per-entry 0.02 us have no published figure: an exit to
 *   userspace and back, and reading a 16-byte entry and setting a bit.
 * The two-level bitmap is not KVM's: its fetch walks a summary 1/64 of the bitmap.
 */
const KVM_COMMON: DirtyCostParams = {
  ...NO_DIRTY_COST,
  faultUs: 2.3,
  enablePerGiBUs: 3600,
  syncUs: 2,
  protectPerPageUs: 0.045,
};

export const STRATEGY_DEFAULTS: Readonly<Record<DirtyLogName, DirtyCostParams>> = {
  bitmap: { ...KVM_COMMON, syncPerGiBUs: 6.9 },
  'bitmap-chunked': { ...KVM_COMMON, syncPerGiBUs: 6.9, enablePerGiBUs: 78, clearUs: 2 },
  'two-level': { ...KVM_COMMON, syncPerGiBUs: 6.9 / 64 },
  ring: { ...KVM_COMMON, ringFullExitUs: 5, harvestPerEntryUs: 0.02, resetUs: 2 },
};

/** The parameters each strategy charges: setting another is an error, not a silent no-op. */
const USED: Readonly<Record<DirtyLogName, readonly DirtyCostKey[]>> = {
  bitmap: ['faultUs', 'enablePerGiBUs', 'syncUs', 'syncPerGiBUs', 'protectPerPageUs'],
  'bitmap-chunked': ['faultUs', 'enablePerGiBUs', 'syncUs', 'syncPerGiBUs', 'protectPerPageUs', 'clearUs'],
  'two-level': ['faultUs', 'enablePerGiBUs', 'syncUs', 'syncPerGiBUs', 'protectPerPageUs'],
  ring: ['faultUs', 'ringFullExitUs', 'enablePerGiBUs', 'syncUs', 'protectPerPageUs', 'harvestPerEntryUs', 'resetUs'],
};

export type { DirtyCostParams };

/** `--dirty-cost` as given: a preset and the parameters set over it, microseconds. */
export interface DirtyCostSpec {
  preset: 'kvm' | 'none';
  overrides: Partial<DirtyCostParams>;
}

const FORM =
  'none, kvm, or kvm followed by parameters such as kvm,fault=5us,sync-per-gib=1ms ' +
  `(parameters: ${Object.keys(COST_PARAM_NAMES).join(', ')})`;

/** Parses `--dirty-cost`: `none`, `kvm`, `kvm,NAME=DURATION,...`. */
export function parseDirtyCost(text: string): DirtyCostSpec {
  const [head, ...rest] = text.split(',').map((s) => s.trim());
  if (head !== 'kvm' && head !== 'none')
    throw new OptionError('--dirty-cost', `--dirty-cost must be ${FORM} (got ${JSON.stringify(text)})`);
  if (head === 'none' && rest.length > 0)
    throw new OptionError('--dirty-cost', `--dirty-cost none takes no parameters (got ${JSON.stringify(text)})`);
  const overrides: Partial<DirtyCostParams> = {};
  for (const part of rest) {
    const m = /^([a-z-]+)=(.+)$/.exec(part);
    const key = m ? COST_PARAM_NAMES[m[1]] : undefined;
    if (!m || key === undefined)
      throw new OptionError(
        '--dirty-cost',
        `--dirty-cost must be ${FORM} (got ${JSON.stringify(part)} in ${JSON.stringify(text)})`,
      );
    const ms = parseDuration('--dirty-cost', m[2]);
    if (ms < 0)
      throw new OptionError('--dirty-cost', `--dirty-cost ${m[1]} must not be negative (got ${JSON.stringify(m[2])})`);
    overrides[key] = ms * 1000;
  }
  return { preset: head, overrides };
}

/** The spec's parameters for `strategy`; a parameter the strategy does not charge is refused. */
export function costParams(spec: DirtyCostSpec, strategy: DirtyLogName): DirtyCostParams {
  if (spec.preset === 'none') return { ...NO_DIRTY_COST };
  for (const key of Object.keys(spec.overrides) as DirtyCostKey[]) {
    if (!USED[strategy].includes(key)) {
      const name = Object.keys(COST_PARAM_NAMES).find((n) => COST_PARAM_NAMES[n] === key);
      const users = (Object.keys(USED) as DirtyLogName[]).filter((s) => USED[s].includes(key));
      throw new OptionError(
        '--dirty-cost',
        `--dirty-cost ${name} does not apply to --dirty-log ${strategy} (it applies to ${users.join(', ')})`,
      );
    }
  }
  return { ...STRATEGY_DEFAULTS[strategy], ...spec.overrides };
}

/** The spec as a user would type it again (results, suite labels). */
export function formatDirtyCost(spec: DirtyCostSpec): string {
  const parts = (Object.entries(spec.overrides) as [DirtyCostKey, number][]).map(([key, us]) => {
    const name = Object.keys(COST_PARAM_NAMES).find((n) => COST_PARAM_NAMES[n] === key);
    return `${name}=${us}us`;
  });
  return [spec.preset, ...parts].join(',');
}
