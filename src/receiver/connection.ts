/**
 * One TCP connection on the receiver: a streaming parser that reads the HELLO, asks the server to
 * admit it into a migration, then assembles frames straight into the stream's frame buffer in
 * target memory — the header first, checked (magic, version, type, body length against the
 * buffer's room) before a byte of the body is taken — hands each whole frame to the migration and
 * acknowledges it. Any error closes this connection (and its migration) with a message to the peer.
 */
import type net from 'node:net';
import { HEADER_BYTES, parseFrameHeader, type FrameHeader } from '../wire/frame.js';
import { decodeHello, encodeReply, HandshakeError, helloLength, type Hello } from '../wire/handshake.js';
import { encodeFeedback, type Feedback } from '../wire/feedback.js';
import type { StreamLink, TargetMigration } from './target-migration.js';

/** A stream's admission: a migration to join, or why not. */
export type Admitted = { migration: TargetMigration } | { refused: string };
/** The server's side of admitting a stream: admitted now, or a wait for a slot (cancelled if the stream goes first). */
export type Admit = (hello: Hello) => Admitted | { wait: Promise<Admitted>; cancel: () => void };

export class Connection implements StreamLink {
  /**
   * `queued`: its handshake waits for a free slot (the receiver is busy); `joining`: admitted,
   * waiting for the target memory to be ready before it accepts.
   */
  private state: 'hello' | 'queued' | 'joining' | 'frames' | 'closed' = 'hello';
  private cancelWait?: () => void;
  private helloBytes = Buffer.alloc(0);
  /** Bytes that came after the HELLO while joining, taken once the stream is accepted. */
  private early = Buffer.alloc(0);
  /** The source ended its side while joining (a paused socket still ends): handled on accept. */
  private endedEarly = false;
  private migration?: TargetMigration;
  private index = 0;
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerView = new DataView(this.header.buffer, this.header.byteOffset, HEADER_BYTES);
  private headerFilled = 0;
  private bodyBytes = 0;
  /** The current frame's header, checked once its 32 bytes are in. */
  private frameHeader?: FrameHeader;
  private bodyFilled = 0;
  private target?: Uint8Array;
  private frames = 0;
  private bytes = 0;
  /** Running while a frame is partly in: a frame must be whole within frameTimeoutMs of its first byte. */
  private frameTimer?: NodeJS.Timeout;

  constructor(
    private readonly socket: net.Socket,
    private readonly admit: Admit,
    /** A connection turned away before it joined a migration (bad handshake, token, ...). */
    private readonly onRefused: (peer: string, reason: string) => void,
    handshakeTimeoutMs: number,
    idleTimeoutMs: number,
    /** The slowest sender kept: a frame (1 MiB at most) must arrive whole within this long. */
    private readonly frameTimeoutMs: number,
  ) {
    socket.setNoDelay(true);
    const handshakeTimer = setTimeout(
      () => this.refuse(`no handshake within ${handshakeTimeoutMs / 1000} s`),
      handshakeTimeoutMs,
    );
    handshakeTimer.unref();
    socket.setTimeout(idleTimeoutMs, () => this.error(`stream idle for ${idleTimeoutMs / 1000} s`));
    socket.on('data', (chunk: Buffer) => {
      try {
        this.onData(chunk);
        if (this.state !== 'hello') clearTimeout(handshakeTimer);
      } catch (e) {
        clearTimeout(handshakeTimer);
        const message = e instanceof Error ? e.message : String(e);
        if (this.state === 'hello') this.refuse(message);
        else this.error(message);
      }
    });
    socket.on('end', () => {
      clearTimeout(handshakeTimer);
      this.onEnd();
    });
    socket.on('error', () => undefined); // 'close' follows; a reset peer is reported there
    socket.on('close', () => {
      clearTimeout(this.frameTimer);
      clearTimeout(handshakeTimer);
      if (this.state === 'frames' || this.state === 'joining') this.error('connection reset by the source');
      if (this.state === 'queued') this.cancelWait?.();
      this.state = 'closed';
    });
  }

  /** The migration gave up: tell the peer why, and close. */
  abort(message: string): void {
    if (this.state === 'closed') return;
    // A stream not yet accepted waits for the handshake's answer: it gets a refusal.
    const answer =
      this.state === 'joining'
        ? encodeReply({ accepted: false, reason: message })
        : encodeFeedback({ kind: 'error', message });
    this.state = 'closed';
    this.socket.end(answer);
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  feedback(f: Feedback): void {
    if (this.state === 'frames') this.socket.write(encodeFeedback(f));
  }

  private get peer(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'hello') {
      this.helloBytes = Buffer.concat([this.helloBytes, chunk]);
      const total = helloLength(this.helloBytes); // throws on a wrong magic or version at once
      if (total === null || this.helloBytes.length < total) return;
      chunk = this.helloBytes.subarray(total);
      this.handshake(decodeHello(this.helloBytes.subarray(0, total)));
    }
    if (this.state === 'joining' || this.state === 'queued') {
      this.early = Buffer.concat([this.early, chunk]);
      return;
    }
    let off = 0;
    while (off < chunk.length && this.state === 'frames') off += this.take(chunk, off);
  }

  private handshake(hello: Hello): void {
    const admitted = this.admit(hello);
    if ('wait' in admitted) {
      // The receiver is busy: the answer waits for a slot (the source waits for it too).
      this.state = 'queued';
      this.socket.pause();
      this.cancelWait = admitted.cancel;
      void admitted.wait.then((a) => {
        this.cancelWait = undefined;
        if (this.state !== 'queued') return; // closed meanwhile: a slot taken for it times out its join
        if ('refused' in a) this.refuse(a.refused);
        else this.joined(a.migration, hello);
      });
      return;
    }
    if ('refused' in admitted) throw new HandshakeError(admitted.refused);
    this.joined(admitted.migration, hello);
  }

  private joined(m: TargetMigration, hello: Hello): void {
    this.migration = m;
    this.index = hello.streamIndex;
    m.join(this.index, this); // from now on, the migration failing closes this stream too
    this.state = 'joining';
    this.socket.pause(); // a source sends no frame before the answer; anything early waits in `early`
    m.ready.then(
      () => this.accept(),
      (e: unknown) => m.fail(`the target memory could not be set up: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  /** The source ended its side of the stream. */
  private onEnd(): void {
    if (this.state === 'joining' || this.state === 'queued') {
      this.endedEarly = true;
    } else if (this.state === 'frames' && this.migration) {
      this.migration.streamEnded(this.index, this.headerFilled + this.bodyFilled); // may abort() this connection
      if (this.state === 'frames') {
        this.state = 'closed';
        this.socket.end();
      }
    } else if (this.state === 'hello') {
      this.refuse(`closed during the handshake (${this.helloBytes.length} bytes of it received)`);
    }
  }

  /** The target memory is ready: answer the handshake, then take frames. */
  private accept(): void {
    if (this.state !== 'joining') return; // closed meanwhile
    this.target = new Uint8Array((this.migration as TargetMigration).memory.slots[0].memory.buffer);
    this.state = 'frames';
    this.socket.write(encodeReply({ accepted: true, reason: '' }));
    const early = this.early;
    this.early = Buffer.alloc(0);
    this.socket.resume();
    try {
      if (early.length > 0) this.onData(early);
    } catch (e) {
      this.error(e instanceof Error ? e.message : String(e));
    }
    if (this.endedEarly) this.onEnd();
  }

  /** Takes bytes of the current frame from chunk[off..]; returns how many. */
  private take(chunk: Buffer, off: number): number {
    const m = this.migration as TargetMigration;
    const at = m.frameBufferPtr(this.index);
    const target = this.target as Uint8Array;
    if (this.headerFilled < HEADER_BYTES) {
      if (this.headerFilled === 0) this.startFrameTimer();
      const n = Math.min(HEADER_BYTES - this.headerFilled, chunk.length - off);
      chunk.copy(this.header, this.headerFilled, off, off + n);
      this.headerFilled += n;
      if (this.headerFilled === HEADER_BYTES) {
        // Checked before the body is read: a body longer than the buffer is refused, not buffered.
        const h = parseFrameHeader(this.headerView, 0, HEADER_BYTES + m.maxBodyBytes(), m.maxBodyBytes());
        this.frameHeader = h;
        target.set(this.header, at);
        this.bodyBytes = h.bodyLengthBytes;
        this.bodyFilled = 0;
        if (this.bodyBytes === 0) this.complete();
      }
      return n;
    }
    const n = Math.min(this.bodyBytes - this.bodyFilled, chunk.length - off);
    target.set(chunk.subarray(off, off + n), at + HEADER_BYTES + this.bodyFilled);
    this.bodyFilled += n;
    if (this.bodyFilled === this.bodyBytes) this.complete();
    return n;
  }

  /** A frame began: it must be whole in time, or the sender is too slow and the migration is dropped. */
  private startFrameTimer(): void {
    clearTimeout(this.frameTimer);
    this.frameTimer = setTimeout(() => {
      const got = this.headerFilled + this.bodyFilled;
      const of =
        this.headerFilled < HEADER_BYTES
          ? `${got} bytes of its header`
          : `${got} of its ${HEADER_BYTES + this.bodyBytes} bytes`;
      this.error(
        `too slow: a frame begun ${this.frameTimeoutMs / 1000} s ago has ${of} (a frame must arrive within ${this.frameTimeoutMs / 1000} s)`,
      );
    }, this.frameTimeoutMs);
    this.frameTimer.unref();
  }

  private complete(): void {
    clearTimeout(this.frameTimer);
    const m = this.migration as TargetMigration;
    const length = HEADER_BYTES + this.bodyBytes;
    this.headerFilled = 0;
    this.bodyFilled = 0;
    const r = m.receive(this.index, length, this.frameHeader as FrameHeader);
    this.frames++;
    this.bytes += length;
    if (this.state !== 'frames') return;
    this.socket.write(encodeFeedback({ kind: 'ack', frames: this.frames, bytes: this.bytes }));
    r.mac?.then(
      (mac) => {
        if (this.state === 'frames') this.socket.write(encodeFeedback({ kind: 'mac', mac }));
      },
      (e: unknown) => this.error(`the MAC of target memory failed: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  private refuse(reason: string): void {
    if (this.state !== 'hello' && this.state !== 'queued') return;
    this.state = 'closed';
    this.onRefused(this.peer, reason);
    this.socket.end(encodeReply({ accepted: false, reason }));
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** A frame or the stream went wrong: the whole migration fails (the source learns why). */
  private error(message: string): void {
    if (this.state !== 'frames' && this.state !== 'joining') return;
    // Failing the migration aborts every stream of it, this one included, telling the peer why.
    (this.migration as TargetMigration).fail(`stream ${this.index}: ${message}`);
  }
}
