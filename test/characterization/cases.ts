/**
 * The fixed runs that characterize the migration core: what the driver, channels, guests and
 * strategies produce, recorded before the core was redesigned (issue 12) and compared after.
 * Options are given as on the command line, so the cases outlive any change to the internal config.
 *
 * Virtual-clock runs are deterministic for a seed: every simulated field must match the recording.
 * Real-clock and TCP runs are timed by the machine: only their outcome and structure are recorded.
 */
import type { RawRunOptions } from '../../src/config/options.js';

export interface CharacterizationCase {
  name: string;
  options: RawRunOptions;
  /**
   * Why this virtual-clock case is not exactly repeatable, where it is not: only its outcome and
   * structure are then compared, as for a real-clock run. (Before the redesign, runs with encoder
   * threads were: the threads raced the simulated guest. The write gate ended that.)
   */
  racy?: string;
}

/**
 * 32 MiB, 1 Gbit/s, 60k page writes/s on a hot set, 100 ms downtime limit: several rounds, well
 * under a second each. Recorded when `qemu` was the round-based rule, now `qemu-rounds`, and before
 * dirty tracking had a cost: `--dirty-cost none` keeps them as they were.
 */
const V: RawRunOptions = {
  clock: 'virtual',
  ram: '32MiB',
  link: '1Gbit/s',
  dirtyRate: '240MB/s',
  pattern: 'hotset:0.2:0.8',
  seed: '7',
  vcpus: '2',
  downtimeLimit: '100ms',
  timeout: '30s',
  policy: 'qemu-rounds',
  dirtyCost: 'none',
};

export const VIRTUAL_CASES: CharacterizationCase[] = [
  { name: 'qemu bitmap raw', options: { ...V } },
  { name: 'hyperv', options: { ...V, policy: 'hyperv' } },
  { name: 'xen', options: { ...V, policy: 'xen' } },
  { name: 'qemu max-iterations 3', options: { ...V, maxIterations: '3', downtimeLimit: '20ms' } },
  { name: 'bitmap-chunked', options: { ...V, dirtyLog: 'bitmap-chunked' } },
  { name: 'two-level', options: { ...V, dirtyLog: 'two-level' } },
  { name: 'ring 256 (stalls)', options: { ...V, dirtyLog: 'ring', ringSize: '256' } },
  { name: 'ring 4096', options: { ...V, dirtyLog: 'ring', ringSize: '4096', vcpus: '4' } },
  { name: 'codec zero', options: { ...V, codec: 'zero' } },
  { name: 'codec zero,lz4', options: { ...V, codec: 'zero,lz4' } },
  { name: 'codec xbzrle', options: { ...V, codec: 'xbzrle', xbzrleCache: '8MiB' } },
  { name: 'codec deflate', options: { ...V, codec: 'zero,deflate', deflateLevel: '3' } },
  { name: 'codec zero,lz4 2 threads', options: { ...V, codec: 'zero,lz4', compressThreads: '2' } },
  {
    name: 'codec zero,xbzrle,lz4 2 threads',
    options: { ...V, codec: 'zero,xbzrle,lz4', compressThreads: '2', xbzrleCache: '4MiB' },
  },
  { name: 'auto-converge', options: { ...V, dirtyRate: '400MB/s', autoConverge: true, downtimeLimit: '50ms' } },
  { name: 'adaptive-rate', options: { ...V, policy: 'xen', adaptiveRate: true, adaptiveMax: '800Mbit/s' } },
  { name: 'sdps', options: { ...V, dirtyRate: '400MB/s', sdps: true, downtimeLimit: '50ms' } },
  {
    name: 'downtime-ramp',
    options: { ...V, dirtyRate: '400MB/s', downtimeRamp: '10ms:200ms:4', downtimeLimit: '10ms' },
  },
  { name: 'postcopy after 1', options: { ...V, postcopy: true, postcopyAfter: '1' } },
  { name: 'postcopy pure', options: { ...V, postcopy: true, postcopyAfter: '0' } },
  {
    name: 'postcopy when the policy gives up',
    options: {
      ...V,
      dirtyRate: '800MB/s',
      pattern: 'uniform',
      postcopy: true,
      maxIterations: '4',
      downtimeLimit: '5ms',
    },
  },
  {
    name: 'timeout (does not converge)',
    options: { ...V, dirtyRate: '800MB/s', pattern: 'uniform', downtimeLimit: '5ms', timeout: '3s' },
  },
  { name: 'sequential, 4 vCPUs, 5 ms latency', options: { ...V, pattern: 'sequential', vcpus: '4', latency: '5ms' } },
  { name: 'content all random, write size 64', options: { ...V, content: 'random', writeSize: '64' } },
  { name: 'page size 8KiB', options: { ...V, pageSize: '8KiB' } },
  // QEMU's own loop (--policy qemu), recorded when it became the qemu policy.
  { name: 'qemu engine raw', options: { ...V, policy: 'qemu' } },
  {
    name: 'qemu engine max-bandwidth zero,xbzrle',
    options: {
      ...V,
      policy: 'qemu',
      dirtyRate: '40MB/s',
      maxBandwidth: '400Mbit/s',
      codec: 'zero,xbzrle',
      xbzrleCache: '4MiB',
    },
  },
  {
    name: 'qemu engine auto-converge catch-up',
    options: { ...V, policy: 'qemu', dirtyRate: '400MB/s', autoConverge: true, downtimeLimit: '50ms', catchUp: '2ms' },
  },
  // KVM's dirty-tracking costs (--dirty-cost kvm, the default), recorded when they came (issue 14).
  { name: 'kvm costs bitmap', options: { ...V, dirtyCost: 'kvm' } },
  { name: 'kvm costs bitmap-chunked', options: { ...V, dirtyCost: 'kvm', dirtyLog: 'bitmap-chunked' } },
  { name: 'kvm costs ring 256 (stalls)', options: { ...V, dirtyCost: 'kvm', dirtyLog: 'ring', ringSize: '256' } },
  {
    name: 'kvm costs qemu engine two-level',
    options: { ...V, dirtyCost: 'kvm', policy: 'qemu', dirtyLog: 'two-level' },
  },
];

/** Real-clock runs: outcome and structure only. */
export const REAL_CASES: CharacterizationCase[] = [
  {
    name: 'real in-process raw',
    options: {
      policy: 'qemu-rounds',
      dirtyCost: 'none',
      ram: '16MiB',
      link: '2Gbit/s',
      dirtyRate: '20MB/s',
      seed: '3',
    },
  },
  {
    name: 'real in-process zero,lz4',
    options: {
      policy: 'qemu-rounds',
      dirtyCost: 'none',
      ram: '16MiB',
      link: '2Gbit/s',
      dirtyRate: '20MB/s',
      codec: 'zero,lz4',
      seed: '3',
    },
  },
  {
    name: 'real in-process postcopy',
    options: {
      policy: 'qemu-rounds',
      dirtyCost: 'none',
      ram: '16MiB',
      link: '1Gbit/s',
      dirtyRate: '20MB/s',
      postcopy: true,
      postcopyAfter: '1',
      seed: '3',
    },
  },
  {
    name: 'real in-process qemu engine',
    options: { dirtyCost: 'none', ram: '16MiB', link: '2Gbit/s', dirtyRate: '20MB/s', seed: '3' },
  },
];

/** TCP runs, against a receiver on loopback (target and token filled in by the test). */
export const TCP_CASES: CharacterizationCase[] = [
  {
    name: 'tcp raw 2 streams',
    options: {
      policy: 'qemu-rounds',
      dirtyCost: 'none',
      ram: '16MiB',
      link: '2Gbit/s',
      dirtyRate: '20MB/s',
      multifd: '2',
      seed: '3',
    },
  },
  {
    name: 'tcp zero,lz4',
    options: {
      policy: 'qemu-rounds',
      dirtyCost: 'none',
      ram: '16MiB',
      link: '2Gbit/s',
      dirtyRate: '20MB/s',
      codec: 'zero,lz4',
      seed: '3',
    },
  },
  {
    name: 'tcp qemu engine',
    options: { dirtyCost: 'none', ram: '16MiB', link: '2Gbit/s', dirtyRate: '20MB/s', seed: '3' },
  },
];
