/**
 * In simulated time: the guest and the link advance with the virtual clock on the driver's thread
 * (an unpaced receiving thread copies beside it); a run is a deterministic function of its options
 * and seed. The write gate keeps every frame to its pages' bytes at the instant it was sent.
 */
import { VirtualClock } from '../clock/virtual.js';
import { TimelineClock } from '../clock/timeline.js';
import { VirtualTransport } from '../channel/virtual.js';
import { LinkShare, SIMULATED_PACING } from '../link/link.js';
import { WriteGate } from '../memory/write-gate.js';
import { SimulatedGuest } from '../guest/simulated-guest.js';
import { SimulatedPostcopyGuest } from '../guest/simulated-postcopy-guest.js';
import { createEncoding, encodingOptions } from '../codec/encoding.js';
import { guestOptions, localTarget, shapeOf, type World, type WorldFactory } from './world.js';

export const virtualWorld: WorldFactory = {
  localTarget: true,
  create(context): World {
    const { config, source, module } = context;
    // On a shared timeline (an evacuation's), time 0 is where the migration starts on it.
    const clock = context.timeline ? new TimelineClock(context.timeline) : new VirtualClock();
    const gate = new WriteGate();
    const codecs = config.codecs.length > 0;
    const shape = shapeOf(source);
    // Loopback is not free: an unlimited link goes at the host's copy rate (--host-copy-rate), per
    // multifd channel.
    const share = new LinkShare(context.link, SIMULATED_PACING, config.hostCopyBitsPerSec, config.multifdChannels ?? 1);
    return {
      clock,
      transport: new VirtualTransport(source, localTarget(context), module, share, clock, gate, {
        codecs,
        // Post-copy's blocked vCPUs must see a page arrive at its simulated instant: received here.
        receiveHere: config.postcopy,
        // Packing's CPU time is what --charge-cpu measures: pages are packed then.
        pageRefs: !codecs && !config.chargeCpu && !config.postcopy,
        sendBufferBytes: config.sendBufferBytes,
        userCodecs: config.userCodecs,
      }),
      encoding: createEncoding(source, module, encodingOptions(config), gate),
      sourceGuest: (mark) => new SimulatedGuest(guestOptions(config, source), source.slots, shape, mark, clock, gate),
      targetGuest: (placement) => new SimulatedPostcopyGuest(guestOptions(config, source), placement, shape, clock),
      // The simulated guest writes exactly its rate: that is its pace.
      measurePace: async () => config.pageWritesPerSec,
      start: () => {
        if (!(clock instanceof TimelineClock)) return;
        clock.start();
        share.setOrigin(clock.origin);
      },
      ...(config.chargeCpu ? { chargeCpu: (ms: number) => clock.spend(ms) } : {}),
    };
  },
};
