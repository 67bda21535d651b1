/**
 * The target host (`migbench receive`): listens, admits migrations one after another (one at a
 * time: a stream of another migration is refused while one runs), allocates each target memory
 * from its handshake, and reports each migration's own figures. A bad connection or migration is
 * closed with a clear message; the server keeps listening.
 */
import { InputError } from '../util/errors.js';
import net from 'node:net';
import tls from 'node:tls';
import { loadKernelModule } from '../kernel/loader.js';
import { planGuestLayout, DEFAULT_FRAME_BUFFERS, type GuestLayout } from '../memory/layout.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import { memoryPool } from '../memory/pool.js';
import { memoryAvailable, targetNeedBytes } from '../memory/admission.js';
import { preloadUserCodecs, userCodec } from '../codec/user-codec.js';
import type { UserStrategyConfig } from '../util/user-file.js';
import { setUpMemories } from '../memory/setup.js';
import { formatBytes } from '../util/format.js';
import { tokenMatches, type Hello } from '../wire/handshake.js';
import { formatHostPort, resolvesToLoopback, type HostPort } from '../wire/address.js';
import { tlsServerOptions } from '../wire/tls.js';
import { Connection, type Admit, type Admitted } from './connection.js';
import {
  MIN_PROGRESS_BYTES,
  PROGRESS_WINDOW_MS,
  short,
  TargetMigration,
  type MigrationSummary,
} from './target-migration.js';

export interface ReceiverOptions {
  listen: HostPort;
  token: string | null;
  /** Guests larger than this many bytes of RAM are refused; null: any guest whose memory fits. */
  maxRamBytes?: number | null;
  /** Test-only: a Kill frame (the kill-receiver fault) makes onKill run. */
  allowKill?: boolean;
  /** Codec files this receiver decodes (receive --codec), imported at start; their names, in order, must be the source's. */
  userCodecs?: UserStrategyConfig[];
  onKill?: () => void;
  /** Per finished migration (completed or failed). */
  onMigration?: (summary: MigrationSummary) => void;
  /** A connection turned away before it joined a migration. */
  onRefused?: (peer: string, reason: string) => void;
  handshakeTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** All streams of a migration must have joined within this long of the first. */
  joinTimeoutMs?: number;
  /** A frame must arrive whole within this long of its first byte (default 10 s: 1 MiB at 0.84 Mbit/s). */
  frameTimeoutMs?: number;
  /** A migration must end within this long of its first handshake; default migrationDeadlineMs(RAM). */
  migrationDeadlineMs?: number;
  /** Migrations taken at once, each with its own target memory (default 1: one after another). */
  maxMigrations?: number;
  /** Connections open at once, handshaken or not (default MAX_OPEN_CONNECTIONS). */
  maxConnections?: number;
  /** How long a handshake waits for a slot before it is refused as busy (default QUEUE_WAIT_MS). */
  queueWaitMs?: number;
  /** The window over which a migration must make progress while a source waits (default PROGRESS_WINDOW_MS). */
  progressWindowMs?: number;
}

/**
 * A handshake that finds every slot taken waits this long for one, first come first served, then
 * is refused as busy: under the source's 30 s wait for its answer (src/channel/tcp.ts). Sources
 * that claim a slot and drop it again queue behind those that waited.
 */
export const QUEUE_WAIT_MS = 20_000;
/** Handshakes waiting at once; more are refused as busy at once. */
const MAX_WAITING = 64;

interface Waiter {
  hello: Hello;
  sinceMs: number;
  resolve: (a: Admitted) => void;
}

/**
 * Connections open at once by default: every stream of 16 migrations of 16 streams, and as many
 * again waiting for their handshake. Past it, the oldest connection that has not yet sent its
 * handshake is dropped for the new one (a source sends its handshake at once; an idle or flooding
 * peer does not), so file descriptors stay bounded and a real source still gets in.
 */
export const MAX_OPEN_CONNECTIONS = 512;
/** Refusal lines printed per window at most; the rest are counted and summed up in one line. */
const REFUSALS_PER_WINDOW = 10;
const REFUSAL_WINDOW_MS = 10_000;

/**
 * How long a migration of `ramBytes` may take on this receiver, which does not know the link: 10
 * minutes, plus four passes over the RAM at 1 MB/s (1 GiB: 81.6 minutes in all). A sender slower
 * than that is dropped with a reason.
 */
export function migrationDeadlineMs(ramBytes: number): number {
  return 10 * 60_000 + ((4 * ramBytes) / 1e6) * 1000;
}

export class ReceiverError extends InputError {}

export class ReceiverServer {
  /**
   * Half-open: a source that ends its side still hears why its migration failed. With a token,
   * TLS-PSK (src/wire/tls.ts): a stream is a migration's once its TLS handshake is done.
   */
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /** Every open connection, oldest first, by peer address and port (src: opened()). */
  private readonly open = new Map<string, { socket: net.Socket; handshaken: boolean }>();
  private refusals = { since: 0, shown: 0, dropped: 0 };
  private module?: WebAssembly.Module;
  /** The names of this receiver's codec files, in order (listen() imports them). */
  private userCodecNames: string[] = [];
  /** Target memory of admitted migrations still being set up (not yet resident), bytes, by id. */
  private readonly settingUp = new Map<string, number>();
  /** Migrations under way, by id: at most maxMigrations at once. */
  private readonly active = new Map<string, TargetMigration>();
  /** The last migrations that ended (a stream of one that comes late is refused, not a new migration). */
  private readonly ended: string[] = [];
  /** Handshakes waiting for a slot, oldest first (streams of one migration each wait). */
  private waiting: Waiter[] = [];
  /** Runs while handshakes wait: stalled migrations give their slots up, waits time out. */
  private waitTimer?: NodeJS.Timeout;

  constructor(private readonly options: ReceiverOptions) {
    this.server =
      options.token === null
        ? net.createServer({ allowHalfOpen: true })
        : tls.createServer({
            allowHalfOpen: true,
            ...tlsServerOptions(options.token, options.handshakeTimeoutMs ?? 10_000),
          });
  }

  /**
   * Starts listening; resolves with the address (port 0 picks one). Beyond loopback (decided on
   * what the host resolves to) it needs a token: a ReceiverError says so.
   */
  async listen(): Promise<HostPort> {
    if (this.options.token === null && !(await resolvesToLoopback(this.options.listen.host))) {
      throw new ReceiverError(
        `binding ${formatHostPort(this.options.listen)} (beyond loopback: it does not resolve to 127.0.0.0/8 or ::1 only) needs --token`,
      );
    }
    this.module = await loadKernelModule();
    // Codec files: imported now (a bad one fails the start), their names what sources must name.
    const files = this.options.userCodecs ?? [];
    await preloadUserCodecs(files);
    this.userCodecNames = files.map((spec, i) => userCodec(spec, i).name);
    // 'connection' is every TCP connection, TLS or not, before anything is read from it.
    if (this.options.token === null)
      this.server.on('connection', (socket: net.Socket) => {
        if (this.opened(socket)) this.accept(socket);
      });
    else {
      this.server.on('connection', (raw: net.Socket) => this.opened(raw));
      this.server.on('secureConnection', (socket: tls.TLSSocket) => this.accept(socket));
      // A connection that never became TLS: a wrong token, a plain source, a scanner.
      this.server.on('tlsClientError', (e: NodeJS.ErrnoException, socket: tls.TLSSocket) =>
        this.refused(
          `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
          `TLS handshake failed${e.code ? ` (${e.code})` : ''}: a wrong token, or a source without --token`,
        ),
      );
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.listen.port, this.options.listen.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const a = this.server.address() as net.AddressInfo;
    return { host: a.address, port: a.port };
  }

  /** Stops listening and ends what runs (its migration fails). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    clearInterval(this.waitTimer);
    for (const w of this.waiting.splice(0)) w.resolve({ refused: 'the receiver is shutting down' });
    for (const m of this.active.values()) m.fail('the receiver is shutting down');
    for (const s of this.sockets) s.destroy();
    // Connections not yet handed over (a TLS handshake under way, half-open) end too.
    for (const o of this.open.values()) o.socket.destroy();
    await closed;
  }

  /**
   * Every connection as it opens (TCP, before any TLS): bounded, the oldest without a handshake
   * dropped first. Keyed by peer address and port, which the TLS socket over it shares.
   */
  private opened(raw: net.Socket): boolean {
    const key = `${raw.remoteAddress}:${raw.remotePort}`;
    const max = this.options.maxConnections ?? MAX_OPEN_CONNECTIONS;
    if (this.open.size >= max) {
      const oldest = [...this.open].find(([, o]) => !o.handshaken);
      if (oldest === undefined) {
        raw.destroy();
        this.refused(key, `over ${max} open connections, all of them in migrations`);
        return false;
      }
      oldest[1].socket.destroy();
      this.open.delete(oldest[0]);
      this.refused(oldest[0], `dropped without a handshake: ${max} connections were open and another came`);
    }
    this.open.set(key, { socket: raw, handshaken: false });
    raw.once('close', () => {
      if (this.open.get(key)?.socket === raw) this.open.delete(key);
    });
    return true;
  }

  /** A refusal to report, a few per window: a flood is summed up instead of printed line by line. */
  private refused(peer: string, reason: string): void {
    const now = performance.now();
    if (now - this.refusals.since > REFUSAL_WINDOW_MS) {
      if (this.refusals.dropped > 0)
        this.options.onRefused?.(
          'several peers',
          `${this.refusals.dropped} more connections refused in the last ${REFUSAL_WINDOW_MS / 1000} s (not listed)`,
        );
      this.refusals = { since: now, shown: 0, dropped: 0 };
    }
    if (this.refusals.shown < REFUSALS_PER_WINDOW) {
      this.refusals.shown++;
      this.options.onRefused?.(peer, reason);
    } else this.refusals.dropped++;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    // The connection lives on its socket's events.
    new Connection(
      socket,
      (hello) => {
        // A waiting handshake counts as handshaken: the bound on open connections drops it last.
        const admitted = this.admit(hello);
        const o = this.open.get(key);
        if (o && !('refused' in admitted)) o.handshaken = true;
        return admitted;
      },
      (peer, reason) => this.refused(peer, reason),
      this.options.handshakeTimeoutMs ?? 10_000,
      this.options.idleTimeoutMs ?? 60_000,
      this.options.frameTimeoutMs ?? 10_000,
    );
  }

  private admit(hello: Hello): ReturnType<Admit> {
    const token = this.options.token;
    if (token !== null && !tokenMatches(token, hello.token)) {
      return { refused: hello.token === '' ? 'this receiver needs a token (--token)' : 'wrong token' };
    }
    const joined = this.joinOrEnded(hello);
    if (joined !== null) return joined;
    // The source's codec files must be this receiver's, in the same order (their ids in frames).
    if (hello.userCodecs.join(',') !== this.userCodecNames.join(',')) {
      const mine =
        this.userCodecNames.length > 0
          ? `the codec files ${this.userCodecNames.join(', ')} (receive --codec)`
          : 'no codec files (receive --codec FILE,...)';
      if (hello.userCodecs.length > 0 || this.userCodecNames.length > 0) {
        return {
          refused: `the source's chain has ${hello.userCodecs.length > 0 ? `the codec files ${hello.userCodecs.join(', ')}` : 'no codec files'}; this receiver decodes ${mine}`,
        };
      }
    }
    // No slot, or earlier handshakes waiting for one: this one waits behind them.
    if (this.active.size >= this.maxMigrations || this.waiting.length > 0) {
      this.releaseStalled();
      if (this.active.size >= this.maxMigrations || this.waiting.some((w) => w.hello.migrationId !== hello.migrationId))
        return this.wait(hello);
    }
    return this.start(hello);
  }

  /** A stream of a migration under way joins it; one of a migration that ended is refused; else null. */
  private joinOrEnded(hello: Hello): Admitted | null {
    if (this.ended.includes(hello.migrationId))
      return { refused: `migration ${short(hello.migrationId)} has already ended` };
    const mine = this.active.get(hello.migrationId);
    if (mine === undefined) return null;
    const why = mine.refusal(hello);
    return why === null ? { migration: mine } : { refused: why };
  }

  private get maxMigrations(): number {
    return this.options.maxMigrations ?? 1;
  }

  private busy(): string {
    const max = this.maxMigrations;
    const ids = [...this.active.keys()].map(short).join(', ');
    return `busy with ${max === 1 ? 'migration' : `${this.active.size} migrations (--max-migrations ${max}):`} ${ids}; try again when one ends`;
  }

  /** Queues a handshake for a slot; every second, stalled migrations give theirs up and old waits end. */
  private wait(hello: Hello): ReturnType<Admit> {
    if (this.waiting.length >= MAX_WAITING) return { refused: this.busy() };
    let waiter: Waiter | undefined;
    const wait = new Promise<Admitted>((resolve) => {
      waiter = { hello, sinceMs: performance.now(), resolve };
    });
    this.waiting.push(waiter as Waiter);
    this.waitTimer ??= setInterval(() => {
      this.releaseStalled();
      const limit = this.options.queueWaitMs ?? QUEUE_WAIT_MS;
      const now = performance.now();
      for (const w of this.waiting.filter((w) => now - w.sinceMs >= limit)) {
        this.waiting.splice(this.waiting.indexOf(w), 1);
        w.resolve({ refused: `${this.busy()} (waited ${(limit / 1000).toFixed(0)} s for a slot)` });
      }
      this.serveWaiting();
    }, 1000);
    this.waitTimer.unref();
    return {
      wait,
      cancel: () => {
        const at = this.waiting.indexOf(waiter as Waiter);
        if (at >= 0) this.waiting.splice(at, 1);
        this.serveWaiting();
      },
    };
  }

  /**
   * While a source waits for a slot, a migration that has stalled (a claim that sends nothing, or
   * a frame now and then: less than a frame's worth in the progress window) gives its slot up, the
   * longest stalled first, one per waiting migration.
   */
  private releaseStalled(): void {
    const window = this.options.progressWindowMs ?? PROGRESS_WINDOW_MS;
    const wanted = new Set(this.waiting.map((w) => w.hello.migrationId)).size || 1;
    let freed = 0;
    for (const m of this.active.values()) {
      if (freed >= wanted || this.active.size < this.maxMigrations) break;
      const made = m.stalled(window);
      if (made === null) continue;
      m.fail(
        `released its slot: stalled (${made}, under ${MIN_PROGRESS_BYTES / 2 ** 20} MiB) while another source waited for one`,
      );
      freed++;
    }
  }

  /** Gives freed slots to the handshakes that waited, oldest first; streams of an admitted migration join it. */
  private serveWaiting(): void {
    for (const w of [...this.waiting]) {
      if (!this.active.has(w.hello.migrationId) && this.active.size >= this.maxMigrations) continue;
      this.waiting.splice(this.waiting.indexOf(w), 1);
      w.resolve(this.joinOrEnded(w.hello) ?? this.start(w.hello));
    }
    if (this.waiting.length === 0) {
      clearInterval(this.waitTimer);
      this.waitTimer = undefined;
    }
  }

  /** A new migration in a free slot: its target memory, set up off the event loop. */
  private start(hello: Hello): Admitted {
    const layout = planGuestLayout(
      hello.ramBytes,
      hello.pageSizeBytes,
      undefined,
      Math.max(DEFAULT_FRAME_BUFFERS, hello.streamCount),
    );
    const why = this.refusal(hello, layout);
    if (why !== null) return { refused: why };
    let memory: GuestMemory;
    try {
      [memory] = memoryPool.acquire([layout], this.module as WebAssembly.Module);
    } catch (e) {
      return {
        refused: `cannot allocate ${hello.ramBytes} bytes of target memory: ${e instanceof Error ? e.message : String(e)}`,
      };
    }
    // Zeroed (a reused memory) or faulted in (a new one) before any stream is accepted, so first
    // touches are not measured as the network (see docs/two-hosts.md); on the set-up threads, while this
    // event loop goes on serving (and refusing) other connections.
    const ready = setUpMemories({
      module: this.module as WebAssembly.Module,
      zero: [memory],
      mainThreadWorks: false,
    }).then(() => undefined);
    // Until its pages are faulted in, the host's available memory does not show this migration's:
    // the next admission counts it (several migrations at once, --max-migrations).
    this.settingUp.set(hello.migrationId, targetNeedBytes(layout));
    void ready.catch(() => undefined).then(() => this.settingUp.delete(hello.migrationId));
    const migration = new TargetMigration(
      hello,
      memory,
      this.options.allowKill ?? false,
      () => this.options.onKill?.(),
      (summary) => {
        this.active.delete(hello.migrationId);
        this.ended.push(hello.migrationId);
        if (this.ended.length > 64) this.ended.shift();
        // Back to the pool once set-up has let go of it too (a migration may fail during it). One
        // that comes back while every slot is taken again (a dropped claim whose set-up outlived
        // it, the next migration already in) has no one to serve: released for real, not kept
        // resident through the migrations that run meanwhile.
        // A post-copy guest's vCPUs must have stopped writing it too.
        void Promise.all([ready.catch(() => undefined), migration.quiesced()]).then(() => {
          memoryPool.release(memory);
          if (this.active.size >= this.maxMigrations) memoryPool.drain();
        });
        this.options.onMigration?.(summary);
        this.serveWaiting();
      },
      this.options.joinTimeoutMs ?? 10_000,
      ready,
      this.options.migrationDeadlineMs ?? migrationDeadlineMs(hello.ramBytes),
      hello.userCodecs.length > 0 ? (this.options.userCodecs ?? []) : [],
    );
    this.active.set(hello.migrationId, migration);
    return { migration };
  }

  /** Why a handshake's guest cannot be taken (--max-ram, or the memory this host has), or null. */
  private refusal(hello: Hello, layout: GuestLayout): string | null {
    const max = this.options.maxRamBytes ?? null;
    if (max !== null && hello.ramBytes > max) {
      return `a guest of ${formatBytes(hello.ramBytes)} is over this receiver's --max-ram ${formatBytes(max)}`;
    }
    const need = targetNeedBytes(layout);
    const pending = [...this.settingUp.values()].reduce((n, b) => n + b, 0);
    const available = memoryAvailable().bytes - pending;
    if (need > available) {
      return (
        `a guest of ${formatBytes(hello.ramBytes)} needs about ${formatBytes(need)} of target memory but ${formatBytes(Math.max(0, available))} is available on the receiver` +
        (pending > 0 ? ` (${formatBytes(pending)} of it is being taken by migrations setting up)` : '')
      );
    }
    return null;
  }
}
