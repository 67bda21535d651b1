/** In this process, in real time: vCPUs and the receiving thread are worker threads; the target's memory is here. */
import { RealClock } from '../clock/clock.js';
import { InProcessTransport } from '../channel/in-process.js';
import { RunningGuest } from '../guest/guest.js';
import { createEncoding, encodingOptions } from '../codec/encoding.js';
import { guestOptions, localTarget, shapeOf, type World, type WorldFactory } from './world.js';
import { measureRealPace } from './real-pace.js';

export const inProcessWorld: WorldFactory = {
  localTarget: true,
  create(context): World {
    const { config, source, module } = context;
    const clock = new RealClock();
    const shape = shapeOf(source);
    return {
      clock,
      transport: new InProcessTransport(source, localTarget(context), module, clock, {
        link: context.link,
        codecs: config.codecs.length > 0,
        userCodecs: config.userCodecs,
      }),
      encoding: createEncoding(source, module, encodingOptions(config)),
      sourceGuest: (mark) => new RunningGuest(guestOptions(config, source), source.slots, shape, mark),
      targetGuest: (placement) => new RunningGuest(guestOptions(config, source), placement, shape),
      measurePace: measureRealPace,
      start: () => clock.restart(),
    };
  },
};
