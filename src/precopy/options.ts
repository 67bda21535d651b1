/** The pre-copy loop's options: the user's loop, QEMU's max-bandwidth, post-copy. */
import type { OptionTable } from '../util/options.js';
import { parseCount, parseDuration, parseLinkRate } from '../util/units.js';
import { OptionError } from '../util/errors.js';
import type { ClockConfig } from '../clock/options.js';
import type { CodecConfig } from '../codec/options.js';
import { strategyOption, type UserStrategyConfig } from '../util/user-file.js';
import { POLICY_LIMITS, type PolicyConfig } from '../policy/options.js';

export interface PrecopyConfig {
  /** --precopy-loop FILE: the user's pre-copy loop, in place of the policy's; null: the policy's own. */
  userLoop: UserStrategyConfig | null;
  /**
   * QEMU's max-bandwidth: a rate limit of the migration itself, not of the link, lifted when the
   * guest is suspended (the final copy runs at the link's rate), bits per second; null: none.
   */
  maxBandwidthBitsPerSec: number | null;
  /** Post-copy when the policy gives up (or after postcopyAfterRounds). */
  postcopy: boolean;
  /**
   * Switch to post-copy after this many pre-copy rounds (round-based loops) or dirty-bitmap syncs
   * (--policy qemu: migrate-start-postcopy once dirty-sync-count reaches it); null: not by count.
   */
  postcopyAfterRounds: number | null;
  /** --policy qemu: migrate-start-postcopy issued at this time of the run, ms; null: not by time. */
  postcopyAtMs: number | null;
  /** QEMU's max-postcopy-bandwidth: the send rate after the post-copy switch, bits/s; null: unlimited (QEMU's 0). */
  maxPostcopyBandwidthBitsPerSec: number | null;
  /** --multifd: channels (with --target, TCP connections; with --policy qemu, QEMU's multifd); null: off, one. */
  multifdChannels: number | null;
}

export type PrecopyOptionKey =
  | 'maxBandwidth'
  | 'precopyLoop'
  | 'loopOpt'
  | 'postcopy'
  | 'postcopyAfter'
  | 'postcopyAt'
  | 'maxPostcopyBandwidth'
  | 'multifd';

type Reads = PrecopyConfig & Pick<ClockConfig, 'clock'> & Pick<CodecConfig, 'codecs'> & Pick<PolicyConfig, 'policy'>;

/** --multifd asks whether the run goes over TCP (resolved after it). */
export const PRECOPY_OPTIONS: OptionTable<PrecopyOptionKey, PrecopyOptionKey | 'target', Reads> = {
  maxBandwidth: {
    flags: '--max-bandwidth <rate>',
    description:
      "QEMU's max-bandwidth: the migration's own send rate limit below the link's (same units as --link), lifted when the guest is suspended, so the final copy runs at the link's rate",
    defaultText: 'none',
    example: '32MB/s, 1Gbit/s',
    resolve: (c) => {
      const text = c.text('maxBandwidth');
      return {
        maxBandwidthBitsPerSec:
          text === undefined || text.trim().toLowerCase() === 'none' ? null : parseLinkRate('--max-bandwidth', text),
      };
    },
  },
  precopyLoop: {
    flags: '--precopy-loop <file>',
    description:
      "a pre-copy loop of your own, in place of the policy's: an ES module whose default export (options) => ({ name, async run(ctx) }) sends rounds (ctx.sendRound), asks the policy (ctx.decide) and returns { action: 'switchover' | 'fail', why }; the stop-and-copy stage then sends what remains (see docs/your-strategy.md)",
    defaultText: "the policy's own",
    example: './examples/loops/time-budget.js',
    resolve: (c) => ({
      userLoop: strategyOption(
        c.text('precopyLoop'),
        c.text('loopOpt'),
        { file: '--precopy-loop', opts: '--loop-opt' },
        'loop',
        c.baseDir,
      ),
    }),
  },
  loopOpt: {
    flags: '--loop-opt <key=value,...>',
    description: "options for a pre-copy loop file's factory, as text by key",
    defaultText: 'none',
    example: 'budget=2s',
    // Resolved with --precopy-loop.
  },
  postcopy: {
    flags: '--postcopy',
    description:
      "allow post-copy (QEMU's postcopy-ram): suspend, send the device state, resume on the target at once and push the remaining pages in the background, pages a vCPU touches first; the switch comes when the policy gives up (round-based policies), with --postcopy-after or --postcopy-at, or when a time limit asks for it",
    defaultText: 'off',
    example: '--policy qemu-rounds --postcopy --max-iterations 5',
    // --postcopy-after N and --postcopy-at T imply --postcopy.
    resolve: (c) => ({
      postcopy:
        c.flag('postcopy') ||
        c.text('postcopyAfter') !== undefined ||
        (c.text('postcopyAt') ?? 'none').trim().toLowerCase() !== 'none',
    }),
  },
  postcopyAfter: {
    flags: '--postcopy-after <rounds>',
    description:
      "switch to post-copy after this many pre-copy rounds, or with --policy qemu once dirty-sync-count reaches it (QEMU's migrate-start-postcopy, taken at the loop's next iteration; 1 is the set-up sync: at once); implies --postcopy; 0 is pure post-copy: every page moves after the switch",
    defaultText: 'none',
    example: '3',
    resolve: (c) => {
      const text = c.text('postcopyAfter');
      return {
        postcopyAfterRounds:
          text === undefined
            ? null
            : parseCount('--postcopy-after', text, { min: 0, max: POLICY_LIMITS.maxIterations.max }),
      };
    },
  },
  postcopyAt: {
    flags: '--postcopy-at <duration>',
    description:
      "--policy qemu: issue QEMU's migrate-start-postcopy at this time of the run (the switch comes at the loop's next iteration, unless the migration completes first); implies --postcopy",
    defaultText: 'none',
    example: '5s',
    resolve: (c) => {
      const text = c.text('postcopyAt');
      return {
        postcopyAtMs:
          text === undefined || text.trim().toLowerCase() === 'none' ? null : parseDuration('--postcopy-at', text),
      };
    },
  },
  maxPostcopyBandwidth: {
    flags: '--max-postcopy-bandwidth <rate>',
    description:
      "--policy qemu: QEMU's max-postcopy-bandwidth, the send rate after the post-copy switch (requested pages included: QEMU's exemption for them is not modelled); once what is left is under that rate x the downtime limit, the rest goes at once",
    defaultText: 'unlimited',
    example: '64MB/s',
    resolve: (c) => {
      const text = c.text('maxPostcopyBandwidth');
      return {
        maxPostcopyBandwidthBitsPerSec:
          text === undefined || ['unlimited', '0'].includes(text.trim().toLowerCase())
            ? null
            : parseLinkRate('--max-postcopy-bandwidth', text),
      };
    },
  },
  multifd: {
    flags: '--multifd <channels>',
    description:
      "channels the pages go over, 1 to 16: with --target, a TCP connection each; with --policy qemu, QEMU's multifd: pages in packets of 512 KiB (a 1,344-byte header each) to the first idle channel, a sync of every channel at each wrap of the scan, the rate limit counting a packet once its channel has written it (on the virtual clock each channel copies at --host-copy-rate over an unlimited link; over --target once its socket write completes); not with xbzrle or post-copy, as QEMU 10.0. Other policies take it with --target only, spreading frames over the connections",
    defaultText: 'off',
    example: '4',
    resolve: (c) => {
      const text = c.text('multifd');
      if (text === undefined || text.trim().toLowerCase() === 'off') return { multifdChannels: null };
      const channels = parseCount('--multifd', text, { min: 1, max: 16 });
      const overTcp = c.text('target') !== undefined;
      if (c.config.clock !== 'virtual' && !overTcp)
        throw new OptionError(
          '--multifd',
          '--multifd needs --clock virtual (the channels modelled in simulated time) or --target (a TCP connection each)',
        );
      // migrate_caps_check: "Multifd is not compatible with xbzrle", "Postcopy is not yet compatible with multifd".
      // The other loops over TCP only spread frames over the connections: they take both.
      if (c.config.policy === 'qemu' && c.config.codecs?.includes('xbzrle'))
        throw new OptionError(
          '--multifd',
          '--multifd does not take xbzrle (QEMU: "Multifd is not compatible with xbzrle")',
        );
      if (c.config.policy === 'qemu' && c.config.postcopy)
        throw new OptionError(
          '--multifd',
          '--multifd does not take post-copy (QEMU 10.0: "Postcopy is not yet compatible with multifd")',
        );
      return { multifdChannels: channels };
    },
  },
};
