/** Verification where both memories are in this process: the target must equal the source, byte for byte. */
import type { GuestMemory } from '../memory/guest-memory.js';

/** Null when the target equals the source, else which page differs first. */
export function compareMemories(source: GuestMemory, target: GuestMemory): string | null {
  const page = source.firstDifferentPage(target);
  return page < 0 ? null : `verification failed: target page ${page} differs from the source at suspension`;
}
