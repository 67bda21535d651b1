/**
 * A run's guest memories: the source's and, where the target is in this process, the target's,
 * from the process's pool (src/memory/pool.ts); with --memory procedural, the run's procedural
 * memory (src/memory/procedural.ts) behind both.
 */
import type { RunConfig } from '../config/types.js';
import { logWritesFor } from '../config/admission.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import { runLayouts } from '../memory/admission.js';
import { memoryPool } from '../memory/pool.js';
import { ProceduralMemory, createProcedural } from '../memory/procedural.js';

export function acquireMemories(
  config: RunConfig,
  module: WebAssembly.Module,
  localTarget: boolean,
): { source: GuestMemory; target: GuestMemory | null } {
  const layouts = runLayouts(config);
  const [source, target = null] = memoryPool.acquire(
    localTarget ? [layouts.source, layouts.target] : [layouts.source],
    module,
  );
  if (config.memory === 'procedural') attachProcedural(config, source, target);
  return { source, target };
}

/** A procedural memory for the run (src/memory/procedural.ts): the source's page states and the target's. */
function attachProcedural(config: RunConfig, source: GuestMemory, target: GuestMemory | null): void {
  const spec = {
    seed: config.seed,
    content: config.content,
    pageSizeBytes: config.pageSizeBytes,
    pageCount: source.layout.pageCount,
    pagesPerSlot: source.layout.pagesPerSlot,
    writeSizeBytes: config.writeSizeBytes,
  };
  const memory = new ProceduralMemory(createProcedural(spec, logWritesFor(config)));
  source.procedural = memory;
  if (target) target.procedural = memory;
  else memory.remoteTarget = true;
}
