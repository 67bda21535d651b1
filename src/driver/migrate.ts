/**
 * The migration driver: runs the stages of a pre-copy live migration over a running guest, in
 * whatever world it was given (src/world/), as QEMU's SaveVMHandlers do (set up, iterate, complete),
 * and returns the result. It never prints; it emits events.
 */
import type { RunConfig } from '../config/types.js';
import { describeFault } from '../channel/fault.js';
import { checkPolicyLoop } from '../config/options.js';
import type { EventSink } from './events.js';
import type { MigrationResult, PostcopyResult, StageName, StageRecord } from '../result/schema.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { GuestHost } from '../guest/host.js';
import { shapeOf, type World } from '../world/world.js';
import type { ThrottleHow } from '../guest/throttle.js';
import type { AidControls, ConvergenceAid } from '../converge/aid.js';
import type { PolicyDecision } from '../policy/policy.js';
import { loadKernelModule } from '../kernel/loader.js';
import { memoryPool } from '../memory/pool.js';
import { collectGarbage } from '../memory/gc.js';
import { admit } from '../config/admission.js';
import { runLayouts } from '../memory/admission.js';
import { WORLDS, worldNameOf } from '../world/registry.js';
import { Link } from '../link/link.js';
import { PostcopyPush } from './postcopy.js';
import { Sender } from './sender.js';
import { Rounds } from './rounds.js';
import { prepare } from './setup.js';
import { buildResult } from './result.js';
import { FrameType } from '../wire/frame.js';
import { formatMs } from '../util/format.js';
import { RunFailure } from '../util/errors.js';
import { createPolicy } from '../policy/registry.js';
import { createAids } from '../converge/registry.js';
import { createPrecopyLoop } from '../precopy/registry.js';
import { POLICY_LOOPS } from '../precopy/registry.js';
import type { PrecopyContext } from '../precopy/loop.js';
import { summarizeCodecs } from '../codec/summary.js';
import { deviceStateBytes, deviceStateImage } from '../guest/device-state.js';
import type { TimelineParticipant } from '../clock/timeline.js';
import { LimitWatch, type MigrationLimits } from './limits.js';
import { loadUserAid } from '../converge/user-aid.js';
import { loadUserLoop } from '../precopy/user-loop.js';
import { loadUserPolicy } from '../policy/user-policy.js';
import { preloadUserCodecs } from '../codec/user-codec.js';
import { AutoConverge } from '../converge/auto-converge.js';
import { DEFAULT_AUTO_CONVERGE } from '../config/options.js';

export interface RunHooks {
  onEvent?: EventSink;
  signal?: AbortSignal;
  /** The link to send over, shared with other migrations; by default one of the configured rate and latency, this run's own. */
  link?: Link;
  /** Under the virtual clock: run on this shared timeline beside other migrations (src/clock/timeline.ts). */
  timeline?: TimelineParticipant;
  /** Time limits with their actions (KubeVirt's completion and progress timeouts). */
  limits?: MigrationLimits;
  /** Awaited once set-up is done and the guest runs, before the migration's clock starts (an evacuation's turn). */
  ready?: () => Promise<void>;
  /** Called when the migration's clock starts (set-up done). */
  onStart?: () => void;
}


/** The lower of two rate limits, bits/s; null: none. */
function lowerRate(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

/** Bytes of a reverse-ARP announce packet (an Ethernet frame of minimum size). */
const ANNOUNCE_PACKET_BYTES = 60;

export async function runMigration(config: RunConfig, hooks: RunHooks = {}): Promise<MigrationResult> {
  // Before anything is allocated: a configuration its policy's loop cannot run is refused (the
  // resolver's check, for configurations built in code), and a run that cannot fit, with what it needs.
  checkPolicyLoop(config);
  admit(config);
  // The user's codec files, imported in this thread before a chain or decoder is built.
  await preloadUserCodecs(config.userCodecs);
  const module = await loadKernelModule();
  const layouts = runLayouts(config);
  const factory = WORLDS[worldNameOf(config)];
  const [source, target = null] = memoryPool.acquire(
    factory.localTarget ? [layouts.source, layouts.target] : [layouts.source],
    module,
  );
  try {
    const link = hooks.link ?? Link.create({ bitsPerSec: config.linkBitsPerSec, latencyMs: config.latencyMs });
    if (hooks.timeline && factory !== WORLDS.virtual)
      throw new Error('a shared timeline is for migrations under the virtual clock');
    const world = factory.create({ config, source, target, module, link, timeline: hooks.timeline });
    return await migrate(config, hooks, world, module, source, target);
  } finally {
    memoryPool.release(source, target ?? undefined);
    // The run's other memories (xbzrle caches, rings, queues) are garbage now: collected here, not
    // whenever a small heap next needs it (see src/memory/gc.ts).
    collectGarbage();
  }
}

async function migrate(
  config: RunConfig,
  hooks: RunHooks,
  world: World,
  module: WebAssembly.Module,
  source: GuestMemory,
  target: GuestMemory | null,
): Promise<MigrationResult> {
  const startedAt = new Date().toISOString();
  const emit: EventSink = hooks.onEvent ?? (() => {});
  const { clock, transport, encoding } = world;
  const { dirtyLog, guest, beforePageWritesPerSec, setup, wallStartMs } = await prepare(
    config,
    world,
    module,
    source,
    target,
    hooks.ready,
  );
  hooks.onStart?.();

  const stages: StageRecord[] = [];
  const policy = config.userPolicy ? await loadUserPolicy(config.userPolicy) : createPolicy(config.policy);
  const aids = createAids(config);
  if (config.userAid) aids.push(await loadUserAid(config.userAid));
  // The send rate: the aids' (adaptive rate) under the loop's limit (--max-bandwidth), lifted at suspension.
  let maxBandwidth: number | null = null;
  const applyRate = (): void => transport.setRate(lowerRate(maxBandwidth, controls.rateBitsPerSec));
  const controls: AidControls = {
    throttle: 0,
    rateBitsPerSec: null,
    downtimeLimitMs: config.downtimeLimitMs,
    setThrottle(fraction: number, how?: ThrottleHow) {
      this.throttle = Math.round(fraction * 1000) / 1000; // per-mille, as the control block holds it
      guest.setThrottle(this.throttle, how);
    },
    setRate(bitsPerSec: number | null) {
      this.rateBitsPerSec = bitsPerSec;
      applyRate();
    },
  };
  let lastDecision: PolicyDecision | undefined;
  let failure: string | undefined;
  let suspended = false;
  let resumed = false;
  let downtimeMs = 0;
  let postcopyAfter: number | null = null;
  let targetGuest: GuestHost | undefined;
  let postcopyRecord: Omit<PostcopyResult, 'guestPageWrites'> | undefined;
  const deadlineMs = config.timeoutMs ?? Infinity;
  const watch = hooks.limits ? new LimitWatch(hooks.limits) : undefined;
  let postcopyRequested = false;
  const checkpoint = (): void => {
    if (hooks.signal?.aborted) throw new RunFailure('interrupted before the migration completed');
    if (clock.nowMs() > deadlineMs) {
      const state = lastDecision ? `; last check: ${lastDecision.why}` : '';
      throw new RunFailure(
        `did not converge within the timeout of ${formatMs(config.timeoutMs ?? 0)} (${rounds.records.length} rounds${state})`,
      );
    }
    const fired = watch?.check(clock.nowMs());
    if (!fired) return;
    emit({ kind: 'limit', event: fired });
    if (fired.action === 'cancel') throw new RunFailure(`cancelled at ${formatMs(fired.atMs)}: ${fired.why}`);
    if (fired.action === 'postcopy') postcopyRequested = true;
    if (fired.action === 'auto-converge' && !aids.some((a) => a instanceof AutoConverge)) {
      const aid: ConvergenceAid = new AutoConverge(DEFAULT_AUTO_CONVERGE);
      aids.push(aid);
      aid.start?.(controls);
    }
  };
  const sender = new Sender(source, transport, dirtyLog, clock, checkpoint, encoding, world.chargeCpu);
  const rounds = new Rounds({ source, dirtyLog, sender, transport, clock, guest, controls, encoding, emit });
  const postcopy = config.postcopy && target ? new PostcopyPush(source, target, config.vcpus) : undefined;
  const loop = config.userLoop ? await loadUserLoop(config.userLoop) : createPrecopyLoop(POLICY_LOOPS[config.policy]);
  const loopContext: PrecopyContext = {
    rounds,
    dirtyLog,
    aids,
    controls,
    checkpoint,
    source,
    sender,
    clock,
    settings: {
      pageSizeBytes: config.pageSizeBytes,
      ramBytes: config.ramBytes,
      maxIterations: config.maxIterations,
      postcopy: postcopy !== undefined,
      postcopyAfterRounds: config.postcopyAfterRounds,
      maxBandwidthBitsPerSec: config.maxBandwidthBitsPerSec,
    },
    decide: (state) => (lastDecision = policy.decide(state)),
    note: (decision) => {
      lastDecision = decision;
    },
    remaining: (bytes) => watch?.remaining(bytes, clock.nowMs()),
    postcopyRequested: () => postcopyRequested,
    limitRate: (bitsPerSec) => {
      maxBandwidth = bitsPerSec;
      applyRate();
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

  try {
    await stage('connect', async () => {
      await transport.connect();
      await clock.sleepUntil(clock.nowMs() + 2 * config.latencyMs); // handshake round trip
    });
    await stage('config', async () => {
      await transport.open(shapeOf(source)); // the target claims its (preallocated) memory and starts receiving
      await encoding?.open();
      await clock.sleepUntil(clock.nowMs() + config.latencyMs); // configuration reaches the target
    });
    await stage('precopy', async () => {
      dirtyLog.start();
      await dirtyLog.costs.meter.pay(clock, true); // enabling dirty logging
      for (const aid of aids) aid.start?.(controls);
      if (postcopy && config.postcopyAfterRounds === 0) {
        postcopyAfter = 0;
        lastDecision = { action: 'switchover', why: 'pure post-copy: no pre-copy round' };
        return;
      }
      const outcome = await loop.run(loopContext);
      lastDecision = outcome.decision;
      postcopyAfter = outcome.postcopyAfter;
    });
    // The guest that will run on the target after a post-copy switch-over: started now, parked until it resumes there.
    if (postcopy && postcopyAfter !== null) {
      targetGuest = world.targetGuest(postcopy.placement());
      await targetGuest.started();
    }
    let suspendAtMs = 0;
    watch?.stop(); // no limit applies past the switch-over (nor, as in KubeVirt, in post-copy)
    await stage('stop-and-copy', async () => {
      suspendAtMs = clock.nowMs();
      await guest.pause(() => dirtyLog.service(clock.nowMs())); // the barrier: no vCPU is mid-write past this point
      suspended = true;
      maxBandwidth = null; // QEMU lifts max-bandwidth at switchover
      applyRate();
      for (const aid of aids) aid.finalRound?.(controls);
      const state = deviceStateImage(config.seed, deviceStateBytes(config.vcpus));
      if (postcopy && targetGuest) {
        // Post-copy: only the device state goes now; what is dirty becomes the target's missing set.
        const startMs = clock.nowMs();
        const missing = postcopy.markMissing(sender, dirtyLog, postcopyAfter === 0);
        await dirtyLog.costs.meter.pay(clock, true);
        transport.trackArrivals();
        const bytes = await sender.sendBlob(FrameType.DeviceState, state, rounds.records.length);
        await rounds.delivered();
        rounds.add(
          rounds.pagelessRound(startMs, missing, bytes),
          `guest suspended; ${missing} pages left for post-copy`,
        );
        return;
      }
      const it = await loop.final(loopContext);
      it.bytesSent += await sender.sendBlob(FrameType.DeviceState, state, it.index);
      await rounds.delivered();
      it.durationMs = clock.nowMs() - it.startMs;
      rounds.add(it, 'guest suspended');
    });
    await stage('resume', async () => {
      await sender.sendBlob(FrameType.End, new Uint8Array(0), rounds.records.length);
      await rounds.delivered(); // the target has loaded the device state and runs the guest
      targetGuest?.resume();
      resumed = targetGuest !== undefined;
      downtimeMs = clock.nowMs() - suspendAtMs;
    });
    await stage('announce', async () => {
      await sender.sendBlob(FrameType.Announce, new Uint8Array(ANNOUNCE_PACKET_BYTES), rounds.records.length);
      await rounds.delivered();
    });
    if (postcopy && targetGuest) {
      const [pc, tg] = [postcopy, targetGuest];
      await stage('postcopy', async () => {
        const startMs = clock.nowMs();
        const writesAtStart = tg.totalWrites();
        await pc.pushAll(sender, rounds.records.length);
        await rounds.delivered();
        const durationMs = Math.max(clock.nowMs() - startMs, 1e-3);
        postcopyRecord = {
          afterRounds: postcopyAfter ?? 0,
          pagesMissingAtResume: pc.missingAtResume,
          requests: pc.requests(),
          pagesSentOnRequest: pc.pagesSentOnRequest,
          pagesPushed: pc.pagesPushed,
          blockedMsPerVcpu: [],
          lastPageArrivedMs: clock.nowMs(),
          guestPageWritesPerSec: ((tg.totalWrites() - writesAtStart) * 1000) / durationMs,
        };
      });
    }
  } catch (err: unknown) {
    if (!(err instanceof RunFailure)) {
      await encoding?.close();
      await transport.close();
      await guest.shutdown();
      await targetGuest?.shutdown();
      throw err;
    }
    failure = resumed
      ? `${err.message} during post-copy: the guest's state is split between source and target, and it cannot fall back to the source (as QEMU says)`
      : err.message;
    emit({ kind: 'failed', atMs: clock.nowMs(), reason: failure });
  }

  // Complete: the verdict on the target's memory, then every part shut down.
  const totalTimeMs = clock.nowMs();
  const wallTimeMs = performance.now() - wallStartMs;
  const bytesSent = transport.bytesDelivered();
  // A post-copy guest is paused once every page is there (none blocks any more); after a failure
  // it is only stopped, as a vCPU waiting for a page that will not come cannot acknowledge.
  if (targetGuest && failure === undefined) await targetGuest.pause(() => {});
  // Verified with both guests still: the target must equal the source at suspension, with what the
  // guest wrote on the target during post-copy mirrored into the source.
  let verified = false;
  if (failure === undefined) {
    const verdict = await transport
      .verify()
      .catch((e: unknown) => `verification failed: ${e instanceof Error ? e.message : String(e)}`);
    verified = verdict === null;
    if (verdict !== null) failure = verdict;
  }
  await transport.close();
  // A --fault whose round never came: the run says so rather than pass for one that survived it.
  const warnings: string[] = [];
  if (config.fault !== null && transport.faultFired?.() === false) {
    warnings.push(
      `--fault ${describeFault(config.fault)} never fired: the run ended in round ${Math.max(0, rounds.records.length - 1)}, before round ${config.fault.round}`,
    );
  }
  const codec = encoding ? summarizeCodecs(encoding.stats()) : undefined;
  await encoding?.close();
  // A migration that did not complete leaves the guest running on the source, unthrottled; past
  // the post-copy switch it can not: the target has run, and the state is split.
  if (failure !== undefined && !resumed) {
    guest.setThrottle(0);
    if (suspended) guest.resume();
  }
  const targetReport = await targetGuest?.shutdown();
  if (postcopyRecord && postcopy) postcopyRecord.blockedMsPerVcpu = postcopy.blockedMsPerVcpu();
  const result = buildResult({
    config,
    startedAt,
    failure,
    resumed,
    verified,
    switchoverReason: lastDecision?.why,
    totalTimeMs,
    downtimeMs,
    bytesSent,
    wallTimeMs,
    setup,
    codec,
    beforePageWritesPerSec,
    guest: await guest.shutdown(),
    stages,
    iterations: rounds.records,
    postcopy: postcopyRecord ? { ...postcopyRecord, guestPageWrites: targetReport?.pageWrites ?? 0 } : undefined,
    qemu: loop.qemuStats?.(
      deviceStateBytes(config.vcpus),
      Math.max(0, ...rounds.records.map((it) => it.throttlePercent)),
    ),
    warnings,
  });
  if (watch && watch.events.length > 0) result.limits = watch.events;
  // A policy or aid of the user's: the result names it (the name it gave itself).
  if (config.userPolicy && result.config.userPolicy) {
    result.config.policy = policy.name;
    result.config.userPolicy.name = policy.name;
  }
  if (config.userAid && result.config.userAid) result.config.userAid.name = aids[aids.length - 1].name;
  if (config.userLoop && result.config.userLoop) {
    result.config.precopyLoop = 'user';
    result.config.userLoop.name = loop.name;
  }
  return result;
}
