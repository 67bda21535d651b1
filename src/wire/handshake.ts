/**
 * The TCP migration handshake: each stream (connection) of a migration opens with a HELLO from the
 * source, and the receiver answers with a REPLY before any frame flows. All integers little-endian.
 *
 * HELLO (48 bytes + token + codec names):
 *   0  u32 magic 'MGBH'        4  u16 version        6  u16 flags (bit 0: pages may carry codecs;
 *                                                     bit 1: codec files of the user's, named below)
 *   8  u32 page size (bytes)  12  u32 vCPUs
 *  16  u64 RAM size (bytes)
 *  24  u16 stream index      26  u16 stream count   28  u16 token length (0..256)
 *  30  u16 with flag bit 1: the length of the codec names (1..512); else 0
 *  32  16 bytes migration id (random, shared by the streams of one migration)
 *  48  token bytes (UTF-8)
 *  48 + token: with flag bit 1, the user codecs' names in chain order, comma-separated (ASCII):
 *      they are codecs 16, 17, ... in frames, and the receiver must have the same ones (receive --codec)
 *
 * REPLY (12 bytes + reason):
 *   0  u32 magic 'MGBR'        4  u16 version        6  u16 status (0 accept, 1 reject)
 *   8  u32 reason length (0..1024)   12  reason (UTF-8)
 *
 * Nothing in a HELLO is trusted: decodeHello checks every field, and the token is compared in
 * constant time (tokenMatches).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { WIRE_VERSION } from './frame.js';

export const HELLO_MAGIC = 0x4842474d; // 'MGBH' read little-endian
export const REPLY_MAGIC = 0x5242474d; // 'MGBR'
export const HELLO_FIXED_BYTES = 48;
export const REPLY_FIXED_BYTES = 12;
export const MAX_TOKEN_BYTES = 256;
export const MAX_REASON_BYTES = 1024;
export const MAX_STREAMS = 16;
export const MIGRATION_ID_BYTES = 16;
const FLAG_CODECS = 1;
const FLAG_USER_CODECS = 2;
export const MAX_CODEC_NAMES_BYTES = 512;
const CODEC_NAME = /^[A-Za-z][\w.-]{0,31}$/;

export interface Hello {
  pageSizeBytes: number;
  ramBytes: number;
  vcpus: number;
  codecs: boolean;
  /** The names of the user's codec files in the source's chain, in order (ids 16, 17, ...); [] for none. */
  userCodecs: string[];
  streamIndex: number;
  streamCount: number;
  /** Hex of the 16-byte migration id. */
  migrationId: string;
  token: string;
}

export class HandshakeError extends Error {}

export function encodeHello(h: Hello): Buffer {
  const token = Buffer.from(h.token, 'utf8');
  if (token.length > MAX_TOKEN_BYTES)
    throw new HandshakeError(`token of ${token.length} bytes exceeds ${MAX_TOKEN_BYTES}`);
  const names = Buffer.from(h.userCodecs.join(','), 'ascii');
  if (names.length > MAX_CODEC_NAMES_BYTES)
    throw new HandshakeError(`codec names of ${names.length} bytes exceed ${MAX_CODEC_NAMES_BYTES}`);
  const b = Buffer.alloc(HELLO_FIXED_BYTES + token.length + names.length);
  b.writeUInt32LE(HELLO_MAGIC, 0);
  b.writeUInt16LE(WIRE_VERSION, 4);
  b.writeUInt16LE((h.codecs ? FLAG_CODECS : 0) | (names.length > 0 ? FLAG_USER_CODECS : 0), 6);
  b.writeUInt16LE(names.length, 30);
  b.writeUInt32LE(h.pageSizeBytes, 8);
  b.writeUInt32LE(h.vcpus, 12);
  b.writeBigUInt64LE(BigInt(h.ramBytes), 16);
  b.writeUInt16LE(h.streamIndex, 24);
  b.writeUInt16LE(h.streamCount, 26);
  b.writeUInt16LE(token.length, 28);
  Buffer.from(h.migrationId, 'hex').copy(b, 32, 0, MIGRATION_ID_BYTES);
  token.copy(b, HELLO_FIXED_BYTES);
  names.copy(b, HELLO_FIXED_BYTES + token.length);
  return b;
}

/**
 * How many bytes the HELLO at the start of `b` has in all, once its fixed part is there; checks
 * magic and version as soon as they arrive, so a stranger is turned away after 6 bytes.
 */
export function helloLength(b: Buffer): number | null {
  if (b.length >= 4 && b.readUInt32LE(0) !== HELLO_MAGIC) {
    throw new HandshakeError(`bad handshake magic 0x${b.readUInt32LE(0).toString(16)} (not a migbench source)`);
  }
  if (b.length >= 6 && b.readUInt16LE(4) !== WIRE_VERSION) {
    throw new HandshakeError(`unsupported wire version ${b.readUInt16LE(4)} (this receiver speaks ${WIRE_VERSION})`);
  }
  if (b.length < HELLO_FIXED_BYTES) return null;
  const tokenBytes = b.readUInt16LE(28);
  if (tokenBytes > MAX_TOKEN_BYTES) throw new HandshakeError(`token of ${tokenBytes} bytes exceeds ${MAX_TOKEN_BYTES}`);
  const namesBytes = (b.readUInt16LE(6) & FLAG_USER_CODECS) !== 0 ? b.readUInt16LE(30) : 0;
  if (namesBytes > MAX_CODEC_NAMES_BYTES)
    throw new HandshakeError(`codec names of ${namesBytes} bytes exceed ${MAX_CODEC_NAMES_BYTES}`);
  return HELLO_FIXED_BYTES + tokenBytes + namesBytes;
}

/** Decodes a whole HELLO (helloLength bytes) and checks its fields. */
export function decodeHello(b: Buffer): Hello {
  const total = helloLength(b);
  if (total === null || b.length < total) throw new HandshakeError(`truncated handshake: ${b.length} bytes`);
  const pageSizeBytes = b.readUInt32LE(8);
  const vcpus = b.readUInt32LE(12);
  const ram = b.readBigUInt64LE(16);
  const streamIndex = b.readUInt16LE(24);
  const streamCount = b.readUInt16LE(26);
  const flags = b.readUInt16LE(6);
  const known = FLAG_CODECS | FLAG_USER_CODECS;
  if ((flags & ~known) !== 0)
    throw new HandshakeError(
      `unknown handshake flags 0x${(flags & ~known).toString(16)} (this receiver knows 0x${known.toString(16)}: codecs, codec files)`,
    );
  const userFlag = (flags & FLAG_USER_CODECS) !== 0;
  if (!userFlag && b.readUInt16LE(30) !== 0)
    throw new HandshakeError(`the handshake's reserved field is 0x${b.readUInt16LE(30).toString(16)}, not 0`);
  const tokenEnd = HELLO_FIXED_BYTES + b.readUInt16LE(28);
  let userCodecs: string[] = [];
  if (userFlag) {
    if ((flags & FLAG_CODECS) === 0) throw new HandshakeError('codec files named without codecs on');
    userCodecs = b.subarray(tokenEnd, total).toString('latin1').split(',');
    if (userCodecs.length > 8 || !userCodecs.every((n) => CODEC_NAME.test(n)))
      throw new HandshakeError('bad codec names: 1 to 8 names of 1 to 32 letters, digits, ., _ or -');
  }
  if (pageSizeBytes < 4096 || pageSizeBytes > 2 * 1024 * 1024 || (pageSizeBytes & (pageSizeBytes - 1)) !== 0) {
    throw new HandshakeError(`bad page size ${pageSizeBytes} (a power of two from 4 KiB to 2 MiB)`);
  }
  if (ram > BigInt(64 * 2 ** 30) || ram < BigInt(16 * pageSizeBytes) || ram % BigInt(pageSizeBytes) !== 0n) {
    throw new HandshakeError(`bad RAM size ${ram} bytes (16 pages to 64 GiB, a whole number of pages)`);
  }
  if (vcpus < 1 || vcpus > 64) throw new HandshakeError(`bad vCPU count ${vcpus} (1 to 64)`);
  if (streamCount < 1 || streamCount > MAX_STREAMS || streamIndex >= streamCount) {
    throw new HandshakeError(`bad stream ${streamIndex} of ${streamCount} (1 to ${MAX_STREAMS} streams)`);
  }
  return {
    pageSizeBytes,
    ramBytes: Number(ram),
    vcpus,
    codecs: (b.readUInt16LE(6) & FLAG_CODECS) !== 0,
    streamIndex,
    streamCount,
    migrationId: b.subarray(32, 32 + MIGRATION_ID_BYTES).toString('hex'),
    token: b.subarray(HELLO_FIXED_BYTES, tokenEnd).toString('utf8'),
    userCodecs,
  };
}

/** Constant-time token check: both sides hashed to 32 bytes first, so lengths leak nothing either. */
export function tokenMatches(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected, 'utf8').digest();
  const b = createHash('sha256').update(given, 'utf8').digest();
  return timingSafeEqual(a, b);
}

export interface Reply {
  accepted: boolean;
  reason: string;
}

export function encodeReply(r: Reply): Buffer {
  const reason = Buffer.from(r.reason, 'utf8').subarray(0, MAX_REASON_BYTES);
  const b = Buffer.alloc(REPLY_FIXED_BYTES + reason.length);
  b.writeUInt32LE(REPLY_MAGIC, 0);
  b.writeUInt16LE(WIRE_VERSION, 4);
  b.writeUInt16LE(r.accepted ? 0 : 1, 6);
  b.writeUInt32LE(reason.length, 8);
  reason.copy(b, REPLY_FIXED_BYTES);
  return b;
}

/** The REPLY at the start of `b`: null until it is whole; `bytes` is how much of `b` it took. */
export function decodeReply(b: Buffer): { reply: Reply; bytes: number } | null {
  if (b.length >= 4 && b.readUInt32LE(0) !== REPLY_MAGIC)
    throw new HandshakeError(`bad reply magic 0x${b.readUInt32LE(0).toString(16)} (not a migbench receiver)`);
  if (b.length >= 6 && b.readUInt16LE(4) !== WIRE_VERSION)
    throw new HandshakeError(`receiver speaks wire version ${b.readUInt16LE(4)}, this source ${WIRE_VERSION}`);
  if (b.length < REPLY_FIXED_BYTES) return null;
  const len = b.readUInt32LE(8);
  if (len > MAX_REASON_BYTES) throw new HandshakeError(`reply reason of ${len} bytes exceeds ${MAX_REASON_BYTES}`);
  if (b.length < REPLY_FIXED_BYTES + len) return null;
  return {
    reply: {
      accepted: b.readUInt16LE(6) === 0,
      reason: b.subarray(REPLY_FIXED_BYTES, REPLY_FIXED_BYTES + len).toString('utf8'),
    },
    bytes: REPLY_FIXED_BYTES + len,
  };
}
