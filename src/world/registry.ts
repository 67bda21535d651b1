/** The worlds a migration can run in; adding one is a file beside this and a line here. */
import type { WorldConfig } from './world.js';
import type { WorldFactory } from './world.js';
import { inProcessWorld } from './in-process.js';
import { virtualWorld } from './virtual.js';
import { tcpWorld } from './tcp.js';

export const WORLDS = {
  'in-process': inProcessWorld,
  virtual: virtualWorld,
  tcp: tcpWorld,
} as const satisfies Record<string, WorldFactory>;

export type WorldName = keyof typeof WORLDS;

/** A run with --target goes over TCP; else the clock chooses. */
export function worldNameOf(config: Pick<WorldConfig, 'target' | 'clock'>): WorldName {
  if (config.target !== null) return 'tcp';
  return config.clock === 'virtual' ? 'virtual' : 'in-process';
}
