/**
 * Faults the TCP transport injects on the source side (--fault), to show that a broken wire ends a
 * run as `failed` with a reason in bounded time, the guest still running on the source:
 *   drop@ROUND          close every connection when the round's first frame goes out
 *   stall@ROUND:MS      hold the round's frames off the wire for MS (past the ack timeout: fails)
 *   corrupt@ROUND       flip a byte of the round's first frame (the receiver's checksum catches it)
 *   kill-receiver@ROUND ask a receiver started with --allow-kill (tests only) to exit at once
 * ROUND+FRAMES in any of them: when that many of the round's frames (and later ones) have gone,
 * as drop@2+100: within a round (post-copy's pages all go in one, after its end-of-migration frame).
 */
import { OptionError } from '../util/errors.js';

export type FaultSpec = (
  { kind: 'drop' | 'corrupt' | 'kill-receiver'; round: number } | { kind: 'stall'; round: number; ms: number }
) & {
  /** Frames of the round (and later ones) that go before the fault; absent: none, it hits the first. */
  afterFrames?: number;
};

const FORM =
  'drop@ROUND, stall@ROUND:MS, corrupt@ROUND or kill-receiver@ROUND, ROUND maybe ROUND+FRAMES, such as drop@2, drop@3+100 or stall@1:10000';

export function parseFault(option: string, text: string): FaultSpec {
  const m = /^(drop|stall|corrupt|kill-receiver)@(\d{1,6})(?:\+(\d{1,9}))?(?::(\d{1,9}))?$/.exec(
    text.trim().toLowerCase(),
  );
  if (!m || (m[1] === 'stall') !== (m[4] !== undefined)) {
    throw new OptionError(option, `${option} must be ${FORM} (got ${JSON.stringify(text)})`);
  }
  const round = Number(m[2]);
  const after = m[3] === undefined ? {} : { afterFrames: Number(m[3]) };
  return m[1] === 'stall'
    ? { kind: 'stall', round, ms: Number(m[4]), ...after }
    : { kind: m[1] as 'drop' | 'corrupt' | 'kill-receiver', round, ...after };
}

export function describeFault(f: FaultSpec): string {
  const at = f.afterFrames === undefined ? `${f.round}` : `${f.round}+${f.afterFrames}`;
  return f.kind === 'stall' ? `stall@${at}:${f.ms}` : `${f.kind}@${at}`;
}
