/**
 * The target host (`migbench receive`): listens, admits migrations one after another (one at a
 * time: a stream of another migration is refused while one runs), allocates each target memory
 * from its handshake, and reports each migration's own figures. A bad connection or migration is
 * closed with a clear message; the server keeps listening.
 */
import net from 'node:net';
import { loadKernelModule } from '../kernel/loader.js';
import { planGuestLayout, DEFAULT_FRAME_BUFFERS } from '../memory/layout.js';
import { GuestMemory } from '../memory/guest-memory.js';
import { tokenMatches, type Hello } from '../wire/handshake.js';
import { formatHostPort, isLoopback, type HostPort } from '../config/address.js';
import { Connection } from './connection.js';
import { short, TargetMigration, type MigrationSummary } from './target-migration.js';

export interface ReceiverOptions {
  listen: HostPort;
  token: string | null;
  /** Test-only: a Kill frame (the kill-receiver fault) makes onKill run. */
  allowKill?: boolean;
  onKill?: () => void;
  /** Per finished migration (completed or failed). */
  onMigration?: (summary: MigrationSummary) => void;
  /** A connection turned away before it joined a migration. */
  onRefused?: (peer: string, reason: string) => void;
  handshakeTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** All streams of a migration must have joined within this long of the first. */
  joinTimeoutMs?: number;
}

export class ReceiverError extends Error {}

export class ReceiverServer {
  // Half-open: a source that ends its side still hears why its migration failed.
  private readonly server = net.createServer({ allowHalfOpen: true });
  private readonly sockets = new Set<net.Socket>();
  private module?: WebAssembly.Module;
  private active?: TargetMigration;
  /** The last target memory, reused (zeroed) by a migration of the same shape: RSS stays flat. */
  private spare?: { key: string; memory: GuestMemory };

  constructor(private readonly options: ReceiverOptions) {
    if (!isLoopback(options.listen.host) && options.token === null) {
      throw new ReceiverError(`binding ${formatHostPort(options.listen)} (beyond loopback) needs --token`);
    }
  }

  /** Starts listening; resolves with the address (port 0 picks one). */
  async listen(): Promise<HostPort> {
    this.module = await loadKernelModule();
    this.server.on('connection', (socket) => this.accept(socket));
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
    this.active?.fail('the receiver is shutting down');
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    // eslint-disable-next-line no-new
    new Connection(
      socket,
      (hello) => this.admit(hello),
      (peer, reason) => this.options.onRefused?.(peer, reason),
      this.options.handshakeTimeoutMs ?? 10_000,
      this.options.idleTimeoutMs ?? 60_000,
    );
  }

  private admit(hello: Hello): { migration: TargetMigration } | { refused: string } {
    const token = this.options.token;
    if (token !== null && !tokenMatches(token, hello.token)) {
      return { refused: hello.token === '' ? 'this receiver needs a token (--token)' : 'wrong token' };
    }
    const active = this.active;
    if (active && !active.finished) {
      if (active.id !== hello.migrationId) return { refused: `busy with migration ${short(active.id)}; try again when it ends` };
      const why = active.refusal(hello);
      return why === null ? { migration: active } : { refused: why };
    }
    let memory: GuestMemory;
    try {
      memory = this.targetMemory(hello);
    } catch (e) {
      return { refused: `cannot allocate ${hello.ramBytes} bytes of target memory: ${e instanceof Error ? e.message : String(e)}` };
    }
    this.active = new TargetMigration(
      hello, memory, this.options.allowKill ?? false, () => this.options.onKill?.(),
      (summary) => {
        this.spare = { key: layoutKey(hello), memory };
        this.options.onMigration?.(summary);
      },
      this.options.joinTimeoutMs ?? 10_000,
    );
    return { migration: this.active };
  }

  /** Fresh target memory for the handshake's guest: the spare one zeroed, or a new one faulted in. */
  private targetMemory(hello: Hello): GuestMemory {
    const key = layoutKey(hello);
    const spare = this.spare;
    this.spare = undefined;
    if (spare && spare.key === key) {
      spare.memory.slots.forEach((s, i) => {
        spare.memory.pages(i).fill(0);
        new Uint8Array(s.memory.buffer, s.layout.bitmapPtr, s.layout.bitmapWords * 8).fill(0);
      });
      return spare.memory;
    }
    const layout = planGuestLayout(hello.ramBytes, hello.pageSizeBytes, undefined, Math.max(DEFAULT_FRAME_BUFFERS, hello.streamCount));
    const memory = GuestMemory.allocate(layout, this.module as WebAssembly.Module);
    // Faulted in before accepting, so first touches are not measured as the network (see README).
    for (const s of memory.slots) {
      const bytes = new Uint8Array(s.memory.buffer);
      for (let at = 0; at < bytes.length; at += 4096) bytes[at] = 0;
    }
    return memory;
  }
}

const layoutKey = (h: Hello): string => `${h.ramBytes}:${h.pageSizeBytes}:${Math.max(DEFAULT_FRAME_BUFFERS, h.streamCount)}`;
