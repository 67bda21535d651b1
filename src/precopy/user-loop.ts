/**
 * A pre-copy loop from the user's file (`--precopy-loop ./my-loop.js`): what to send and when to
 * stop, in place of the policy's own loop. It drives migbench's rounds through a small context,
 * in the units of the result schema:
 *
 *   export default (options) => ({
 *     name: 'my-loop',
 *     async run(ctx) {            // returns { action: 'switchover' | 'fail', why }
 *       const first = await ctx.sendRound(true);     // every page, then waits for it to arrive
 *       ...
 *     },
 *   });
 *
 * ctx.sendRound(all) sends one round (every page, or what a fresh fetch of the dirty log finds) and
 * returns its IterationRecord (bytesSent, durationMs, achievedLinkBitsPerSec, dirtyPages, ...);
 * ctx.pendingPages() is what the dirty log holds now; ctx.afterRound(facts) runs the convergence
 * aids (--auto-converge, --aid); ctx.decide(state) asks the stop policy (--policy); ctx.record(round,
 * why) keeps a round in the result with the words of what was decided after it; ctx.checkpoint()
 * ends the run when it was interrupted or its --timeout passed (call it each round); ctx.nowMs() is
 * the run's clock; ctx.settings and ctx.controls as the aids see them. The stop-and-copy stage
 * then sends what the dirty log holds, as migbench's own round-based loop does.
 */
import { PrecopyFailure, type LoopDeclaration, type PrecopyLoop, type PrecopyOutcome } from './loop.js';
import type { PrecopyPort } from './port.js';
import type { IterationRecord } from '../result/schema.js';
import type { PolicyDecision, PolicyState } from '../policy/policy.js';
import type { AidControls, RoundFacts } from '../converge/aid.js';
import { buildStrategy, strategyFactory, type StrategyShape, type UserStrategyConfig } from '../util/user-file.js';

/** What a user's loop is given. */
export interface UserLoopContext {
  sendRound(all: boolean): Promise<IterationRecord>;
  pendingPages(): number;
  afterRound(facts: RoundFacts): void;
  decide(state: PolicyState): PolicyDecision;
  record(round: IterationRecord, why: string): void;
  checkpoint(): void;
  nowMs(): number;
  readonly settings: { pageSizeBytes: number; ramBytes: number; maxIterations: number | null };
  readonly controls: AidControls;
}

export interface UserLoopObject {
  name: string;
  run(ctx: UserLoopContext): Promise<unknown> | unknown;
}

export class UserLoop implements PrecopyLoop {
  readonly name: string;

  constructor(
    private readonly user: UserLoopObject,
    private readonly spec: UserStrategyConfig,
  ) {
    this.name = user.name;
  }

  async run(port: PrecopyPort): Promise<PrecopyOutcome> {
    port.control.limitRate(port.settings.maxBandwidthBitsPerSec);
    let out: unknown;
    // What migbench's own calls throw (a timeout, an interruption, a channel failure) passes through the user's code as it is.
    const ours = new WeakSet<object>();
    try {
      out = await this.user.run(userContext(port, ours));
    } catch (e) {
      if (typeof e === 'object' && e !== null && ours.has(e)) throw e;
      throw new PrecopyFailure(
        `the pre-copy loop ${this.spec.file} threw: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const d = out as { action?: unknown; why?: unknown } | null;
    if (
      d === null ||
      typeof d !== 'object' ||
      (d.action !== 'switchover' && d.action !== 'fail') ||
      typeof d.why !== 'string'
    ) {
      throw new PrecopyFailure(
        `the pre-copy loop ${this.spec.file} returned ${JSON.stringify(out)}, not { action: 'switchover' | 'fail', why: string }`,
      );
    }
    if (d.action === 'fail') throw new PrecopyFailure(d.why);
    return { decision: { action: 'switchover', why: d.why }, postcopyAfter: null };
  }

  /** What the dirty log holds, in one round (as the round-based loop). */
  final(port: PrecopyPort): Promise<IterationRecord> {
    return port.send.round('stop-and-copy', false);
  }
}

/** The user's context, over the port; what it throws of migbench's own is marked in `ours`. */
function userContext(port: PrecopyPort, ours: WeakSet<object>): UserLoopContext {
  const mark = (e: unknown): never => {
    if (typeof e === 'object' && e !== null) ours.add(e);
    throw e;
  };
  const pass =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      try {
        const r = f(...a);
        return (r instanceof Promise ? r.catch(mark) : r) as R;
      } catch (e) {
        return mark(e);
      }
    };
  const { guest, settings, control } = port;
  return {
    sendRound: pass((all: boolean) => port.send.round('precopy', all === true)),
    pendingPages: () => port.dirty.pending(),
    afterRound: pass((facts: RoundFacts) => control.afterRound(facts)),
    decide: pass((state: PolicyState) => control.decide(state)),
    record: (round, why) => {
      port.records.keep(round, String(why));
      control.remaining(port.dirty.pending() * guest.pageSizeBytes);
    },
    checkpoint: pass(() => control.checkpoint()),
    nowMs: () => port.clock.nowMs(),
    settings: Object.freeze({
      pageSizeBytes: guest.pageSizeBytes,
      ramBytes: guest.ramBytes,
      maxIterations: settings.maxIterations,
    }),
    controls: control.controls,
  };
}

export const LOOP_SHAPE: StrategyShape = {
  kind: 'loop',
  example:
    "export default (options) => ({ name: 'my-loop', async run(ctx) { await ctx.sendRound(true); return { action: 'switchover', why: '...' }; } })",
  required: ['run'],
};

/** The user's pre-copy loop, checked at load (src/util/user-file.ts). */
export async function loadUserLoop(spec: UserStrategyConfig): Promise<PrecopyLoop> {
  const o = buildStrategy(await strategyFactory(spec, 'loop', LOOP_SHAPE), spec, LOOP_SHAPE);
  return new UserLoop(o as unknown as UserLoopObject, spec);
}

/** A loop of the user's: it sends rounds and switches over; post-copy and what QEMU's loop refuses are not its. */
export const USER_LOOP: LoopDeclaration = {
  name: 'user',
  takes: ['maxIterations'],
  elsewhere:
    'does not work with --precopy-loop FILE yet: the loop of your own runs the rounds (aids there: --auto-converge, --aid)',
  xbzrleCache: 'any',
};
