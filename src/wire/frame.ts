/**
 * The migration wire frame. Every frame, in process, in simulated time or over TCP, is a 32-byte header and a
 * body; all integers little-endian.
 *   0  u32 magic 'MGBF'       4  u16 version    6  u16 type
 *   8  u32 page count        12  u32 body length (bytes)
 *  16  u32 round             20  u32 reserved (0)
 *  24  u64 XXH64 of the body (seed 0); 0 in process, where no wire exists
 * A PAGES body is `count` 8-byte descriptors then the encoded pages (src/kernel/types.ts).
 * Nothing in a header is trusted: parseFrameHeader checks it all before a byte is used.
 */
export const FRAME_MAGIC = 0x4642474d; // 'MGBF' read little-endian
export const WIRE_VERSION = 1;
export const HEADER_BYTES = 32;

export const enum FrameType {
  Pages = 1,
  DeviceState = 2,
  End = 3,
  Announce = 4,
  /** TCP only, a 32-byte key as body: the receiver answers with the MAC of target memory (src/wire/mac.ts, src/wire/feedback.ts). */
  Verify = 5,
  /** TCP only, test-only (the kill-receiver fault): a receiver started with --allow-kill exits at once. */
  Kill = 6,
  /**
   * Shared memory only (the virtual clock's channel): a body of `count` u32 global page numbers,
   * whose pages the receiver reads from the source's memory, as RDMA reads registered memory,
   * with no packing copy. The frame stands on the link for the bytes the same pages take in a
   * PAGES frame. Every other receiver rejects it.
   */
  PageRefs = 7,
  /** TCP only, post-copy: the guest the target runs from the switch-over on (src/wire/postcopy.ts). */
  PostcopyAdvise = 8,
  /** TCP only, post-copy: pages the target lacks at the switch-over, as bits (src/wire/postcopy.ts). */
  Discard = 9,
}

export interface FrameHeader {
  type: FrameType;
  count: number;
  bodyLengthBytes: number;
  round: number;
  checksum: bigint;
}

export function writeFrameHeader(view: DataView, at: number, h: FrameHeader): void {
  view.setUint32(at, FRAME_MAGIC, true);
  view.setUint16(at + 4, WIRE_VERSION, true);
  view.setUint16(at + 6, h.type, true);
  view.setUint32(at + 8, h.count, true);
  view.setUint32(at + 12, h.bodyLengthBytes, true);
  view.setUint32(at + 16, h.round, true);
  view.setUint32(at + 20, 0, true);
  view.setBigUint64(at + 24, h.checksum, true);
}

/** The type of the frame whose header is at `at`, as written (a frame of this side's own making). */
export function frameType(view: DataView, at: number): FrameType {
  return view.getUint16(at + 6, true);
}

/** The round of the frame whose header is at `at`, as written. */
export function frameRound(view: DataView, at: number): number {
  return view.getUint32(at + 16, true);
}

export class FrameError extends Error {}

/**
 * Reads and checks a header. `available` is how many bytes the frame has (header included);
 * `maxBodyBytes` is the largest body the receiver accepts.
 */
export function parseFrameHeader(view: DataView, at: number, available: number, maxBodyBytes: number): FrameHeader {
  if (available < HEADER_BYTES)
    throw new FrameError(`truncated frame: ${available} bytes, a header is ${HEADER_BYTES}`);
  const magic = view.getUint32(at, true);
  if (magic !== FRAME_MAGIC) throw new FrameError(`bad frame magic 0x${magic.toString(16)}`);
  const version = view.getUint16(at + 4, true);
  if (version !== WIRE_VERSION)
    throw new FrameError(`unsupported wire version ${version} (this build speaks ${WIRE_VERSION})`);
  const type = view.getUint16(at + 6, true);
  if (type < FrameType.Pages || type > FrameType.Discard) throw new FrameError(`unknown frame type ${type}`);
  const reserved = view.getUint32(at + 20, true);
  if (reserved !== 0) throw new FrameError(`a frame header's reserved field is 0x${reserved.toString(16)}, not 0`);
  const bodyLengthBytes = view.getUint32(at + 12, true);
  if (bodyLengthBytes > maxBodyBytes)
    throw new FrameError(`frame body of ${bodyLengthBytes} bytes exceeds the limit of ${maxBodyBytes}`);
  if (HEADER_BYTES + bodyLengthBytes > available) {
    throw new FrameError(
      `frame body of ${bodyLengthBytes} bytes runs past the ${available - HEADER_BYTES} bytes received`,
    );
  }
  return {
    type,
    count: view.getUint32(at + 8, true),
    bodyLengthBytes,
    round: view.getUint32(at + 16, true),
    checksum: view.getBigUint64(at + 24, true),
  };
}
