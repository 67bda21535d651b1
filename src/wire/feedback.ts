/**
 * What a receiver sends back on a stream once it accepted it (src/wire/handshake.ts for before):
 * acknowledgements, the MAC of target memory, the reason it gave up, and in post-copy the pages its
 * vCPUs wait for and what its guest did (src/wire/postcopy.ts). Little-endian.
 *   0  u32 magic 'MGBA'   4  u16 kind (1 ACK, 3 ERROR, 4 MAC, 5 REQUEST, 6 POSTCOPY REPORT)   6  u16 reserved
 *   8  u64 ACK: frames received on this stream so far; REQUEST: the global page number
 *  16  u64 ACK: bytes received on this stream so far (headers included)
 *  24  u32 length of what follows: ERROR's message (0..1024), MAC's 32 bytes, the report (up to 1024)
 *  28  ERROR: the message (UTF-8); MAC: the HMAC-SHA256 of target memory and device state (src/wire/mac.ts);
 *      POSTCOPY REPORT: its float64s (src/wire/postcopy.ts)
 * (Kind 2, an unkeyed XXH64 digest of memory, is gone: it could be matched by a forger.)
 */
import { MAC_BYTES } from './mac.js';

export const FEEDBACK_MAGIC = 0x4142474d; // 'MGBA'
export const FEEDBACK_FIXED_BYTES = 28;
const MAX_MESSAGE_BYTES = 1024;

export type Feedback =
  | { kind: 'ack'; frames: number; bytes: number }
  | { kind: 'mac'; mac: Buffer }
  | { kind: 'error'; message: string }
  | { kind: 'request'; page: number }
  | { kind: 'postcopy-report'; report: Buffer };

const KIND = { ack: 1, error: 3, mac: 4, request: 5, 'postcopy-report': 6 } as const;

export class FeedbackError extends Error {}

export function encodeFeedback(f: Feedback): Buffer {
  const message =
    f.kind === 'error'
      ? Buffer.from(f.message, 'utf8').subarray(0, MAX_MESSAGE_BYTES)
      : f.kind === 'mac'
        ? f.mac
        : f.kind === 'postcopy-report'
          ? f.report
          : Buffer.alloc(0);
  if (message.length > MAX_MESSAGE_BYTES) throw new FeedbackError(`a feedback body of ${message.length} bytes`);
  const b = Buffer.alloc(FEEDBACK_FIXED_BYTES + message.length);
  b.writeUInt32LE(FEEDBACK_MAGIC, 0);
  b.writeUInt16LE(KIND[f.kind], 4);
  if (f.kind === 'ack') {
    b.writeBigUInt64LE(BigInt(f.frames), 8);
    b.writeBigUInt64LE(BigInt(f.bytes), 16);
  }
  if (f.kind === 'request') b.writeBigUInt64LE(BigInt(f.page), 8);
  b.writeUInt32LE(message.length, 24);
  message.copy(b, FEEDBACK_FIXED_BYTES);
  return b;
}

/** The message at the start of `b`: null until it is whole; `bytes` is how much of `b` it took. */
export function decodeFeedback(b: Buffer): { feedback: Feedback; bytes: number } | null {
  if (b.length >= 4 && b.readUInt32LE(0) !== FEEDBACK_MAGIC)
    throw new FeedbackError(`bad feedback magic 0x${b.readUInt32LE(0).toString(16)}`);
  if (b.length < FEEDBACK_FIXED_BYTES) return null;
  const kind = b.readUInt16LE(4);
  const len = b.readUInt32LE(24);
  if (len > MAX_MESSAGE_BYTES) throw new FeedbackError(`feedback message of ${len} bytes exceeds ${MAX_MESSAGE_BYTES}`);
  if (b.length < FEEDBACK_FIXED_BYTES + len) return null;
  const bytes = FEEDBACK_FIXED_BYTES + len;
  if (kind === KIND.ack)
    return {
      feedback: { kind: 'ack', frames: Number(b.readBigUInt64LE(8)), bytes: Number(b.readBigUInt64LE(16)) },
      bytes,
    };
  if (kind === KIND.mac) {
    if (len !== MAC_BYTES) throw new FeedbackError(`a MAC of ${len} bytes, not ${MAC_BYTES}`);
    return { feedback: { kind: 'mac', mac: Buffer.from(b.subarray(FEEDBACK_FIXED_BYTES, bytes)) }, bytes };
  }
  if (kind === KIND.request) return { feedback: { kind: 'request', page: Number(b.readBigUInt64LE(8)) }, bytes };
  if (kind === KIND['postcopy-report'])
    return {
      feedback: { kind: 'postcopy-report', report: Buffer.from(b.subarray(FEEDBACK_FIXED_BYTES, bytes)) },
      bytes,
    };
  if (kind === KIND.error)
    return { feedback: { kind: 'error', message: b.subarray(FEEDBACK_FIXED_BYTES, bytes).toString('utf8') }, bytes };
  throw new FeedbackError(`unknown feedback kind ${kind}`);
}
