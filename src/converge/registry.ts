/** The convergence aids a configuration asks for, in the order they act after a round. */
import type { LinkConfig } from '../link/options.js';
import type { AidsConfig } from './options.js';
import type { ConvergenceAid } from './aid.js';
import { AutoConverge } from './auto-converge.js';
import { AdaptiveRate } from './adaptive-rate.js';
import { Sdps } from './sdps.js';
import { DowntimeRamp } from './downtime-ramp.js';

export function createAids(config: AidsConfig & Pick<LinkConfig, 'linkBitsPerSec'>): ConvergenceAid[] {
  const aids: ConvergenceAid[] = [];
  if (config.downtimeRamp) aids.push(new DowntimeRamp(config.downtimeRamp));
  if (config.autoConverge) aids.push(new AutoConverge(config.autoConverge));
  if (config.sdps) aids.push(new Sdps());
  if (config.adaptiveRate) {
    const caps = [config.linkBitsPerSec, config.adaptiveMaxBitsPerSec].filter((b): b is number => b !== null);
    aids.push(new AdaptiveRate(caps.length ? Math.min(...caps) : null));
  }
  return aids;
}
