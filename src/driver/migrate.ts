/**
 * The migration driver: runs the six stages of a pre-copy live migration over a running guest,
 * asks the stop policy after every round, and returns the result. It never prints; it emits events.
 */
import type { RunConfig } from '../config/types.js';
import type { EventSink } from './events.js';
import type { GuestPerf, IterationRecord, MigrationResult, SetupRecord, StageName, StageRecord } from '../result/schema.js';
import { RESULT_SCHEMA_VERSION } from '../result/schema.js';
import { describeEnvironment } from '../result/environment.js';
import { RealClock, type Clock } from '../clock/clock.js';
import { VirtualClock } from '../clock/virtual.js';
import { loadKernelModule } from '../kernel/loader.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import { memoryPool } from '../memory/pool.js';
import { collectGarbage } from '../memory/gc.js';
import { admit, runLayouts } from '../memory/admission.js';
import { setUpMemories } from '../memory/setup.js';
import { RunningGuest, type PostcopyPlacement } from '../guest/guest.js';
import { SimulatedPostcopyGuest } from '../guest/simulated-postcopy-guest.js';
import { PostcopyPush, type PostcopyRecord } from './postcopy.js';
import { SimulatedGuest } from '../guest/simulated-guest.js';
import { InProcessChannel } from '../channel/in-process.js';
import { VirtualChannel } from '../channel/virtual.js';
import { TcpTransport } from '../channel/tcp.js';
import { ChannelError, localTarget, type GuestHost, type GuestReport, type Transport } from './parts.js';
import { InlineEncoding, ThreadedEncoding, type FrameEncoding } from './encoding.js';
import { diffChainStats, type ChainStats } from '../codec/chain-encoder.js';
import { summarizeCodecs, type CodecRoundStats } from '../codec/summary.js';
import { Sender, type SendTotals } from './sender.js';
import { FrameType } from '../wire/frame.js';
import { formatMs } from '../util/format.js';
import { createPolicy } from '../policy/registry.js';
import { createDirtyLog } from '../dirtylog/registry.js';
import { createAids } from '../converge/registry.js';
import type { AidControls } from '../converge/aid.js';
import type { PolicyDecision } from '../policy/policy.js';
import { deviceStateBytes, deviceStateImage } from './device-state.js';
import type { GuestShape } from '../protocol.js';

export interface RunHooks {
  onEvent?: EventSink;
  signal?: AbortSignal;
}

/** Thrown inside the driver to end a run as `failed` with a reason. */
class RunFailure extends Error {}

/** Bytes of a reverse-ARP announce packet (an Ethernet frame of minimum size). */
const ANNOUNCE_PACKET_BYTES = 60;
/** How long the guest's pace is measured before a real-clock migration starts, ms. */
const BASELINE_WINDOW_MS = 200;

export async function runMigration(config: RunConfig, hooks: RunHooks = {}): Promise<MigrationResult> {
  // Before anything is allocated: a run that cannot fit is refused with what it needs.
  admit(config);
  const module = await loadKernelModule();
  const layouts = runLayouts(config);
  // The target's memory is this process's only when the channel is in process (no --target).
  const [source, target = null] = memoryPool.acquire(config.target === null ? [layouts.source, layouts.target] : [layouts.source], module);
  try {
    return await migrate(config, hooks, module, source, target);
  } finally {
    memoryPool.release(source, target ?? undefined);
    // The run's other memories (xbzrle caches, rings, queues) are garbage now: collected here, not
    // whenever a small heap next needs it (see src/memory/gc.ts).
    collectGarbage();
  }
}

async function migrate(
  config: RunConfig, hooks: RunHooks, module: WebAssembly.Module, source: GuestMemory, target: GuestMemory | null,
): Promise<MigrationResult> {
  const setupStartMs = performance.now();
  const emit: EventSink = hooks.onEvent ?? (() => {});
  const startedAt = new Date().toISOString();
  const environment = describeEnvironment();
  const layout = source.layout;
  const shape: GuestShape = { pageCount: layout.pageCount, pagesPerSlot: layout.pagesPerSlot, pageSizeBytes: layout.pageSizeBytes };

  // Set-up, before the clock starts: the source guest boots with its initial content and the
  // target host's memory is made ready (zero, faulted in), on every core (src/memory/setup.ts),
  // while a TCP transport connects and the receiver readies its own memory.
  const dirtyLog = createDirtyLog(config.dirtyLog, source, { vcpus: config.vcpus, ringSizeEntries: config.ringSizeEntries });
  const realClock = config.clock === 'real' ? new RealClock() : undefined;
  const virtualClock = config.clock === 'virtual' ? new VirtualClock() : undefined;
  const clock: Clock = realClock ?? (virtualClock as VirtualClock);
  // --target: a real TCP transport to a `migbench receive` (the resolver allows it on the real clock only).
  const virtualChannel = virtualClock
    ? new VirtualChannel(source, config.linkBitsPerSec, config.latencyMs, virtualClock, config.codecs.length > 0, !config.postcopy)
    : undefined;
  const channel: Transport = config.target && realClock
    ? new TcpTransport(source, { ...config, target: config.target, linkBitsPerSec: config.linkBitsPerSec, codecs: config.codecs.length > 0 }, realClock)
    : realClock
    ? new InProcessChannel(source, config.linkBitsPerSec, config.latencyMs, realClock, config.codecs.length > 0, config.codecs.length === 0)
    : (virtualChannel as VirtualChannel);
  const encoding: FrameEncoding | undefined = config.codecs.length === 0
    ? undefined
    : config.compressThreads > 0
      ? new ThreadedEncoding(source, module, config, layout.slots[0].frameBuffers)
      : new InlineEncoding(source, config);
  const prepared = channel.prepare();
  const memorySetup = await setUpMemories({
    module, source: { memory: source, seed: config.seed, content: config.content }, zero: target ? [target] : [],
  });
  await prepared;
  const guest: GuestHost = realClock
    ? new RunningGuest(config, source.slots, shape, dirtyLog.markMode)
    : new SimulatedGuest(config, source.slots, shape, dirtyLog.markMode, virtualClock as VirtualClock,
      virtualChannel?.sendPageRefs ? (slot, page) => virtualChannel.holdWrite(slot, page) : undefined);
  await guest.started();
  // The guest's pace before migrating: a short window on the real clock; on the virtual clock the
  // guest writes exactly its rate, so that is its pace.
  let beforePageWritesPerSec = config.dirtyPagesPerSec;
  if (realClock) {
    const w0 = guest.totalWrites();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, BASELINE_WINDOW_MS));
    beforePageWritesPerSec = ((guest.totalWrites() - w0) * 1000) / (performance.now() - t0);
  }
  realClock?.restart();
  const wallStartMs = performance.now();
  const setup: SetupRecord = {
    wallMs: wallStartMs - setupStartMs, memoryWallMs: memorySetup.wallMs, threads: memorySetup.threads,
    freshSlots: memorySetup.freshSlots, reusedSlots: memorySetup.reusedSlots,
  };

  const policy = createPolicy(config.policy);
  const stages: StageRecord[] = [];
  const iterations: IterationRecord[] = [];
  let lastDecision: PolicyDecision | undefined;
  let suspended = false;
  let failure: string | undefined;
  let downtimeMs = 0;
  let suspendAtMs = 0;

  const postcopy = config.postcopy ? new PostcopyPush(source, localTarget(target), config.vcpus) : undefined;
  const placement = (pc: PostcopyPush): PostcopyPlacement => ({ targetSlots: localTarget(target).slots, shadowSlots: source.slots, requestRings: pc.requestRings });
  let postcopyAfter: number | null = null;
  let targetGuest: GuestHost | undefined;
  let resumed = false;
  let postcopyRecord: PostcopyRecord | undefined;
  let postcopyWrites = 0;
  const cleanUp = async (): Promise<void> => {
    await encoding?.close();
    await channel.close();
    await guest.shutdown();
    await targetGuest?.shutdown();
  };
  const deadlineMs = config.timeoutMs ?? Infinity;
  const checkpoint = (): void => {
    if (hooks.signal?.aborted) throw new RunFailure('interrupted before the migration completed');
    if (clock.nowMs() > deadlineMs) {
      const state = lastDecision ? `; last check: ${lastDecision.why}` : '';
      throw new RunFailure(`did not converge within the timeout of ${formatMs(config.timeoutMs ?? 0)} (${iterations.length} rounds${state})`);
    }
  };
  const chargeCpu = config.chargeCpu && virtualClock
    ? async (ms: number): Promise<void> => virtualClock.advanceTo(virtualClock.nowMs() + ms)
    : undefined;
  const sender = new Sender(source, channel, dirtyLog, checkpoint, encoding, chargeCpu);
  let codecSnapshot: ChainStats = encoding?.stats() ?? {};
  const aids = createAids(config);
  const controls: AidControls = {
    throttle: 0,
    rateBitsPerSec: null,
    downtimeLimitMs: config.downtimeLimitMs,
    setThrottle(fraction: number) {
      this.throttle = Math.round(fraction * 1000) / 1000; // per-mille, as the control block holds it
      guest.setThrottle(this.throttle);
    },
    setRate(bitsPerSec: number | null) {
      this.rateBitsPerSec = bitsPerSec;
      channel.setRate(bitsPerSec);
    },
  };

  const stage = async (name: StageName, body: () => Promise<void>): Promise<void> => {
    const startMs = clock.nowMs();
    emit({ kind: 'stage-start', stage: name, atMs: startMs });
    await body();
    const durationMs = clock.nowMs() - startMs;
    stages.push({ name, startMs, durationMs });
    emit({ kind: 'stage-end', stage: name, atMs: startMs + durationMs, durationMs });
  };
  /** Waits until everything sent has reached the target, link latency included. */
  const delivered = async (): Promise<void> => {
    await clock.sleepUntil(await channel.drain());
  };
  /** One round: sends what the lists hold (`all` for round 0, else a fresh scan of each slot). */
  const round = async (index: number, phase: IterationRecord['phase'], all: boolean): Promise<IterationRecord> => {
    const startMs = clock.nowMs();
    const writesAtStart = guest.totalWrites();
    const meteredAtStart = channel.unchangedPages?.() ?? 0;
    const throttlePercent = controls.throttle * 100;
    const rateLimitBitsPerSec = controls.rateBitsPerSec;
    let dirtyPages = 0;
    const scanStart = performance.now();
    const counts = source.slots.map((_, i) => {
      const n = all ? sender.listAllPages(i) : dirtyLog.fetch(i);
      dirtyPages += n;
      return n;
    });
    // Measured CPU time on either clock: the cost of the strategy is what it is compared on.
    const scanMs = performance.now() - scanStart;
    const sent: SendTotals = { pages: 0, bytes: 0, unchanged: 0 };
    for (let i = 0; i < counts.length; i++) {
      const t = await sender.sendList(i, counts[i], index);
      sent.pages += t.pages;
      sent.bytes += t.bytes;
      sent.unchanged += t.unchanged;
    }
    await delivered();
    const durationMs = Math.max(clock.nowMs() - startMs, 1e-3);
    const pendingPages = phase === 'precopy' ? dirtyLog.pending() : 0;
    const bandwidthBytesPerSec = (sent.bytes * 1000) / durationMs;
    return {
      index, phase, startMs, dirtyPages, pagesSent: sent.pages, bytesSent: sent.bytes, durationMs, scanMs,
      dirtyPagesPerSec: (pendingPages * 1000) / durationMs,
      achievedLinkBitsPerSec: bandwidthBytesPerSec * 8,
      expectedDowntimeMs: bandwidthBytesPerSec > 0 ? (pendingPages * config.pageSizeBytes * 1000) / bandwidthBytesPerSec : 0,
      pagesResentUnchanged: sent.unchanged + (channel.unchangedPages?.() ?? 0) - meteredAtStart,
      throttlePercent,
      rateLimitBitsPerSec,
      downtimeLimitMs: controls.downtimeLimitMs,
      guestPageWritesPerSec: ((guest.totalWrites() - writesAtStart) * 1000) / durationMs,
      ...dirtyLog.takeRoundStats(),
      ...(encoding ? { codec: takeCodecRound() } : {}),
    };
  };
  /** The codecs' work since the last call. */
  const takeCodecRound = (): CodecRoundStats => {
    const now = encoding?.stats() ?? {};
    const round = summarizeCodecs(diffChainStats(now, codecSnapshot));
    codecSnapshot = now;
    return round;
  };

  try {
    await stage('connect', async () => {
      await channel.connect();
      await clock.sleepUntil(clock.nowMs() + 2 * config.latencyMs); // handshake round trip
    });
    await stage('config', async () => {
      // The target claims its (preallocated) memory for the guest and starts receiving.
      await channel.open(target, module, shape);
      await clock.sleepUntil(clock.nowMs() + config.latencyMs); // configuration reaches the target
    });
    await stage('precopy', async () => {
      dirtyLog.start();
      for (const aid of aids) aid.start?.(controls);
      let totalBytes = 0;
      if (postcopy && config.postcopyAfterRounds === 0) {
        postcopyAfter = 0;
        lastDecision = { action: 'switchover', why: 'pure post-copy: no pre-copy round' };
        return;
      }
      for (let index = 0; ; index++) {
        const it = await round(index, 'precopy', index === 0);
        totalBytes += it.bytesSent;
        const pendingPages = dirtyLog.pending();
        const facts = { round: index, durationMs: it.durationMs, bytesSent: it.bytesSent, pagesDirtied: pendingPages, pageSizeBytes: config.pageSizeBytes };
        for (const aid of aids) aid.afterRound(facts, controls);
        lastDecision = policy.decide({
          roundsDone: index + 1, pendingPages, pageSizeBytes: config.pageSizeBytes, ramBytes: config.ramBytes,
          bandwidthBytesPerSec: it.achievedLinkBitsPerSec / 8, totalBytesSent: totalBytes,
          downtimeLimitMs: controls.downtimeLimitMs, maxIterations: config.maxIterations,
        });
        iterations.push(it);
        emit({ kind: 'round', iteration: it, policyDecision: lastDecision.why });
        // --postcopy-after N wins at round N even where the policy would switch over (QEMU starts
        // post-copy once it is asked to); before N, a policy's switch-over completes as pre-copy.
        const postcopyDue = config.postcopyAfterRounds !== null && index + 1 >= config.postcopyAfterRounds;
        if (lastDecision.action === 'switchover' && !postcopyDue) break;
        if (postcopy && (lastDecision.action === 'fail' || postcopyDue)) {
          lastDecision = {
            action: 'switchover',
            why: lastDecision.action === 'fail' ? `post-copy, as the policy gave up: ${lastDecision.why}` : `post-copy after ${index + 1} pre-copy rounds`,
          };
          postcopyAfter = index + 1;
          break;
        }
        if (lastDecision.action === 'fail') throw new RunFailure(lastDecision.why);
        checkpoint();
      }
    });
    if (postcopy && postcopyAfter !== null) {
      // The guest that will run on the target: started now, parked until it resumes there.
      targetGuest = realClock
        ? new RunningGuest(config, placement(postcopy), shape)
        : new SimulatedPostcopyGuest(config, placement(postcopy), shape, virtualClock as VirtualClock);
      await targetGuest.started();
    }
    await stage('stop-and-copy', async () => {
      suspendAtMs = clock.nowMs();
      await guest.pause(() => dirtyLog.service()); // the barrier: no vCPU is mid-write past this point
      suspended = true;
      for (const aid of aids) aid.finalRound?.(controls);
      if (postcopy && targetGuest) {
        // Post-copy: only the device state goes now; what is dirty becomes the target's missing set.
        const pc = postcopy;
        const startMs = clock.nowMs();
        let missing = 0;
        source.slots.forEach((_, i) => {
          // After no pre-copy round at all every page is missing; else what is dirty now.
          const n = postcopyAfter === 0 ? sender.listAllPages(i) : dirtyLog.fetch(i);
          pc.setMissing(i, n);
          missing += n;
        });
        channel.trackArrivals();
        const state = deviceStateImage(config.seed, deviceStateBytes(config.vcpus));
        const bytes = await sender.sendBlob(FrameType.DeviceState, state, iterations.length);
        await delivered();
        const durationMs = clock.nowMs() - startMs;
        const it: IterationRecord = {
          index: iterations.length, phase: 'stop-and-copy', startMs, dirtyPages: missing, pagesSent: 0, bytesSent: bytes,
          durationMs, scanMs: 0, dirtyPagesPerSec: 0, achievedLinkBitsPerSec: (bytes * 8000) / Math.max(durationMs, 1e-3),
          expectedDowntimeMs: 0, pagesResentUnchanged: 0, throttlePercent: controls.throttle * 100,
          rateLimitBitsPerSec: controls.rateBitsPerSec, downtimeLimitMs: controls.downtimeLimitMs, guestPageWritesPerSec: 0,
        };
        iterations.push(it);
        emit({ kind: 'round', iteration: it, policyDecision: `guest suspended; ${missing} pages left for post-copy` });
        return;
      }
      const it = await round(iterations.length, 'stop-and-copy', false);
      const state = deviceStateImage(config.seed, deviceStateBytes(config.vcpus));
      it.bytesSent += await sender.sendBlob(FrameType.DeviceState, state, it.index);
      await delivered();
      it.durationMs = clock.nowMs() - it.startMs;
      iterations.push(it);
      emit({ kind: 'round', iteration: it, policyDecision: 'guest suspended' });
    });
    await stage('resume', async () => {
      await sender.sendBlob(FrameType.End, new Uint8Array(0), iterations.length);
      await delivered(); // the target has loaded the device state and runs the guest
      targetGuest?.resume();
      resumed = targetGuest !== undefined;
      downtimeMs = clock.nowMs() - suspendAtMs;
    });
    await stage('announce', async () => {
      await sender.sendBlob(FrameType.Announce, new Uint8Array(ANNOUNCE_PACKET_BYTES), iterations.length);
      await delivered();
    });
    if (postcopy && targetGuest) {
      const pc = postcopy;
      const tg = targetGuest;
      await stage('postcopy', async () => {
        const startMs = clock.nowMs();
        const writesAtStart = tg.totalWrites();
        await pc.pushAll(sender, iterations.length);
        await delivered();
        const durationMs = Math.max(clock.nowMs() - startMs, 1e-3);
        postcopyRecord = {
          afterRounds: postcopyAfter ?? 0, pagesMissingAtResume: pc.missingAtResume, requests: pc.requests(),
          pagesSentOnRequest: pc.pagesSentOnRequest, pagesPushed: pc.pagesPushed, blockedMsPerVcpu: [],
          lastPageArrivedMs: clock.nowMs(), guestPageWritesPerSec: ((tg.totalWrites() - writesAtStart) * 1000) / durationMs,
        };
      });
    }
  } catch (err: unknown) {
    if (!(err instanceof RunFailure || err instanceof ChannelError)) {
      await cleanUp();
      throw err;
    }
    failure = resumed
      ? `${err.message} during post-copy: the guest's state is split between source and target, and it cannot fall back to the source (as QEMU says)`
      : err.message;
    emit({ kind: 'failed', atMs: clock.nowMs(), reason: failure });
  }
  const totalTimeMs = clock.nowMs();
  const wallTimeMs = performance.now() - wallStartMs;
  const bytesSent = channel.bytesDelivered();
  // Over TCP the target's memory is on the other host: the transport compares memory digests.
  const remoteVerdict = failure === undefined && channel.verifyRemote
    ? await channel.verifyRemote(source).catch((e: unknown) => `verification failed: ${e instanceof Error ? e.message : String(e)}`)
    : undefined;
  // A post-copy guest is paused once every page is there (none blocks any more); after a failure
  // it is only stopped, as a vCPU waiting for a page that will not come cannot acknowledge.
  if (targetGuest && failure === undefined) await targetGuest.pause(() => {});
  await channel.close();
  const codecTotals = encoding ? summarizeCodecs(encoding.stats()) : undefined;
  await encoding?.close();

  // Verify with both guests still: the target must equal the source at suspension, with what the
  // guest wrote on the target during post-copy mirrored into the source.
  let verified = false;
  if (failure === undefined && remoteVerdict !== undefined) {
    verified = remoteVerdict === null;
    if (remoteVerdict !== null) failure = remoteVerdict;
  } else if (failure === undefined) {
    const page = source.firstDifferentPage(localTarget(target));
    verified = page < 0;
    if (!verified) failure = `verification failed: target page ${page} differs from the source at suspension`;
  }
  // A migration that did not complete leaves the guest running on the source, unthrottled; past
  // the post-copy switch it can not: the target has run, and the state is split.
  if (failure !== undefined && !resumed) {
    guest.setThrottle(0);
    if (suspended) guest.resume();
  }
  if (targetGuest) {
    const report = await targetGuest.shutdown();
    if (postcopyRecord && postcopy) postcopyRecord.blockedMsPerVcpu = postcopy.blockedMsPerVcpu();
    postcopyWrites = report.pageWrites;
  }
  const guestReport: GuestReport = await guest.shutdown();

  const sentBytes = iterations.reduce((n, it) => n + it.bytesSent, 0);
  const sentMs = iterations.reduce((n, it) => n + it.durationMs, 0);
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: 'migbench',
    startedAt,
    status: failure === undefined ? 'completed' : 'failed',
    ...(failure === undefined ? {} : { reason: failure }),
    sourceRunning: failure !== undefined && !resumed,
    verified,
    ...(lastDecision && failure === undefined ? { switchoverReason: lastDecision.why } : {}),
    config: config.token === null ? config : { ...config, token: '(hidden)' }, // a secret stays out of results
    environment,
    totals: {
      totalTimeMs,
      downtimeMs,
      bytesSent,
      pagesSent: iterations.reduce((n, it) => n + it.pagesSent, 0),
      iterations: iterations.length,
      achievedLinkBitsPerSec: sentMs > 0 ? (sentBytes * 8000) / sentMs : 0,
      achievedDirtyPagesPerSec: guestReport.achievedPageWritesPerSec,
      guestPageWrites: guestReport.pageWrites,
      wallTimeMs,
      ramMultiplesSent: bytesSent / config.ramBytes,
      setup,
      ...(codecTotals ? { codec: codecTotals } : {}),
      guestPerf: guestPerf(config, beforePageWritesPerSec, iterations, postcopyRecord?.guestPageWritesPerSec ?? null),
    },
    stages,
    iterations,
    ...(postcopyRecord ? { postcopy: { ...postcopyRecord, guestPageWrites: postcopyWrites } } : {}),
  };
}

/**
 * The guest's pace before, during (live pre-copy rounds) and after (post-copy, on the target) the
 * migration, as page writes per second and as guestperf's "ms per GiB": how long the guest takes to
 * update a GiB of its memory at that pace (each write updates one page).
 */
function guestPerf(config: RunConfig, before: number, iterations: readonly IterationRecord[], after: number | null): GuestPerf {
  const live = iterations.filter((i) => i.phase === 'precopy');
  const liveMs = live.reduce((n, i) => n + i.durationMs, 0);
  const during = liveMs > 0 ? live.reduce((n, i) => n + i.guestPageWritesPerSec * i.durationMs, 0) / liveMs : before;
  const msPerGiB = (rate: number | null): number | null => (rate && rate > 0 ? (1000 * 2 ** 30) / (rate * config.pageSizeBytes) : null);
  return {
    beforePageWritesPerSec: before,
    duringPageWritesPerSec: during,
    afterPageWritesPerSec: after,
    beforeMsPerGiB: msPerGiB(before),
    duringMsPerGiB: msPerGiB(during),
    afterMsPerGiB: msPerGiB(after),
    slowdownDuring: before > 0 ? during / before : null,
  };
}
