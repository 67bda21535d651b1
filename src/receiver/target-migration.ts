/**
 * One migration on the receiver: the target memory allocated from the handshake, the streams that
 * joined it, and the frames they carry, each checked (header, checksum, then every page number and
 * length by the unpack kernel or the decoders) before a byte lands in target memory.
 */
import type { GuestMemory } from '../memory/guest-memory.js';
import { FrameReceiver, receiverDecoders } from '../channel/receiver.js';
import type { UserStrategyConfig } from '../util/user-file.js';
import { FrameError, FrameType, HEADER_BYTES, type FrameHeader } from '../wire/frame.js';
import { DESCRIPTOR_BYTES } from '../kernel/types.js';
import { MAC_KEY_BYTES, memoryMac } from '../wire/mac.js';
import type { Hello } from '../wire/handshake.js';
import type { Feedback } from '../wire/feedback.js';
import { decodeDiscard, encodeReport } from '../wire/postcopy.js';
import { decodeAdvise } from '../channel/postcopy-advise.js';
import { PostcopyTarget } from './postcopy-target.js';

export interface MigrationSummary {
  id: string;
  status: 'completed' | 'failed';
  reason?: string;
  ramBytes: number;
  streams: number;
  frames: number;
  pages: number;
  /** Frame bytes received, headers included. */
  bytes: number;
  /** From the first handshake to the last stream's close. */
  durationMs: number;
  /** When the end-of-migration frame arrived (the guest resumes here), from the first handshake. */
  resumedAtMs: number | null;
  /** The receiver process's resident memory when the migration ended. */
  rssBytes: number;
}

/** What a migration needs of a stream's connection. */
export interface StreamLink {
  /** Sends an error to the peer (if it still listens) and closes. */
  abort(message: string): void;
  /** Sends a message back to the source on this stream (post-copy's requests and report). */
  feedback(f: Feedback): void;
}

export class TargetMigration {
  readonly id: string;
  readonly hello: Hello;
  private readonly receiver: FrameReceiver;
  private readonly links: (StreamLink | undefined)[];
  private readonly ended: boolean[];
  private readonly startMs = performance.now();
  private frames = 0;
  private bytes = 0;
  private resumedAtMs: number | null = null;
  private done = false;
  /** The device state as it arrived, kept for the MAC. */
  private deviceState: Buffer | null = null;
  private verifyRequested = false;
  /** A byte per page: 1 once it arrived (a migration whose pages did not all come is not complete). */
  private readonly arrived: Uint8Array;
  private arrivedPages = 0;
  private joinTimer?: NodeJS.Timeout;
  private deadlineTimer?: NodeJS.Timeout;
  /** performance.now() once its target memory was ready and its streams accepted; null before. */
  private acceptedAtMs: number | null = null;
  /** (time, bytes received so far), one a second at most, the last 2 minutes of them (stalled()'s window). */
  private progress: Array<{ atMs: number; bytes: number }> = [];
  /** Post-copy: the guest that runs here after the switch-over, from the advise frame on. */
  private postcopy: PostcopyTarget | null = null;
  /** Resolves once the post-copy guest's vCPUs have stopped (quiesced()). */
  private stopped: Promise<void> = Promise.resolve();

  constructor(
    hello: Hello,
    readonly memory: GuestMemory,
    private readonly allowKill: boolean,
    private readonly onKill: () => void,
    private readonly onDone: (summary: MigrationSummary) => void,
    joinTimeoutMs: number,
    /** Resolves once the target memory is ready (zero, faulted in): streams are accepted then. */
    readonly ready: Promise<void> = Promise.resolve(),
    /** The migration must end within this long of its first handshake, or it is dropped. */
    deadlineMs = Infinity,
    /** The receiver's codec files (receive --codec), when the source's chain names the same ones (ids 16, 17, ...). */
    userCodecs: readonly UserStrategyConfig[] = [],
  ) {
    this.id = hello.migrationId;
    this.hello = hello;
    const decoders = hello.codecs ? receiverDecoders(memory.slots, memory.kernels, userCodecs) : undefined;
    this.receiver = new FrameReceiver(memory.slots, memory.kernels, { verifyChecksums: true, decoders });
    this.arrived = new Uint8Array(memory.layout.pageCount);
    this.links = Array.from({ length: hello.streamCount }, () => undefined);
    this.ended = this.links.map(() => false);
    this.joinTimer = setTimeout(() => {
      const missing = this.links.filter((l) => l === undefined).length;
      this.fail(`${missing} of ${hello.streamCount} streams did not join within ${joinTimeoutMs / 1000} s`);
    }, joinTimeoutMs);
    this.joinTimer.unref();
    ready.then(
      () => {
        this.acceptedAtMs = performance.now();
        this.progress = [{ atMs: this.acceptedAtMs, bytes: 0 }];
      },
      () => undefined,
    );
    if (Number.isFinite(deadlineMs)) {
      this.deadlineTimer = setTimeout(() => {
        this.fail(
          `too slow: not complete ${(deadlineMs / 1000).toFixed(1)} s after its first handshake (the deadline for a guest of ${this.hello.ramBytes} bytes)`,
        );
      }, deadlineMs);
      this.deadlineTimer.unref();
    }
  }

  /** Why a stream with this HELLO may not join, or null. */
  refusal(h: Hello): string | null {
    if (this.done) return `migration ${short(h.migrationId)} has already ended`;
    if (
      h.ramBytes !== this.hello.ramBytes ||
      h.pageSizeBytes !== this.hello.pageSizeBytes ||
      h.streamCount !== this.hello.streamCount ||
      h.codecs !== this.hello.codecs ||
      h.userCodecs.join(',') !== this.hello.userCodecs.join(',')
    ) {
      return `stream ${h.streamIndex} disagrees with the first stream of migration ${short(h.migrationId)} on RAM, page size, codecs or stream count`;
    }
    if (this.links[h.streamIndex] !== undefined)
      return `stream ${h.streamIndex} of migration ${short(h.migrationId)} has already joined`;
    return null;
  }

  join(index: number, link: StreamLink): void {
    this.links[index] = link;
    if (this.links.every((l) => l !== undefined)) clearTimeout(this.joinTimer);
  }

  /** The frame buffer (in slot 0's memory) that stream `index` assembles its frames in. */
  frameBufferPtr(index: number): number {
    const l = this.memory.slots[0].layout;
    return l.framesPtr + index * l.frameBytes;
  }

  /** Largest frame body accepted: a frame buffer's room. */
  maxBodyBytes(): number {
    return this.memory.slots[0].layout.frameBytes - HEADER_BYTES;
  }

  /**
   * Receives the whole frame assembled in stream `index`'s buffer, its header checked as it came
   * in (Connection). Throws FrameError (or a codec's
   * RangeError, wrapped by FrameReceiver) on anything wrong; for a Verify frame, returns the MAC of
   * target memory and device state under its key, computed off the event loop.
   */
  receive(index: number, lengthBytes: number, header: FrameHeader): { type: FrameType; mac?: Promise<Buffer> } {
    const slot0 = this.memory.slots[0];
    const at = this.frameBufferPtr(index);
    const view = new DataView(slot0.memory.buffer);
    const { type, round } = header;
    let slot = 0;
    // A page frame belongs to the slot of its first page; FrameReceiver checks every page against it.
    if (type === FrameType.Pages && lengthBytes >= HEADER_BYTES + 8 && header.count > 0) {
      const page = view.getUint32(at + HEADER_BYTES, true);
      slot = Math.floor(page / this.memory.layout.pagesPerSlot);
      if (slot >= this.memory.slots.length) {
        throw new FrameError(
          `frame in round ${round} names page ${page}, past the RAM of ${this.memory.layout.pageCount} pages`,
        );
      }
    }
    // Raw pages go from slot 0's frame buffer straight into their slot. A codec frame of another
    // slot moves there first: xbzrle decodes in place only within one memory.
    let frame = { memory: slot0.memory, kernels: this.memory.kernels[0], ptr: at, lengthBytes };
    if (slot !== 0 && this.hello.codecs) {
      const target = this.memory.slots[slot];
      const ptr = target.layout.framesPtr + index * target.layout.frameBytes;
      new Uint8Array(target.memory.buffer).set(new Uint8Array(slot0.memory.buffer, at, lengthBytes), ptr);
      frame = { memory: target.memory, kernels: this.memory.kernels[slot], ptr, lengthBytes };
    }
    if (
      this.resumedAtMs !== null &&
      type !== FrameType.Verify &&
      type !== FrameType.Announce &&
      type !== FrameType.Kill &&
      // In post-copy, the pages the target lacks follow the end of migration.
      !(type === FrameType.Pages && this.postcopy !== null)
    ) {
      throw new FrameError(`a frame of type ${type} after the end of migration`);
    }
    if (type === FrameType.DeviceState && this.deviceState !== null)
      throw new FrameError(`a second device state frame in round ${round}`);
    if ((type === FrameType.PostcopyAdvise || type === FrameType.Discard) && this.deviceState !== null)
      throw new FrameError(`a post-copy frame of type ${type} after the device state`);
    if (type === FrameType.Discard && this.postcopy === null)
      throw new FrameError('a discard frame before the post-copy advise');
    if (type === FrameType.PostcopyAdvise && this.postcopy !== null) throw new FrameError('a second post-copy advise');
    if (type === FrameType.End) this.checkComplete();
    if (type === FrameType.Verify) this.checkVerify(lengthBytes, header.count);
    this.receiver.receive(slot, frame, header);
    const body = (): Uint8Array => new Uint8Array(slot0.memory.buffer, at + HEADER_BYTES, lengthBytes - HEADER_BYTES);
    if (type === FrameType.Pages) this.markArrived(view, at + HEADER_BYTES, header.count);
    if (type === FrameType.PostcopyAdvise) this.startPostcopy(body());
    if (type === FrameType.Discard) {
      const pc = this.postcopy as PostcopyTarget;
      decodeDiscard(body(), this.memory.layout.pageCount, (page) => pc.markMissing(page));
    }
    if (type === FrameType.DeviceState)
      this.deviceState = Buffer.from(
        new Uint8Array(slot0.memory.buffer, at + HEADER_BYTES, lengthBytes - HEADER_BYTES),
      );
    this.frames++;
    this.bytes += lengthBytes;
    this.noteProgress();
    if (type === FrameType.End) {
      this.resumedAtMs = performance.now() - this.startMs; // the guest runs here from now on
      this.postcopy?.resume();
    }
    if (type === FrameType.Verify) {
      const key = Buffer.from(new Uint8Array(slot0.memory.buffer, at + HEADER_BYTES, MAC_KEY_BYTES));
      const pc = this.postcopy;
      if (pc === null) return { type, mac: memoryMac(this.memory, key, this.deviceState as Buffer) };
      // Post-copy: the guest stops, its report goes first, then the MAC of what the source sent.
      const mac = pc.finish().then((report) => {
        this.links[0]?.feedback({ kind: 'postcopy-report', report: encodeReport(report) });
        return memoryMac(this.memory, key, this.deviceState as Buffer);
      });
      return { type, mac };
    }
    if (type === FrameType.Kill) {
      if (!this.allowKill) throw new FrameError('a kill frame, but this receiver was not started with --allow-kill');
      this.onKill();
    }
    return { type };
  }

  private noteProgress(): void {
    const now = performance.now();
    const last = this.progress[this.progress.length - 1];
    if (last !== undefined && now - last.atMs < 1000) return;
    this.progress.push({ atMs: now, bytes: this.bytes });
    if (this.progress.length > 120) this.progress.shift();
  }

  /**
   * Stalled: accepted at least `windowMs` ago and fewer than MIN_PROGRESS_BYTES received over the
   * last `windowMs`, at most 2 minutes (a silent claim, or one frame now and then). A stalled migration gives its slot
   * up to a source that waits for one (ReceiverServer); the reason says what it made.
   */
  stalled(windowMs: number, now = performance.now()): string | null {
    if (this.done || this.acceptedAtMs === null || now - this.acceptedAtMs < windowMs) return null;
    // The bytes at the window's start: the last sample at or before it.
    let before = 0;
    for (const p of this.progress) if (p.atMs <= now - windowMs) before = p.bytes;
    const made = this.bytes - before;
    if (made >= MIN_PROGRESS_BYTES) return null;
    return `${made} bytes in the last ${(windowMs / 1000).toFixed(0)} s`;
  }

  /**
   * The post-copy advise: from here on the guest will run on this host (its vCPUs start now,
   * parked until the end of migration), and arrivals are tracked for them.
   */
  private startPostcopy(body: Uint8Array): void {
    if (this.memory.procedural) throw new FrameError('post-copy into a procedural target memory is not supported');
    const advised = decodeAdvise(body, this.hello);
    this.postcopy = new PostcopyTarget(this.memory, advised, (page) =>
      this.links[0]?.feedback({ kind: 'request', page }),
    );
    this.receiver.trackArrivals = true;
  }

  /** Pages of a checked frame (its descriptors name them, u32 global page number first) have arrived. */
  private markArrived(view: DataView, descriptorsAt: number, count: number): void {
    for (let i = 0; i < count; i++) {
      const page = view.getUint32(descriptorsAt + i * DESCRIPTOR_BYTES, true);
      this.postcopy?.arrived(page);
      if (this.arrived[page] === 0) {
        this.arrived[page] = 1;
        this.arrivedPages++;
      }
    }
  }

  /**
   * The end of migration: every page arrived at least once, and the device state. In post-copy
   * the guest resumes with pages missing: those are checked at the verify request.
   */
  private checkComplete(): void {
    const pages = this.memory.layout.pageCount;
    if (this.arrivedPages < pages && this.postcopy === null) {
      throw new FrameError(
        `end of migration with ${pages - this.arrivedPages} of ${pages} pages never sent: the migration is not complete`,
      );
    }
    if (this.deviceState === null)
      throw new FrameError('end of migration without the device state: the migration is not complete');
  }

  /**
   * One verify request per migration, with its key, once the migration has ended (its End frame),
   * counting every frame the source sent before it: a frame lost or added on the way fails it.
   */
  private checkVerify(lengthBytes: number, count: number): void {
    if (this.verifyRequested) throw new FrameError('a second verify request: one per migration');
    this.verifyRequested = true;
    if (lengthBytes - HEADER_BYTES !== MAC_KEY_BYTES)
      throw new FrameError(
        `a verify frame carries a ${MAC_KEY_BYTES}-byte key, not ${lengthBytes - HEADER_BYTES} bytes`,
      );
    if (this.deviceState === null)
      throw new FrameError('a verify request before the device state: the migration is not complete');
    if (this.resumedAtMs === null)
      throw new FrameError('a verify request before the end of migration: the migration is not complete');
    if (this.postcopy !== null && (this.postcopy.pagesMissing > 0 || this.arrivedPages < this.memory.layout.pageCount))
      throw new FrameError(
        `a verify request with ${this.postcopy.pagesMissing} post-copy pages missing and ${this.memory.layout.pageCount - this.arrivedPages} never sent: the migration is not complete`,
      );
    if (count !== this.frames)
      throw new FrameError(
        `the verify request counts ${count} frames sent before it, but ${this.frames} arrived: frames were lost or added on the way`,
      );
  }

  /** A stream ended cleanly on the source's side (after the end of migration, or it is truncated). */
  streamEnded(index: number, partialFrameBytes: number): void {
    if (this.done) return;
    if (partialFrameBytes > 0)
      return this.fail(
        `truncated stream: stream ${index} closed inside a frame (${partialFrameBytes} bytes of it received)`,
      );
    if (this.resumedAtMs === null)
      return this.fail(`truncated stream: stream ${index} closed before the end of migration`);
    if (this.postcopy !== null && this.postcopy.pagesMissing > 0)
      return this.fail(`truncated stream: stream ${index} closed in post-copy`);
    this.ended[index] = true;
    if (this.ended.every(Boolean)) this.finish();
  }

  /** Ends the migration as failed: every stream is told why and closed. */
  fail(reason: string): void {
    if (this.done) return;
    this.done = true;
    const pc = this.postcopy;
    if (pc !== null) {
      // Past the resume the guest ran here: with pages still on the source, neither host has it whole.
      if (pc.resumed && pc.pagesMissing > 0)
        reason += `; the guest ran here in post-copy with ${pc.pagesMissing.toLocaleString('en-US')} pages still on the source: it is lost (QEMU would pause it, postcopy-paused, until the source reconnects)`;
      this.stopped = pc.stop().then(noop, noop);
    }
    clearTimeout(this.joinTimer);
    clearTimeout(this.deadlineTimer);
    for (const l of this.links) l?.abort(reason);
    this.onDone(this.summary('failed', reason));
  }

  get finished(): boolean {
    return this.done;
  }

  /** Resolves once no thread of this migration touches its memory (a post-copy guest's vCPUs have stopped). */
  quiesced(): Promise<void> {
    return this.stopped;
  }

  private finish(): void {
    this.done = true;
    if (this.postcopy) this.stopped = this.postcopy.stop().then(noop, noop);
    clearTimeout(this.joinTimer);
    clearTimeout(this.deadlineTimer);
    this.onDone(this.summary('completed'));
  }

  private summary(status: MigrationSummary['status'], reason?: string): MigrationSummary {
    return {
      id: this.id,
      status,
      ...(reason === undefined ? {} : { reason }),
      ramBytes: this.hello.ramBytes,
      streams: this.hello.streamCount,
      frames: this.frames,
      pages: this.receiver.counts.pages,
      bytes: this.bytes,
      durationMs: performance.now() - this.startMs,
      resumedAtMs: this.resumedAtMs,
      rssBytes: process.memoryUsage().rss,
    };
  }
}

/**
 * The progress a migration must make while another source waits for its slot: 1 MiB (one frame)
 * per PROGRESS_WINDOW_MS. A source on the slowest link kept (1 Mbit/s) sends 3.75 MB in 30 s.
 */
export const MIN_PROGRESS_BYTES = 1024 * 1024;
export const PROGRESS_WINDOW_MS = 30_000;

export const short = (id: string): string => id.slice(0, 8);

const noop = (): void => {};
