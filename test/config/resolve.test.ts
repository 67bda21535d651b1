/**
 * resolveRunConfig: absent options come from DEFAULT_RUN_CONFIG, the defaults shown in help resolve
 * to the same values, and options are checked against each other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OptionError } from '../../src/util/errors.js';
import { repeatConfig, resolveRunConfig } from '../../src/config/options.js';
import { DEFAULT_RUN_CONFIG } from '../../src/config/options.js';
import { RUN_OPTION_SPECS } from '../../src/config/options.js';

function failsWith(raw: Record<string, string>, option: string, pattern: RegExp): void {
  assert.throws(
    () => resolveRunConfig(raw),
    (e: unknown) => {
      assert.ok(e instanceof OptionError);
      assert.equal(e.option, option);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test('no options resolve to DEFAULT_RUN_CONFIG', () => {
  assert.deepEqual(resolveRunConfig({}), DEFAULT_RUN_CONFIG);
});

test('the defaults help shows, typed out, resolve to DEFAULT_RUN_CONFIG', () => {
  const typed: Record<string, string> = {};
  // Defaults said in words, and settings that only apply with a switch that is off by default.
  const untyped = [
    'contentHot',
    // procedural or materialized, by the clock
    'memory',
    'maxIterations',
    'postcopyAfter',
    'adaptiveMax',
    'downtimeRamp',
    'throttleThreshold',
    'throttleInitial',
    'throttleIncrement',
    'throttleMax',
    'target',
    'token',
    'tokenFile',
    // apply with --workload trace:FILE only
    'traceSpeed',
    'traceLoop',
    'fault',
    'policyOpt',
    'aid',
    'aidOpt',
    'codecOpt',
    'precopyLoop',
    'loopOpt',
    // applies with --clock virtual only
    'hostCopyRate',
    // the --seed's, said in words
    'writeSeed',
  ];
  for (const spec of RUN_OPTION_SPECS) {
    if (!untyped.includes(spec.key)) typed[spec.key] = spec.defaultText;
  }
  assert.deepEqual(resolveRunConfig(typed), DEFAULT_RUN_CONFIG);
});

test('output options are not run options and are ignored', () => {
  assert.deepEqual(resolveRunConfig({ json: true, quiet: true, exportJson: 'x.json' }), DEFAULT_RUN_CONFIG);
});

test('options parse into the config', () => {
  const c = resolveRunConfig({
    ram: '512MiB',
    pageSize: '2MiB',
    vcpus: '8',
    dirtyRate: '1GB/s',
    pattern: 'hotset:0.1:0.9',
    writeSize: '64',
    link: 'unlimited',
    latency: '2ms',
    policy: 'Xen',
    downtimeLimit: '50ms',
    maxIterations: '30',
    timeout: 'none',
    seed: '42',
    dirtyLog: 'ring',
    ringSize: '1024',
    content: 'mixed:10:60:30',
    clock: 'virtual',
    autoConverge: 'on',
    throttleMax: '80%',
    adaptiveRate: 'true',
    adaptiveMax: '500Mbit/s',
    downtimeRamp: '50ms:2s:10',
    postcopyAfter: '3',
    codec: 'zero,xbzrle,lz4',
    xbzrleCache: '10%',
    deflateLevel: '6',
    compressThreads: '2',
    chargeCpu: 'on',
    catchUp: '2ms',
    dirtyCost: 'kvm,ring-full-exit=10us,reset=0.5us',
  });
  assert.deepEqual(c, {
    ramBytes: 512 * 2 ** 20,
    pageSizeBytes: 2 * 2 ** 20,
    memory: 'procedural',
    vcpus: 8,
    pageWritesPerSec: 476,
    pattern: { kind: 'hotset', fraction: 0.1, probability: 0.9 },
    writeSizeBytes: 64,
    linkBitsPerSec: null,
    latencyMs: 2,
    maxBandwidthBitsPerSec: null,
    policy: 'xen',
    downtimeLimitMs: 50,
    maxIterations: 30,
    timeoutMs: null,
    seed: 42,
    writeSeed: 42,
    catchUpMs: 2,
    dirtyLog: 'ring',
    ringSizeEntries: 1024,
    dirtyCost: { preset: 'kvm', overrides: { ringFullExitUs: 10, resetUs: 0.5 } },
    clock: 'virtual',
    // A hot set of 0.1 x 256 pages: the zero pages lie outside it.
    content: { zeroPercent: 10, textPercent: 60, randomPercent: 30, placement: { pageCount: 256, hotPages: 26 } },
    autoConverge: { thresholdPercent: 50, initialPercent: 20, incrementPercent: 10, maxPercent: 80 },
    sdps: false,
    adaptiveRate: true,
    adaptiveMaxBitsPerSec: 500e6,
    downtimeRamp: { startMs: 50, endMs: 2000, steps: 10 },
    postcopy: true,
    postcopyAfterRounds: 3,
    postcopyAtMs: null,
    maxPostcopyBandwidthBitsPerSec: null,
    hostCopyBitsPerSec: 16e9,
    sendBufferBytes: 0,
    multifdChannels: null,
    codecs: ['zero', 'xbzrle', 'lz4'],
    xbzrleCacheBytes: (512 * 2 ** 20) / 10 - (((512 * 2 ** 20) / 10) % (2 * 2 ** 20)),
    deflateLevel: 6,
    compressThreads: 2,
    chargeCpu: true,
    target: null,
    token: null,
    fault: null,
    trace: null,
    userPolicy: null,
    userAid: null,
    userLoop: null,
    userCodecs: [],
  });
});

test('--target and its options parse into the config', () => {
  const c = resolveRunConfig({ target: 'tcp://127.0.0.1:7000', token: 's3cret', multifd: '4', fault: 'stall@2:1500' });
  assert.deepEqual(
    [c.target, c.token, c.multifdChannels, c.fault],
    [{ host: '127.0.0.1', port: 7000 }, 's3cret', 4, { kind: 'stall', round: 2, ms: 1500 }],
  );
  assert.deepEqual(resolveRunConfig({ target: 'tcp://[::1]:9', fault: 'kill-receiver@1' }).target, {
    host: '::1',
    port: 9,
  });
});

test('--target errors name the option and the accepted form', () => {
  failsWith(
    { target: '127.0.0.1:7000' },
    '--target',
    /--target must be tcp:\/\/HOST:PORT such as tcp:\/\/127.0.0.1:7000 \(got "127.0.0.1:7000"\)/,
  );
  failsWith({ target: 'tcp://host:0' }, '--target', /--target must name a port from 1 to 65535/);
  failsWith({ target: 'tcp://h:1', clock: 'virtual' }, '--target', /--target needs --clock real/);
  failsWith(
    { target: 'tcp://h:1', postcopy: 'on', memory: 'procedural' },
    '--memory',
    /--target with post-copy needs --memory materialized/,
  );
  failsWith({ target: 'tcp://h:1', multifd: '17' }, '--multifd', /--multifd must be a whole number from 1 to 16/);
  failsWith(
    { target: 'tcp://h:1', fault: 'explode@1' },
    '--fault',
    /--fault must be drop@ROUND, stall@ROUND:MS, corrupt@ROUND or kill-receiver@ROUND/,
  );
  failsWith({ target: 'tcp://h:1', fault: 'stall@1' }, '--fault', /--fault must be/);
  failsWith(
    { target: 'tcp://h:1', fault: 'drop@1+' },
    '--fault',
    /ROUND maybe ROUND\+FRAMES, such as drop@2, drop@3\+100/,
  );
  failsWith(
    { multifd: '2' },
    '--multifd',
    /--multifd needs --clock virtual \(the channels modelled in simulated time\) or --target/,
  );
  // The round-based loops take it over TCP only (connections), not modelled.
  failsWith({ multifd: '2', policy: 'xen', clock: 'virtual' }, '--multifd', /--multifd /);
  assert.equal(resolveRunConfig({ multifd: '2', policy: 'xen', target: 'tcp://h:1' }).multifdChannels, 2);
  failsWith(
    { multifd: '2', target: 'tcp://h:1', postcopyAfter: '2' },
    '--multifd',
    /Postcopy is not yet compatible with multifd/,
  );
  failsWith({ token: 'x' }, '--token', /--token only applies with --target/);
});

test('the default dirty rate keeps its bytes per second with another page size', () => {
  // 100MB/s is 24414 pages of 4 KiB, or 47 pages of 2 MiB.
  assert.equal(resolveRunConfig({ pageSize: '2MiB' }).pageWritesPerSec, 47);
});

test('cross-checks name the option and the accepted form', () => {
  failsWith({ ram: '1GB' }, '--ram', /--ram must be a multiple of the page size .*"1GB" = 1000000000 bytes/);
  failsWith({ ram: '8KiB' }, '--ram', /--ram must be at least 16 pages/);
  failsWith({ ram: '32TiB' }, '--ram', /--ram must be at most 16TiB/);
  failsWith({ ram: '8TiB', pageSize: '1KiB' }, '--page-size', /power of two from 4KiB/);
  failsWith({ memory: 'virtual' }, '--memory', /--memory must be one of procedural, materialized/);
  failsWith({ ram: '1MiB', pageSize: '2MiB' }, '--ram', /multiple of the page size/);
  failsWith({ pageSize: '3000' }, '--page-size', /--page-size must be a power of two from 4KiB to 2MiB/);
  failsWith({ pageSize: '2KiB' }, '--page-size', /power of two from 4KiB to 2MiB/);
  failsWith(
    { dirtyLog: 'pml' },
    '--dirty-log',
    /--dirty-log must be one of bitmap, bitmap-chunked, two-level, ring \(got "pml"\)/,
  );
  failsWith(
    { content: 'mixed:50:50:50' },
    '--content',
    /--content must be zero, text, random or mixed:ZERO%:TEXT%:RANDOM% adding up to 100/,
  );
  failsWith({ throttleMax: '80%' }, '--throttle-max', /--throttle-max only applies with --auto-converge/);
  failsWith({ autoConverge: 'maybe' }, '--auto-converge', /--auto-converge is a switch/);
  failsWith(
    { autoConverge: 'on', throttleIncrement: '150%' },
    '--throttle-increment',
    /--throttle-increment must be a percentage from 1 to 99/,
  );
  failsWith({ downtimeRamp: '2s:50ms:10' }, '--downtime-ramp', /--downtime-ramp must be START:END:STEPS/);
  failsWith({ adaptiveMax: '1Gbit/s' }, '--adaptive-max', /only applies with --adaptive-rate/);
  failsWith({ chargeCpu: 'on' }, '--charge-cpu', /--charge-cpu only applies with --clock virtual/);
  failsWith({ xbzrleCache: '120%' }, '--xbzrle-cache', /--xbzrle-cache must be a size such as 64MiB or a share of RAM/);
  failsWith({ codec: 'zero,gzip' }, '--codec', /--codec must be raw, or a comma-separated list/);
  failsWith({ target: 'tcp://127.0.0.1:7000', latency: '2ms' }, '--latency', /--latency emulates the in-process link/);
  failsWith({ ringSize: '1000' }, '--ring-size', /--ring-size must be a power of two from 16 to 1048576 entries/);
  failsWith({ pageSize: '4MiB' }, '--page-size', /power of two from 4KiB to 2MiB/);
  failsWith({ writeSize: '8KiB' }, '--write-size', /--write-size must be from 1 byte to the page size/);
  failsWith({ writeSize: '0' }, '--write-size', /--write-size must be a positive size/);
  failsWith({ downtimeLimit: '0ms' }, '--downtime-limit', /--downtime-limit must be a positive duration/);
  failsWith({ timeout: '0s' }, '--timeout', /--timeout must be a positive duration such as 120s or 5m, or none/);
  failsWith({ latency: '11s' }, '--latency', /--latency must be a duration from 0 to 10s/);
  failsWith(
    { policy: 'vmware' },
    '--policy',
    /--policy must be one of qemu, qemu-rounds, hyperv, xen \(got "vmware"\)/,
  );
  failsWith({ sdps: 'on' }, '--sdps', /--sdps works with the round-based policies: --policy qemu-rounds/);
  // QEMU's loop takes post-copy (by sync count, time or a time limit); the round-based ones take no --postcopy-at.
  assert.equal(resolveRunConfig({ policy: 'qemu', postcopy: 'on' }).postcopy, true);
  assert.equal(resolveRunConfig({ postcopyAt: '5s' }).postcopyAtMs, 5000);
  assert.equal(resolveRunConfig({ postcopyAt: '5s' }).postcopy, true, '--postcopy-at implies --postcopy');
  assert.equal(resolveRunConfig({ maxPostcopyBandwidth: '64MB/s' }).maxPostcopyBandwidthBitsPerSec, 512e6);
  failsWith(
    { policy: 'qemu-rounds', postcopyAt: '5s' },
    '--postcopy-at',
    /--postcopy-at is QEMU's own loop's: --policy qemu/,
  );
  assert.equal(resolveRunConfig({ clock: 'virtual', hostCopyRate: '3GB/s' }).hostCopyBitsPerSec, 24e9);
  // A walk over a working set: its zero pages lie outside it, as a hot set's do.
  const walk = resolveRunConfig({ pattern: 'sequential:0.5', content: 'mixed:50:0:50' });
  assert.deepEqual(walk.pattern, { kind: 'sequential', fraction: 0.5 });
  assert.equal(walk.content.placement?.hotPages, 131072);
  failsWith({ pattern: 'sequential:0' }, '--pattern', /sequential:FRACTION/);
  failsWith({ pattern: 'sequential:1.5' }, '--pattern', /sequential:FRACTION/);
  failsWith(
    { hostCopyRate: '3GB/s' },
    '--host-copy-rate',
    /only applies with --clock virtual \(on the real clock the copy is real\)/,
  );
  failsWith({ policy: 'xen', maxPostcopyBandwidth: '1Gbit/s' }, '--max-postcopy-bandwidth', /is QEMU's own loop's/);
  failsWith({ catchUp: 'soon' }, '--catch-up', /--catch-up must be/);
  failsWith({ maxIterations: '5' }, '--max-iterations', /--policy qemu is QEMU's own loop, which has no such setting/);
  assert.equal(resolveRunConfig({ policy: 'qemu-rounds', maxIterations: '5' }).maxIterations, 5);
  failsWith({ maxIterations: '0' }, '--max-iterations', /--max-iterations must be a whole number from 1 to 10000/);
});

test('repeats of a configuration write with their own seeds, derived from the seed; the memory seed stays', () => {
  const c = resolveRunConfig({ seed: '7' });
  assert.equal(repeatConfig(c, 0), c);
  const seeds = [1, 2, 3].map((r) => repeatConfig(c, r));
  for (const s of seeds) {
    assert.equal(s.seed, 7);
    assert.notEqual(s.writeSeed, 7);
  }
  assert.equal(new Set(seeds.map((s) => s.writeSeed)).size, 3);
  assert.equal(repeatConfig(c, 2).writeSeed, seeds[1].writeSeed);
  assert.notEqual(repeatConfig(resolveRunConfig({ seed: '8' }), 1).writeSeed, seeds[0].writeSeed);
  assert.throws(() => repeatConfig(c, -1), RangeError);
});

test('--content-hot gives the hot set its own content; without a hot set it is refused', () => {
  const c = resolveRunConfig({
    ram: '64MiB',
    pattern: 'hotset:0.25:0.9',
    content: 'mixed:60:20:20',
    contentHot: 'random',
  });
  assert.deepEqual(c.content, {
    zeroPercent: 60,
    textPercent: 20,
    randomPercent: 20,
    placement: { pageCount: 16384, hotPages: 4096, hot: { zeroPercent: 0, textPercent: 0, randomPercent: 100 } },
  });
  failsWith({ contentHot: 'random' }, '--content-hot', /--content-hot applies with --pattern hotset/);
  failsWith(
    { pattern: 'hotset:0.5:1', contentHot: 'warm' },
    '--content-hot',
    /--content-hot must be zero, text, random or mixed/,
  );
  assert.equal(resolveRunConfig({ pattern: 'sequential' }).content.placement, undefined);
});
