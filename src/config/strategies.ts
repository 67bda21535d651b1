/** The user's strategy files of a configuration, loaded together (src/util/user-file.ts). */
import type { UserStrategyConfig } from '../util/user-file.js';
import type { StopPolicy } from '../policy/policy.js';
import type { ConvergenceAid } from '../converge/aid.js';
import type { PrecopyLoop } from '../precopy/loop.js';
import { loadUserPolicy } from '../policy/user-policy.js';
import { loadUserAid } from '../converge/user-aid.js';
import { loadUserLoop } from '../precopy/user-loop.js';
import { preloadUserCodecs } from '../codec/user-codec.js';

export interface UserStrategySpecs {
  userPolicy: UserStrategyConfig | null;
  userAid: UserStrategyConfig | null;
  userCodecs: UserStrategyConfig[];
  userLoop: UserStrategyConfig | null;
}

/** What a configuration's files made: its policy, aid and loop (null where it names none); its codecs are imported in this thread. */
export interface UserStrategies {
  policy: StopPolicy | null;
  aid: ConvergenceAid | null;
  loop: PrecopyLoop | null;
}

/** Loads every strategy file of a configuration; a file that cannot be used is a StrategyError naming it. */
export async function loadUserStrategies(config: UserStrategySpecs): Promise<UserStrategies> {
  const policy = config.userPolicy ? await loadUserPolicy(config.userPolicy) : null;
  const aid = config.userAid ? await loadUserAid(config.userAid) : null;
  const loop = config.userLoop ? await loadUserLoop(config.userLoop) : null;
  await preloadUserCodecs(config.userCodecs);
  return { policy, aid, loop };
}

/** Refuses a configuration whose strategy files cannot be used, before anything runs. */
export async function checkUserStrategies(config: UserStrategySpecs): Promise<void> {
  await loadUserStrategies(config);
}
