/**
 * Faults the TCP transport injects on the source side (--fault), to show that a broken wire ends a
 * run as `failed` with a reason in bounded time, the guest still running on the source:
 *   drop@ROUND          close every connection when the round's first frame goes out
 *   stall@ROUND:MS      hold the round's frames off the wire for MS (past the ack timeout: fails)
 *   corrupt@ROUND       flip a byte of the round's first frame (the receiver's checksum catches it)
 *   kill-receiver@ROUND ask a receiver started with --allow-kill (tests only) to exit at once
 */
import { OptionError } from '../util/errors.js';

export type FaultSpec =
  { kind: 'drop' | 'corrupt' | 'kill-receiver'; round: number } | { kind: 'stall'; round: number; ms: number };

const FORM = 'drop@ROUND, stall@ROUND:MS, corrupt@ROUND or kill-receiver@ROUND such as drop@2 or stall@1:10000';

export function parseFault(option: string, text: string): FaultSpec {
  const m = /^(drop|stall|corrupt|kill-receiver)@(\d{1,6})(?::(\d{1,9}))?$/.exec(text.trim().toLowerCase());
  if (!m || (m[1] === 'stall') !== (m[3] !== undefined)) {
    throw new OptionError(option, `${option} must be ${FORM} (got ${JSON.stringify(text)})`);
  }
  const round = Number(m[2]);
  return m[1] === 'stall'
    ? { kind: 'stall', round, ms: Number(m[3]) }
    : { kind: m[1] as 'drop' | 'corrupt' | 'kill-receiver', round };
}

export function describeFault(f: FaultSpec): string {
  return f.kind === 'stall' ? `stall@${f.round}:${f.ms}` : `${f.kind}@${f.round}`;
}
