/** The stop policy's options: which policy (or the user's file), its downtime limit, its round cap. */
import { OptionError } from '../util/errors.js';
import { parseName, type OptionTable } from '../util/options.js';
import { parseCount, parseDuration } from '../util/units.js';
import {
  REGISTERED_PREFIX,
  isStrategyFile,
  parseStrategyOptions,
  registeredFactory,
  strategyFile,
  type UserStrategyConfig,
} from '../util/user-file.js';
import { POLICIES, POLICY_NAMES, type PolicyName } from './registry.js';

export interface PolicyConfig {
  /** A built-in stop policy, or `user`: the one in userPolicy's file. */
  policy: PolicyName;
  /** --policy FILE: the user's stop policy (policy is then `user`); null: a built-in one. */
  userPolicy: UserStrategyConfig | null;
  /** Downtime the qemu policy aims for, milliseconds (default 300). */
  downtimeLimitMs: number;
  /** Upper bound on pre-copy rounds for any policy; null means the policy's own. */
  maxIterations: number | null;
}

export const POLICY_LIMITS = {
  maxIterations: { min: 1, max: 10_000 },
} as const;

export type PolicyOptionKey = 'policy' | 'policyOpt' | 'downtimeLimit' | 'maxIterations';

export const POLICY_OPTIONS: OptionTable<PolicyOptionKey, PolicyOptionKey, PolicyConfig> = {
  policy: {
    flags: '--policy <name|file>',
    description: `stop policy: ${Object.values(POLICIES)
      .map((p) => p.help)
      .join(
        ', ',
      )}; or a file of your own, ./my-policy.js (an ES module whose default export (options) => ({ name, decide(state) }) decides after each round; see docs/your-strategy.md)`,
    defaultText: 'qemu',
    example: 'xen, ./examples/policies/stop-when-flat.js',
    // What its loop does not take is checked once every option has resolved (checkLoop, src/config/options.ts).
    resolve: (c) => {
      const text = c.typed('policy');
      const opts = c.text('policyOpt');
      if (isStrategyFile(text))
        return {
          policy: 'user',
          userPolicy: {
            file: strategyFile('--policy', text, c.baseDir),
            options: parseStrategyOptions('--policy-opt', opts),
          },
        };
      // A policy registered from code (the library's registerPolicy), in this process.
      if (registeredFactory('policy', text.trim()) !== undefined) {
        return {
          policy: 'user',
          userPolicy: {
            file: `${REGISTERED_PREFIX}${text.trim()}`,
            options: parseStrategyOptions('--policy-opt', opts),
          },
        };
      }
      if (opts !== undefined)
        throw new OptionError('--policy-opt', '--policy-opt only applies with a policy file (--policy ./my-policy.js)');
      return { policy: parseName('--policy', text, POLICY_NAMES), userPolicy: null };
    },
  },
  policyOpt: {
    flags: '--policy-opt <key=value,...>',
    description: "options for a policy file's factory, as text by key (the file reads them)",
    defaultText: 'none',
    example: 'threshold=0.2',
    // Resolved with --policy.
  },
  downtimeLimit: {
    flags: '--downtime-limit <duration>',
    description: 'downtime the qemu and qemu-rounds policies aim for',
    defaultText: '300ms',
    example: '50ms',
    resolve: (c) => {
      const downtimeLimitMs = parseDuration('--downtime-limit', c.typed('downtimeLimit'));
      if (!(downtimeLimitMs > 0)) {
        throw new OptionError(
          '--downtime-limit',
          `--downtime-limit must be a positive duration such as 300ms or 1s (got ${JSON.stringify(c.text('downtimeLimit'))})`,
        );
      }
      return { downtimeLimitMs };
    },
  },
  maxIterations: {
    flags: '--max-iterations <n>',
    description:
      'cap on pre-copy rounds, 1 to 10000 (qemu-rounds fails past it; hyperv and xen switch over) (round-based policies: qemu-rounds, hyperv, xen)',
    defaultText: "the policy's own",
    example: '30',
    resolve: (c) => {
      const text = c.text('maxIterations');
      return {
        maxIterations: text === undefined ? null : parseCount('--max-iterations', text, POLICY_LIMITS.maxIterations),
      };
    },
  },
};
