/**
 * The options of `migbench run`, as help shows them. Values are not defaulted here: an absent
 * option is resolved from DEFAULT_RUN_CONFIG by resolveRunConfig, and `defaultText` is what that
 * default looks like when typed (test/cli-defaults.test.ts checks that they agree).
 */
import type { RunOptionKey } from '../config/resolve.js';

export interface RunOptionSpec {
  key: RunOptionKey;
  /** Commander flags, value placeholder included. */
  flags: string;
  description: string;
  defaultText: string;
  example: string;
}

export const RUN_OPTION_SPECS: readonly RunOptionSpec[] = [
  {
    key: 'ram', flags: '--ram <size>',
    description: 'guest RAM; binary KiB/MiB/GiB/TiB (K/M/G/T are binary too), decimal KB/MB/GB, or bytes; a multiple of the page size, 16 pages to 64GiB',
    defaultText: '1GiB', example: '512MiB',
  },
  {
    key: 'pageSize', flags: '--page-size <size>',
    description: 'guest page size, a power of two from 4KiB to 2MiB',
    defaultText: '4KiB', example: '2MiB',
  },
  {
    key: 'vcpus', flags: '--vcpus <n>',
    description: 'emulated vCPUs (one writer worker each), 1 to 64',
    defaultText: '2', example: '8',
  },
  {
    key: 'dirtyRate', flags: '--dirty-rate <rate>',
    description: 'page writes per second over all vCPUs: decimal bytes/s divided by the page size (kB/s, MB/s, GB/s), or N pages/s, or 0 for an idle guest',
    defaultText: '100MB/s', example: '200MB/s, 50000pages/s',
  },
  {
    key: 'pattern', flags: '--pattern <pattern>',
    description: 'where writes land: uniform, sequential, or hotset:FRACTION:PROBABILITY (that fraction of pages takes that probability of writes)',
    defaultText: 'uniform', example: 'hotset:0.1:0.9',
  },
  {
    key: 'writeSize', flags: '--write-size <size>',
    description: 'bytes changed by one write, 1 byte to the page size',
    defaultText: '8', example: '64',
  },
  {
    key: 'content', flags: '--content <kind>',
    description: 'initial page content: zero, text (compressible), random (incompressible), or mixed:ZERO%:TEXT%:RANDOM%; a write keeps its page\'s kind',
    defaultText: 'mixed:25:40:35', example: 'text',
  },
  {
    key: 'codec', flags: '--codec <list>',
    description: 'page codecs tried in order, each page going to the first that takes it: zero (a zero page is its header alone), xbzrle (delta against the copy sent before), lz4, deflate; or raw',
    defaultText: 'raw', example: 'zero,xbzrle,lz4',
  },
  {
    key: 'xbzrleCache', flags: '--xbzrle-cache <size>',
    description: "xbzrle's page cache on the sender: a size, or a share of RAM",
    defaultText: '64MiB', example: '10%',
  },
  {
    key: 'deflateLevel', flags: '--deflate-level <n>',
    description: "deflate's level, 0 to 9",
    defaultText: '1', example: '6',
  },
  {
    key: 'compressThreads', flags: '--compress-threads <n>',
    description: 'worker threads encoding pages in parallel (as QEMU\'s multifd channels), 0 to 16; 0 encodes on the driver thread',
    defaultText: '0', example: '2',
  },
  {
    key: 'chargeCpu', flags: '--charge-cpu',
    description: 'with --clock virtual: charge the measured encoding CPU time to simulated time, so a codec slower than the link shows',
    defaultText: 'off', example: '--clock virtual --codec deflate --charge-cpu',
  },
  {
    key: 'link', flags: '--link <rate>',
    description: 'migration link rate, decimal: bit/s, kbit/s, Mbit/s, Gbit/s, Gbps, or bytes as GB/s, MB/s; or unlimited',
    defaultText: '10Gbit/s', example: '25Gbps, 1.25GB/s',
  },
  {
    key: 'latency', flags: '--latency <duration>',
    description: 'one-way link latency (us, ms, s; fractions allowed)',
    defaultText: '0.1ms', example: '2ms',
  },
  {
    key: 'policy', flags: '--policy <name>',
    description: 'stop policy: qemu (switch over when pending bytes fit the downtime limit), hyperv (small dirty set, or after 10 passes), xen (< 50 dirty pages, 29 rounds, or 3 x RAM sent)',
    defaultText: 'qemu', example: 'xen',
  },
  {
    key: 'downtimeLimit', flags: '--downtime-limit <duration>',
    description: 'downtime the qemu policy aims for',
    defaultText: '300ms', example: '50ms',
  },
  {
    key: 'maxIterations', flags: '--max-iterations <n>',
    description: 'cap on pre-copy rounds, 1 to 10000 (qemu fails past it; hyperv and xen switch over)',
    defaultText: "the policy's own", example: '30',
  },
  {
    key: 'timeout', flags: '--timeout <duration>',
    description: 'bound on the whole migration on its clock (ms, s, m, h), or none; 10m of simulated time with --clock virtual',
    defaultText: '120s', example: '5m',
  },
  {
    key: 'dirtyLog', flags: '--dirty-log <name>',
    description: "dirty tracking: bitmap (KVM GET_DIRTY_LOG: fetch and clear all each round), bitmap-chunked (KVM CLEAR_DIRTY_LOG: clear each 64-page chunk just before sending it), two-level (a summary bit per bitmap word lets scans skip clean regions), ring (KVM dirty ring: per-vCPU rings of page numbers, a full ring stalls its vCPU)",
    defaultText: 'bitmap', example: 'ring',
  },
  {
    key: 'ringSize', flags: '--ring-size <entries>',
    description: 'entries of each vCPU\'s dirty ring with --dirty-log ring, a power of two',
    defaultText: '4096', example: '1024',
  },
  {
    key: 'clock', flags: '--clock <kind>',
    description: 'real (vCPU and channel threads in real time) or virtual (simulated time the driver advances: same kernels and bytes, deterministic for a seed, much faster than real time)',
    defaultText: 'real', example: 'virtual',
  },
  {
    key: 'autoConverge', flags: '--auto-converge',
    description: "QEMU's auto-converge: when bytes dirtied in a round exceed --throttle-threshold of bytes sent, twice, throttle the vCPUs by --throttle-initial, then --throttle-increment more each time, up to --throttle-max",
    defaultText: 'off', example: '--auto-converge --throttle-increment 20%',
  },
  {
    key: 'throttleThreshold', flags: '--throttle-threshold <percent>',
    description: 'auto-converge: share of bytes sent that bytes dirtied must exceed',
    defaultText: '50%', example: '30%',
  },
  {
    key: 'throttleInitial', flags: '--throttle-initial <percent>',
    description: 'auto-converge: first throttle',
    defaultText: '20%', example: '30%',
  },
  {
    key: 'throttleIncrement', flags: '--throttle-increment <percent>',
    description: 'auto-converge: throttle added each further time',
    defaultText: '10%', example: '5%',
  },
  {
    key: 'throttleMax', flags: '--throttle-max <percent>',
    description: 'auto-converge: highest throttle',
    defaultText: '99%', example: '80%',
  },
  {
    key: 'sdps', flags: '--sdps',
    description: "vMotion's stun during page send: when the guest dirties faster than the link sends, stun its vCPUs in proportion",
    defaultText: 'off', example: '--sdps',
  },
  {
    key: 'adaptiveRate', flags: '--adaptive-rate',
    description: "Xen's adaptive send rate: 100 Mbit/s first, then the last round's dirty rate + 50 Mbit/s, capped at the link (and --adaptive-max); the last round at full rate",
    defaultText: 'off', example: '--adaptive-rate --adaptive-max 500Mbit/s',
  },
  {
    key: 'adaptiveMax', flags: '--adaptive-max <rate>',
    description: 'cap of the adaptive send rate',
    defaultText: 'the link rate', example: '500Mbit/s',
  },
  {
    key: 'downtimeRamp', flags: '--downtime-ramp <start:end:steps>',
    description: 'a downtime limit rising from START to END over STEPS rounds (as KubeVirt proposes), instead of --downtime-limit',
    defaultText: 'none', example: '50ms:2s:10',
  },
  {
    key: 'postcopy', flags: '--postcopy',
    description: 'switch to post-copy when the policy gives up: suspend, send the device state, resume on the target at once and push the remaining pages in the background, pages a vCPU touches first',
    defaultText: 'off', example: '--postcopy --max-iterations 5',
  },
  {
    key: 'postcopyAfter', flags: '--postcopy-after <rounds>',
    description: 'switch to post-copy after this many pre-copy rounds (implies --postcopy); 0 is pure post-copy: every page moves after the switch',
    defaultText: 'none', example: '3',
  },
  {
    key: 'seed', flags: '--seed <n>',
    description: 'seed of the initial memory content and the write streams, 0 to 4294967295',
    defaultText: '1', example: '42',
  },
  {
    key: 'target', flags: '--target <url>',
    description: 'migrate over real TCP sockets to a `migbench receive` at tcp://HOST:PORT (real clock only); verified means both hosts\' memory digests agree',
    defaultText: 'none (in-process channel)', example: 'tcp://127.0.0.1:7000',
  },
  {
    key: 'token', flags: '--token <secret>',
    description: 'with --target: the shared secret the receiver checks (required by a receiver bound beyond loopback)',
    defaultText: 'none', example: 's3cret',
  },
  {
    key: 'streams', flags: '--streams <n>',
    description: 'with --target: parallel TCP connections frames are spread over (as QEMU multifd), 1 to 16',
    defaultText: '1', example: '4',
  },
  {
    key: 'fault', flags: '--fault <fault>',
    description: 'with --target: inject a fault on the source side: drop@ROUND (close the connections), stall@ROUND:MS (hold frames off the wire), corrupt@ROUND (flip a byte of a frame), kill-receiver@ROUND (a receiver started with --allow-kill exits; tests only)',
    defaultText: 'none', example: 'drop@2, stall@1:10000',
  },
];

export function runOptionHelp(spec: RunOptionSpec): string {
  return `${spec.description} (default: ${spec.defaultText}; e.g. ${spec.example})`;
}
