/**
 * Everything a migration needs before its clock starts: the world's parts, the dirty log, the
 * memories' content (src/memory/setup.ts), the running guest and its pace. Set-up is timed on the
 * wall clock and reported apart from the migration.
 */
import { loadInitialContent } from '../trace/replay.js';
import type { RunConfig } from '../config/types.js';
import type { SetupRecord } from '../result/schema.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { DirtyLog } from '../dirtylog/dirty-log.js';
import type { GuestHost } from '../guest/host.js';
import type { World } from '../world/world.js';
import { createDirtyLog } from '../dirtylog/registry.js';
import { costParams } from '../dirtylog/cost.js';
import { contentRewritten, setUpMemories } from '../memory/setup.js';

export interface Prepared {
  dirtyLog: DirtyLog;
  guest: GuestHost;
  /** The guest's pace before migrating, page writes per second. */
  beforePageWritesPerSec: number;
  setup: SetupRecord;
  /** performance.now() when the clock started. */
  wallStartMs: number;
}

export async function prepare(
  config: RunConfig,
  world: World,
  module: WebAssembly.Module,
  source: GuestMemory,
  target: GuestMemory | null,
  ready?: () => Promise<void>,
): Promise<Prepared> {
  const setupStartMs = performance.now();
  const dirtyLog = createDirtyLog(config.dirtyLog, source, {
    vcpus: config.vcpus,
    ringSizeEntries: config.ringSizeEntries,
    cost: costParams(config.dirtyCost, config.dirtyLog),
  });
  // The source guest boots with its initial content and the target host's memory is made ready
  // (zero, faulted in), on every core, while a TCP transport connects and the receiver readies its own.
  const prepared = world.transport.prepare();
  let guest: GuestHost | undefined;
  let memory: Awaited<ReturnType<typeof setUpMemories>>;
  let beforePageWritesPerSec: number;
  try {
    memory = await setUpMemories({
      module,
      source: { memory: source, seed: config.seed, content: config.content },
      zero: target ? [target] : [],
    });
    // A trace's guest: its recorded initial content over the zero pages set-up made.
    if (config.trace) {
      const t0 = performance.now();
      const { pagesPerSlot, pageSizeBytes } = source.layout;
      const slots = source.slots.map((_, i) => source.pages(i));
      loadInitialContent(config.trace.file, (page) => {
        const at = (page % pagesPerSlot) * pageSizeBytes;
        return slots[Math.floor(page / pagesPerSlot)].subarray(at, at + pageSizeBytes);
      });
      contentRewritten(source);
      memory.wallMs += performance.now() - t0;
    }
    await prepared;
    guest = world.sourceGuest(dirtyLog.markMode);
    await guest.started();
    beforePageWritesPerSec = await world.measurePace(guest);
    // Set up and running, the guest may have to wait for its turn to migrate (an evacuation's limit).
    await ready?.();
  } catch (err) {
    // Nothing started here may outlive the failure: a guest's vCPU threads, encoder threads or a
    // connection would keep the process alive (an interrupted evacuation's VM set up ahead did).
    await prepared.catch(() => undefined);
    await guest?.shutdown().catch(() => undefined);
    await world.encoding?.close().catch(() => undefined);
    await world.transport.close().catch(() => undefined);
    throw err;
  }
  world.start();
  const wallStartMs = performance.now();
  return {
    dirtyLog,
    guest,
    beforePageWritesPerSec,
    wallStartMs,
    setup: {
      wallMs: wallStartMs - setupStartMs,
      memoryWallMs: memory.wallMs,
      threads: memory.threads,
      freshSlots: memory.freshSlots,
      reusedSlots: memory.reusedSlots,
    },
  };
}
