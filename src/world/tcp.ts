/** Over TCP, in real time: the target is a `migbench receive` on another host (src/receiver/). */
import { RealClock } from '../clock/clock.js';
import { TcpTransport } from '../channel/tcp.js';
import { LinkShare, REAL_TIME_PACING } from '../link/link.js';
import { RunningGuest } from '../guest/guest.js';
import { createEncoding, encodingOptions } from '../codec/encoding.js';
import { guestOptions, shapeOf, type World, type WorldFactory } from './world.js';
import { measureRealPace } from './real-pace.js';
import { userCodec } from '../codec/user-codec.js';

export const tcpWorld: WorldFactory = {
  localTarget: false,
  create(context): World {
    const { config, source, module } = context;
    if (config.target === null) throw new Error('the TCP world needs a target address');
    const clock = new RealClock();
    const transport = new TcpTransport(
      source,
      {
        target: config.target,
        token: config.token,
        // A connection per multifd channel (QEMU's loop sends its packets on them; others spread frames).
        streams: config.multifdChannels ?? 1,
        fault: config.fault,
        vcpus: config.vcpus,
        codecs: config.codecs.length > 0,
        // Preloaded in this thread (runMigration): the names the receiver must decode.
        userCodecs: config.userCodecs.map((spec, i) => userCodec(spec, i).name),
      },
      clock,
      new LinkShare(context.link, REAL_TIME_PACING),
    );
    return {
      clock,
      transport,
      encoding: createEncoding(source, module, encodingOptions(config)),
      sourceGuest: (mark) => new RunningGuest(guestOptions(config, source), source.slots, shapeOf(source), mark),
      measurePace: measureRealPace,
      start: () => clock.restart(),
    };
  },
};
