/**
 * Messages of the receiving thread (src/channel/channel-worker.ts), keyed on `kind`. Shared memories and the
 * compiled module travel inside them; they are shared, never copied.
 */
import type { GuestShape, SlotHandle } from '../memory/layout.js';
import type { ProceduralHandle } from '../memory/procedural.js';
import type { UserStrategyConfig } from '../util/user-file.js';

/** Starts a receiving thread (src/channel/receive-thread.ts): it takes frames from the queue, paces them on the link, receives them into the target. */
export interface ChannelTask {
  kind: 'channel';
  module: WebAssembly.Module;
  sourceSlots: SlotHandle[];
  targetSlots: SlotHandle[];
  guest: GuestShape;
  /** The frame queue (src/channel/queue.ts). */
  queue: SharedArrayBuffer;
  /** The link to pace on (src/link/link.ts); null: unpaced. */
  link: SharedArrayBuffer | null;
  /** Whose frames these are in the link's usage record (Link.forUser); -1: none. */
  linkUser: number;
  /** Page codecs are on: the receiver decodes frames with every codec's decoder. */
  codecs: boolean;
  /** The user's codec files of the run, in chain order: the thread imports them before it starts. */
  userCodecs: UserStrategyConfig[];
  /** The run's procedural memory (src/memory/procedural.ts) when the pages are; null: in the slots. */
  procedural: ProceduralHandle | null;
  /** This thread runs the resend meter over raw frames (src/channel/channel-worker.ts). */
  meter: boolean;
}

export interface ChannelReport {
  kind: 'channel-report';
  /** Set when a frame was rejected: the receiver writes nothing of a rejected frame. */
  error?: string;
}
