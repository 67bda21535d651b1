/**
 * The migration channel over real TCP sockets to a `migbench receive` (src/receiver/), on the real
 * clock. Each of N streams (connections, QEMU multifd-like) opens with a handshake
 * (src/wire/handshake.ts); frames then go out from the source's frame buffers themselves (a
 * buffer is the sender's again only once its socket write has completed, so nothing is copied on
 * this thread), round-robin over the streams and paced on the link (src/link/link.ts). The receiver acknowledges every frame
 * (src/wire/feedback.ts); drain() waits for the acknowledgement of everything sent, so a round's
 * frames all land before the next round's, on whatever stream they went.
 *
 * Anything that goes wrong — refused handshake, a socket error or close, a frame the receiver
 * rejects, no acknowledgement in time — becomes a ChannelError with the reason: the run fails and
 * the guest stays on the source. Every wait is bounded.
 */
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { RealClock } from '../clock/clock.js';
import type { LinkShare } from '../link/link.js';
import {
  ChannelError,
  type FaultInjection,
  type FrameBuffer,
  type Lanes,
  type RemotePostcopy,
  type Transport,
} from './transport.js';
import { decodeReport, type PostcopyReport } from '../wire/postcopy.js';
import { FrameType, HEADER_BYTES, frameRound, frameType, writeFrameHeader } from '../wire/frame.js';
import { decodeReply, encodeHello, MIGRATION_ID_BYTES } from '../wire/handshake.js';
import { decodeFeedback } from '../wire/feedback.js';
import { MAC_KEY_BYTES, MAC_NAME, memoryMac } from '../wire/mac.js';
import { formatHostPort, type HostPort } from '../wire/address.js';
import { describeSocketError, explainTlsFailure, tlsClientOptions } from '../wire/tls.js';
import { describeFault, type FaultSpec } from './fault.js';

export interface TcpTransportOptions {
  target: HostPort;
  token: string | null;
  streams: number;
  fault: FaultSpec | null;
  vcpus: number;
  codecs: boolean;
  /** The names of the user's codec files in the chain, in order (the receiver must have the same ones). */
  userCodecs?: string[];
  /** No acknowledgement for this long while frames are outstanding fails the run (default 5 s). */
  ackTimeoutMs?: number;
}

/** Connecting and the handshake; the receiver allocates (and faults in) the target memory meanwhile. */
const HANDSHAKE_TIMEOUT_MS = 30_000;
const DEFAULT_ACK_TIMEOUT_MS = 5_000;
/** The receiver MACs all of target memory (about 0.7 s per GiB here): this long, plus 10 s per GiB. */
const MAC_TIMEOUT_MS = 60_000;
const MAC_TIMEOUT_MS_PER_GIB = 10_000;
const CLOSE_TIMEOUT_MS = 2_000;
/** Frames in flight (sent, not acknowledged) per stream: enough to keep loopback busy. */
const WINDOW_FRAMES_PER_STREAM = 8;

const epochNow = (): number => performance.timeOrigin + performance.now();

interface Stream {
  index: number;
  socket: net.Socket;
  /** Feedback bytes not yet decoded. */
  inbox: Buffer;
  sentFrames: number;
  sentBytes: number;
  ackedFrames: number;
  ackedBytes: number;
  /** Frames whose socket write has completed. */
  writtenFrames: number;
  /** Frames held off the wire by a stall fault, with what to do once each is written. */
  held: { frame: Buffer; done?: () => void }[];
}

export class TcpTransport implements Transport {
  readonly checksums = true;
  readonly faults: FaultInjection = { fired: () => this.firedFault };
  readonly remotePostcopy: RemotePostcopy = {
    drainRequests: (visit) => {
      for (const page of this.requests.splice(0)) visit(page);
    },
    report: () => this.postcopyReport,
  };
  readonly lanes: Lanes;
  /** Post-copy: pages the target's vCPUs asked for, not yet taken. */
  private readonly requests: number[] = [];
  private postcopyReport?: PostcopyReport;
  private readonly address: string;
  private readonly ackTimeoutMs: number;
  private readonly views: DataView[];
  private readonly handedOut: number[];
  /** Per slot: buffers the sender has back, in the order they were handed out. */
  private readonly released: number[];
  /** Per slot and buffer: its frame has been written to the socket (or will never be). */
  private readonly written: Uint8Array[];
  private streams: Stream[] = [];
  private handshake?: Promise<void>;
  private failure?: ChannelError;
  private closingDown = false;
  private closing?: Promise<void>;
  private waiters: (() => void)[] = [];
  private watchdog?: NodeJS.Timeout;
  private nextStream = 0;
  private lastAckMs = 0;
  private lastProgressMs = performance.now();
  private round = 0;
  private firedFault = false;
  /** Frames of the fault's round (and later) that went before it (FaultSpec.afterFrames). */
  private framesBeforeFault = 0;
  private faultNote = '';
  private stalled = false;
  /** The receiver's MAC of target memory, once it came. */
  private mac?: Buffer;
  /** The device state as sent: the MAC covers it. */
  private deviceState: Buffer = Buffer.alloc(0);

  constructor(
    private readonly source: GuestMemory,
    private readonly options: TcpTransportOptions,
    private readonly clock: RealClock,
    private readonly link: LinkShare,
  ) {
    this.address = formatHostPort(options.target);
    this.lanes = { count: options.streams, written: (lane) => this.laneWritten(lane) };
    this.ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    this.views = source.slots.map((s) => new DataView(s.memory.buffer));
    this.handedOut = source.slots.map(() => 0);
    this.released = source.slots.map(() => 0);
    this.written = source.slots.map((sl) => new Uint8Array(sl.layout.frameBuffers));
  }

  /**
   * Before the clock starts: connects every stream and shakes hands; the receiver allocates and
   * faults in the target memory before it accepts (a target with preallocated memory). A failure
   * is kept for connect(), so it ends the run inside its connect stage.
   */
  async prepare(): Promise<void> {
    this.handshake = this.openAll();
    await this.handshake.catch(() => undefined);
  }

  /** The connect stage: the handshake's outcome. */
  async connect(): Promise<void> {
    await this.handshake;
    this.watchdog = setInterval(() => this.checkAcks(), 100);
    this.watchdog.unref();
  }

  /** The receiver allocated its memory in the handshake and receives from then on. */
  async open(): Promise<void> {}

  async acquire(slot: number): Promise<FrameBuffer> {
    const layout = this.source.slots[slot].layout;
    for (;;) {
      if (this.failure) throw this.failure;
      if (
        this.handedOut[slot] - this.released[slot] >= layout.frameBuffers ||
        this.outstandingFrames() >= WINDOW_FRAMES_PER_STREAM * this.streams.length
      ) {
        await this.change(100);
        continue;
      }
      const aheadMs = this.link.nextFree - epochNow();
      if (aheadMs <= 0.05) break;
      await new Promise((r) => setTimeout(r, aheadMs));
    }
    const index = this.handedOut[slot]++ % layout.frameBuffers;
    return { slot, index, ptr: layout.framesPtr + index * layout.frameBytes, capacityBytes: layout.frameBytes };
  }

  setRate(bitsPerSec: number | null): void {
    this.link.setCap(bitsPerSec);
  }

  send(buffer: FrameBuffer, lengthBytes: number, lane?: number): void {
    const done = (): void => this.bufferWritten(buffer);
    if (this.failure || this.closingDown) return done();
    this.round = frameRound(this.views[buffer.slot], buffer.ptr);
    // A view of the frame buffer: the socket reads it in place.
    const frame = Buffer.from(this.source.slots[buffer.slot].memory.buffer, buffer.ptr, lengthBytes);
    // The device state as sent, for the MAC (a copy: the buffer is reused).
    if (frameType(this.views[buffer.slot], buffer.ptr) === FrameType.DeviceState)
      this.deviceState = Buffer.from(frame.subarray(HEADER_BYTES));
    if (this.injectFault(frame) === 'dropped') return done();
    this.link.occupy(lengthBytes, epochNow(), this.outstandingFrames() === 0);
    const n = this.streams.length;
    this.write(this.streams[lane === undefined ? this.nextStream++ % n : lane % n], frame, done);
  }

  /** Waits until every frame handed to the lane's stream so far is written to its socket. */
  private async laneWritten(lane: number): Promise<void> {
    const s = this.streams[lane % this.streams.length];
    const target = s.sentFrames;
    while (s.writtenFrames < target) {
      if (this.failure) throw this.failure;
      await this.change(100);
    }
  }

  /** A frame buffer's write has completed: buffers go back to the sender in the order they were handed out. */
  private bufferWritten(buffer: FrameBuffer): void {
    const written = this.written[buffer.slot];
    written[buffer.index] = 1;
    const n = written.length;
    while (this.released[buffer.slot] < this.handedOut[buffer.slot] && written[this.released[buffer.slot] % n] === 1) {
      written[this.released[buffer.slot] % n] = 0;
      this.released[buffer.slot]++;
    }
    this.wake();
  }

  /** Waits until the receiver acknowledged every frame sent; returns when the last ack came. */
  async drain(): Promise<number> {
    while (this.outstandingFrames() > 0) {
      if (this.failure) throw this.failure;
      await this.change(100);
    }
    if (this.failure) throw this.failure;
    // A frame leaves when its slot on the paced link starts and holds the link bytes / rate: the
    // last one has arrived no earlier than when its slot ends.
    return Math.max(this.lastAckMs, this.clock.fromEpochMs(this.link.nextFree));
  }

  bytesDelivered(): number {
    return this.streams.reduce((n, s) => n + s.ackedBytes, 0);
  }

  /**
   * Both hosts MAC their memory and the device state (src/wire/mac.ts) under a key drawn now, once
   * every frame is acknowledged: the source is suspended, the rounds over.
   */
  async verify(): Promise<string | null> {
    await this.drain();
    this.mac = undefined;
    const key = randomBytes(MAC_KEY_BYTES);
    const local = memoryMac(this.source, key, this.deviceState);
    local.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
    // Its count is every frame sent before it, on all streams: the receiver checks it got as many.
    const sent = this.streams.reduce((n, st) => n + st.sentFrames, 0);
    this.write(this.streams[0], this.controlFrame(FrameType.Verify, key, sent));
    const timeoutMs =
      MAC_TIMEOUT_MS +
      (MAC_TIMEOUT_MS_PER_GIB * (this.source.layout.pageCount * this.source.layout.pageSizeBytes)) / 2 ** 30;
    const deadline = performance.now() + timeoutMs;
    while (this.mac === undefined) {
      if (this.failure) throw this.failure;
      if (performance.now() > deadline)
        throw new ChannelError(
          `no ${MAC_NAME} of target memory from the receiver at ${this.address} within ${(timeoutMs / 1000).toFixed(0)} s`,
        );
      await this.change(100);
    }
    const mine = await local;
    return timingSafeEqual(mine, this.mac)
      ? null
      : `verification failed: the target's ${MAC_NAME} digest of memory and device state (keyed after the data was in) differs from the source's: ` +
          'pages or the device state were changed on the way or on the target';
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closingDown = true;
    clearInterval(this.watchdog);
    await this.handshake?.catch(() => undefined);
    await Promise.all(
      this.streams.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.socket.destroyed) return resolve();
            const timer = setTimeout(() => s.socket.destroy(), CLOSE_TIMEOUT_MS);
            s.socket.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            s.socket.end();
          }),
      ),
    );
    this.wake();
  }

  // ------------------------------------------------------------------------------------ internals

  private async openAll(): Promise<void> {
    const id = randomBytes(MIGRATION_ID_BYTES).toString('hex');
    const results = await Promise.allSettled(
      Array.from({ length: this.options.streams }, (_, i) => this.openStream(i, id)),
    );
    const opened = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      for (const s of opened) s.socket.destroy();
      throw failed.reason instanceof ChannelError ? failed.reason : new ChannelError(String(failed.reason));
    }
    this.streams = opened;
    for (const s of opened) this.attach(s);
  }

  private openStream(index: number, migrationId: string): Promise<Stream> {
    const layout = this.source.layout;
    return new Promise((resolve, reject) => {
      // With a token, TLS-PSK (src/wire/tls.ts): the stream is encrypted and authenticated.
      const { token } = this.options;
      const where = { host: this.options.target.host, port: this.options.target.port };
      const socket = token === null ? net.connect(where) : tls.connect({ ...where, ...tlsClientOptions(token) });
      let secured = token === null;
      let inbox = Buffer.alloc(0);
      const fail = (message: string): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(new ChannelError(message));
      };
      const timer = setTimeout(
        () => fail(`no handshake answer from the receiver at ${this.address} within ${HANDSHAKE_TIMEOUT_MS / 1000} s`),
        HANDSHAKE_TIMEOUT_MS,
      );
      socket.setNoDelay(true);
      socket.once(token === null ? 'connect' : 'secureConnect', () => {
        secured = true;
        socket.write(
          encodeHello({
            pageSizeBytes: layout.pageSizeBytes,
            ramBytes: layout.ramBytes,
            vcpus: this.options.vcpus,
            codecs: this.options.codecs,
            userCodecs: this.options.userCodecs ?? [],
            streamIndex: index,
            streamCount: this.options.streams,
            migrationId,
            token: this.options.token ?? '',
          }),
        );
      });
      socket.on('error', (e: NodeJS.ErrnoException) =>
        fail(
          !secured && (e.code ?? '').startsWith('ERR_SSL')
            ? `cannot migrate to the receiver at ${this.address}: ${explainTlsFailure(e.message)}`
            : `cannot migrate to the receiver at ${this.address}: ${e.message}`,
        ),
      );
      socket.on('close', () =>
        fail(
          secured
            ? `the receiver at ${this.address} closed stream ${index} during the handshake`
            : `the receiver at ${this.address} closed stream ${index} during the TLS handshake: the tokens differ, or it was started without --token`,
        ),
      );
      socket.on('data', (chunk: Buffer) => {
        inbox = Buffer.concat([inbox, chunk]);
        let decoded;
        try {
          decoded = decodeReply(inbox);
        } catch (e) {
          return fail(`the receiver at ${this.address} answered the handshake wrongly: ${(e as Error).message}`);
        }
        if (decoded === null) return;
        if (!decoded.reply.accepted)
          return fail(`the receiver at ${this.address} refused the migration: ${decoded.reply.reason}`);
        clearTimeout(timer);
        socket.removeAllListeners();
        resolve({
          index,
          socket,
          inbox: inbox.subarray(decoded.bytes),
          sentFrames: 0,
          sentBytes: 0,
          ackedFrames: 0,
          ackedBytes: 0,
          writtenFrames: 0,
          held: [],
        });
      });
    });
  }

  private attach(s: Stream): void {
    s.socket.on('data', (chunk: Buffer) => this.onFeedback(s, chunk));
    s.socket.on('error', (e: NodeJS.ErrnoException) =>
      this.fail(
        `stream ${s.index} to the receiver at ${this.address} failed in round ${this.round}: ${describeSocketError(e)}${this.faultNote}`,
      ),
    );
    s.socket.on('close', () => {
      if (!this.closingDown)
        this.fail(
          `the connection to the receiver at ${this.address} closed unexpectedly in round ${this.round} (stream ${s.index})${this.faultNote}`,
        );
    });
    if (s.inbox.length > 0) this.onFeedback(s, Buffer.alloc(0));
  }

  private onFeedback(s: Stream, chunk: Buffer): void {
    s.inbox = s.inbox.length === 0 ? chunk : Buffer.concat([s.inbox, chunk]);
    for (;;) {
      let decoded;
      try {
        decoded = decodeFeedback(s.inbox);
      } catch (e) {
        return this.fail(`the receiver at ${this.address} sent garbage: ${(e as Error).message}`);
      }
      if (decoded === null) return;
      s.inbox = s.inbox.subarray(decoded.bytes);
      const f = decoded.feedback;
      if (f.kind === 'error')
        return this.fail(`the receiver at ${this.address} rejected the migration in round ${this.round}: ${f.message}`);
      if (f.kind === 'mac') {
        this.mac = f.mac;
      } else if (f.kind === 'request') {
        if (!Number.isSafeInteger(f.page) || f.page >= this.source.layout.pageCount)
          return this.fail(`the receiver at ${this.address} requested page ${f.page}, past the guest's RAM`);
        this.requests.push(f.page);
      } else if (f.kind === 'postcopy-report') {
        try {
          this.postcopyReport = decodeReport(f.report);
        } catch (e) {
          return this.fail(`the receiver at ${this.address} sent a bad post-copy report: ${(e as Error).message}`);
        }
      } else {
        if (f.frames > s.sentFrames || f.bytes > s.sentBytes || f.frames < s.ackedFrames) {
          return this.fail(`the receiver at ${this.address} acknowledged frames that were not sent`);
        }
        s.ackedFrames = f.frames;
        s.ackedBytes = f.bytes;
        this.lastAckMs = this.clock.nowMs();
        this.lastProgressMs = performance.now();
      }
      this.wake();
    }
  }

  /** `done` runs once the socket has written the frame (or failed to: the buffer is free either way). */
  private write(s: Stream, frame: Buffer, done?: () => void): void {
    if (this.outstandingFrames() === 0) this.lastProgressMs = performance.now(); // the ack clock starts now
    s.sentFrames++;
    s.sentBytes += frame.length;
    const written = (): void => {
      s.writtenFrames++;
      done?.();
      this.wake();
    };
    if (this.stalled) s.held.push({ frame, done: written });
    else s.socket.write(frame, written);
  }

  /** The --fault, when the round it names begins. Returns 'dropped' when the frame is not to go. */
  private injectFault(frame: Buffer): 'dropped' | 'sent' {
    const f = this.options.fault;
    if (!f || this.firedFault || this.round < f.round) return 'sent';
    if (this.framesBeforeFault++ < (f.afterFrames ?? 0)) return 'sent';
    this.firedFault = true;
    this.faultNote = ` (injected fault ${describeFault(f)})`;
    switch (f.kind) {
      case 'drop':
        for (const s of this.streams) s.socket.destroy();
        return 'dropped';
      case 'corrupt':
        frame[frame.length > HEADER_BYTES ? frame.length - 1 : 24] ^= 0xff; // a body byte, or the checksum
        return 'sent';
      case 'kill-receiver':
        this.write(this.streams[0], this.controlFrame(FrameType.Kill));
        return 'sent';
      case 'stall':
        this.stalled = true;
        setTimeout(() => {
          this.stalled = false;
          for (const s of this.streams) {
            for (const { frame, done } of s.held.splice(0)) {
              if (s.socket.destroyed) done?.();
              else s.socket.write(frame, () => done?.());
            }
          }
        }, f.ms).unref();
        return 'sent';
    }
  }

  /** A frame of the driver's own (Verify with its key, Kill), checksummed as every frame is. */
  private controlFrame(type: FrameType, body: Uint8Array = new Uint8Array(0), count = 0): Buffer {
    const frame = Buffer.alloc(HEADER_BYTES + body.length);
    frame.set(body, HEADER_BYTES);
    // XXH64 by the kernel, over the body placed in the page-hash scratch (the rounds are over, or it is empty).
    const scratch = this.source.slots[0];
    new Uint8Array(scratch.memory.buffer, scratch.layout.hashesPtr, body.length).set(body);
    const checksum = this.source.kernels[0].hash64(scratch.layout.hashesPtr, body.length, 0n);
    writeFrameHeader(new DataView(frame.buffer, frame.byteOffset, HEADER_BYTES), 0, {
      type,
      count,
      bodyLengthBytes: body.length,
      round: this.round,
      checksum,
    });
    return frame;
  }

  private checkAcks(): void {
    const outstanding = this.outstandingFrames();
    const idleMs = performance.now() - this.lastProgressMs;
    if (outstanding > 0 && idleMs > this.ackTimeoutMs) {
      this.fail(
        `no acknowledgement from the receiver at ${this.address} for ${(idleMs / 1000).toFixed(1)} s with ${outstanding} frames outstanding in round ${this.round}${this.faultNote}`,
      );
    }
  }

  private outstandingFrames(): number {
    return this.streams.reduce((n, s) => n + s.sentFrames - s.ackedFrames, 0);
  }

  private fail(reason: string): void {
    if (this.failure || this.closingDown) return;
    this.failure = new ChannelError(reason);
    clearInterval(this.watchdog);
    for (const s of this.streams) s.socket.destroy();
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves on the next ack, failure or send, or after timeoutMs. */
  private change(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push(done);
    });
  }
}
