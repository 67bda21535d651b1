/**
 * The digest two hosts compare to agree that target memory equals source memory: XXH64 of every
 * page (the hashPages kernel, into the slot's page-hash scratch), then XXH64 over those hashes,
 * chained slot to slot through the seed. Overwrites the slots' page-hash area (the resend meter's),
 * so it is taken only once the rounds are over.
 */
import type { GuestMemory } from '../memory/guest-memory.js';

export function memoryDigest(memory: GuestMemory): bigint {
  let digest = 0n;
  memory.slots.forEach((s, i) => {
    const l = s.layout;
    const k = memory.kernels[i];
    k.hashPages(l.pagesPtr, l.pageSizeBytes, l.pageCount, l.hashesPtr);
    digest = k.hash64(l.hashesPtr, l.pageCount * 8, digest);
  });
  return digest;
}
