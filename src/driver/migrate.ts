/**
 * The migration driver: runs the stages of a live migration over a running guest, in whatever
 * world it was given (src/world/), as QEMU's migration thread does (set up, iterate, complete),
 * and returns the result. It never prints; it emits events.
 *
 *   set-up (src/driver/setup.ts)   memories, dirty log, the guest running, its pace
 *   connect, config                (src/driver/stages.ts)
 *   pre-copy                       the loop (src/precopy/) through its port (src/driver/precopy-port.ts)
 *   stop-and-copy, resume          an ending: stop-and-copy, or post-copy (src/driver/postcopy.ts)
 *   announce                       then post-copy's own stage, if it ended that way
 *   complete (src/driver/complete.ts)  verification, shut-down, the result
 */
import type { RunConfig } from '../config/types.js';
import { checkLoop } from '../config/options.js';
import { admit } from '../config/admission.js';
import { acquireMemories } from './memories.js';
import type { MigrationResult } from '../result/schema.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { World } from '../world/world.js';
import { loadKernelModule } from '../kernel/loader.js';
import { memoryPool } from '../memory/pool.js';
import { collectGarbage } from '../memory/gc.js';
import { WORLDS, worldNameOf } from '../world/registry.js';
import { Link } from '../link/link.js';
import { createPolicy } from '../policy/registry.js';
import { createAids } from '../converge/registry.js';
import { policyLoop } from '../precopy/registry.js';
import { loadUserStrategies, type UserStrategies } from '../config/strategies.js';
import { RunFailure } from '../util/errors.js';
import { prepare } from './setup.js';
import { Migration, type RunHooks, type Strategies } from './migration.js';
import { precopyPort } from './precopy-port.js';
import { announce, configure, connect, precopy, resume, stopAndCopy, StopAndCopy, type Ending } from './stages.js';
import { PostcopyEnding } from './postcopy.js';
import { complete, type StagesOutcome } from './complete.js';

export type { RunHooks } from './migration.js';

/**
 * Runs one migration of `config`. `loaded`: its user strategies, already loaded by a caller that
 * checked them (src/config/strategies.ts); else they are loaded here.
 */
export async function runMigration(
  config: RunConfig,
  hooks: RunHooks = {},
  loaded?: UserStrategies,
): Promise<MigrationResult> {
  // Before anything is allocated: a configuration its loop cannot run is refused (the resolver's
  // check, for configurations built in code), and a run that cannot fit, with what it needs.
  checkLoop(config);
  admit(config);
  const strategies = makeStrategies(config, loaded ?? (await loadUserStrategies(config)));
  const module = await loadKernelModule();
  const factory = WORLDS[worldNameOf(config)];
  const { source, target } = acquireMemories(config, module, factory.localTarget);
  try {
    const link = hooks.link ?? Link.create({ bitsPerSec: config.linkBitsPerSec, latencyMs: config.latencyMs });
    if (hooks.timeline && factory !== WORLDS.virtual)
      throw new Error('a shared timeline is for migrations under the virtual clock');
    const world = factory.create({ config, source, target, module, link, timeline: hooks.timeline });
    return await migrate(config, hooks, world, module, source, target, strategies);
  } finally {
    memoryPool.release(source, target ?? undefined);
    // The run's other memories (xbzrle caches, rings, queues) are garbage now: collected here, not
    // whenever a small heap next needs it (see src/memory/gc.ts).
    collectGarbage();
  }
}

/** The policy, the aids (built-in first, then the user's) and the loop of a configuration. */
function makeStrategies(config: RunConfig, user: UserStrategies): Strategies {
  const aids = createAids(config);
  if (user.aid) aids.push(user.aid);
  return {
    policy: user.policy ?? createPolicy(config.policy),
    aids,
    loop: user.loop ?? policyLoop(config.policy).create(),
    userAid: user.aid ?? undefined,
  };
}

async function migrate(
  config: RunConfig,
  hooks: RunHooks,
  world: World,
  module: WebAssembly.Module,
  source: GuestMemory,
  target: GuestMemory | null,
  strategies: Strategies,
): Promise<MigrationResult> {
  const prepared = await prepare(config, world, module, source, target, hooks.ready);
  hooks.onStart?.();
  const m = new Migration(config, hooks, world, source, target, prepared, strategies);
  const outcome: StagesOutcome = { resumed: false, downtimeMs: 0 };
  try {
    await runStages(m, outcome);
  } catch (err: unknown) {
    if (!(err instanceof RunFailure)) {
      await shutDownAfterError(m, outcome);
      throw err;
    }
    outcome.failure = outcome.resumed
      ? `${err.message} during post-copy, with ${outcome.postcopy?.pagesLeft().toLocaleString('en-US') ?? '?'} pages not yet sent: the guest's state is split between source and target, and it cannot fall back to the source (as QEMU says); the guest is lost`
      : err.message;
    m.emit({ kind: 'failed', atMs: m.clock.nowMs(), reason: outcome.failure });
  }
  return complete(m, outcome);
}

/** Every stage in order, each recording into `outcome` what the result needs of it. */
async function runStages(m: Migration, outcome: StagesOutcome): Promise<void> {
  const port = precopyPort(m);
  await m.stage('connect', () => connect(m));
  await m.stage('config', () => configure(m));
  const pre = await m.stage('precopy', () => precopy(m, port));
  const ending = endingOf(m, port, pre.postcopyAfter, outcome);
  await ending.prepare();
  m.watch?.stop(); // no limit applies past the switch-over (nor, as in KubeVirt, in post-copy)
  const suspendAtMs = await m.stage('stop-and-copy', () => stopAndCopy(m, ending));
  await m.stage('resume', async () => {
    outcome.resumed = await resume(m, ending);
    outcome.downtimeMs = m.clock.nowMs() - suspendAtMs;
  });
  await m.stage('announce', () => announce(m));
  await ending.finish();
}

/** Stop-and-copy, or post-copy after `postcopyAfter` pre-copy rounds. */
function endingOf(
  m: Migration,
  port: ReturnType<typeof precopyPort>,
  postcopyAfter: number | null,
  outcome: StagesOutcome,
): Ending {
  if (postcopyAfter === null) return new StopAndCopy(m, port);
  outcome.postcopy = new PostcopyEnding(m, m.target, postcopyAfter, port);
  return outcome.postcopy;
}

/** A bug, not a failure of the run: everything this run started is stopped before it is thrown on. */
async function shutDownAfterError(m: Migration, outcome: StagesOutcome): Promise<void> {
  const { transport, encoding } = m.world;
  await encoding?.close();
  await transport.close();
  await m.prepared.guest.shutdown();
  await outcome.postcopy?.shutdown();
}
