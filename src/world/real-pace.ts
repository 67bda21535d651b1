/** The guest's pace on the real clock: measured over a short window before the migration starts. */
import type { GuestHost } from '../guest/host.js';

/** How long the guest's pace is measured before a real-clock migration starts, ms. */
const BASELINE_WINDOW_MS = 200;

export async function measureRealPace(guest: GuestHost): Promise<number> {
  const w0 = guest.totalWrites();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, BASELINE_WINDOW_MS));
  return ((guest.totalWrites() - w0) * 1000) / (performance.now() - t0);
}
