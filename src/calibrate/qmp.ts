/**
 * A QMP client (QEMU's machine protocol: one JSON object per line over a Unix socket): connect
 * with a bounded wait, negotiate capabilities, run commands one at a time, and keep the events
 * QEMU sends between them, each stamped with this host's monotonic clock.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface QmpEvent {
  /** performance.now() when it arrived, ms. */
  atMs: number;
  event: string;
  data?: unknown;
  /** QEMU's own timestamp (host wall clock). */
  timestamp?: { seconds: number; microseconds: number };
}

export class QmpError extends Error {
  override readonly name = 'QmpError';
}

export class Qmp {
  readonly events: QmpEvent[] = [];
  private buffer = '';
  private waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void } | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed: Error | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    const end = (e?: Error): void => {
      this.closed = e ?? new QmpError('the QMP connection closed (QEMU exited?)');
      this.waiting?.reject(this.closed);
      this.waiting = null;
    };
    socket.on('error', end);
    socket.on('close', () => end());
  }

  /**
   * Connects to QEMU's QMP socket, waiting for it up to `timeoutMs`, and negotiates; `gone` says
   * why waiting is pointless (QEMU exited), and that is thrown at once.
   */
  static async connect(path: string, timeoutMs = 30_000, gone: () => string | null = () => null): Promise<Qmp> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const why = gone();
      if (why !== null) throw new QmpError(why);
      try {
        const socket = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.createConnection(path);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        const qmp = new Qmp(socket);
        const greeting = (await qmp.next(timeoutMs)) as { QMP?: unknown };
        if (greeting.QMP === undefined) throw new QmpError(`unexpected QMP greeting: ${JSON.stringify(greeting)}`);
        await qmp.cmd('qmp_capabilities');
        return qmp;
      } catch (e) {
        if (e instanceof QmpError || performance.now() > deadline) throw e;
        await sleep(50);
      }
    }
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line === '') continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (typeof msg.event === 'string') {
        this.events.push({
          atMs: performance.now(),
          event: msg.event,
          data: msg.data,
          timestamp: msg.timestamp as QmpEvent['timestamp'],
        });
        continue;
      }
      const w = this.waiting;
      this.waiting = null;
      w?.resolve(msg);
    }
  }

  /** The next reply (not an event), within `timeoutMs`. */
  private next(timeoutMs: number): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        reject(new QmpError(`QEMU did not answer on QMP within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  /** Runs a command and returns its `return`; a QMP error throws (unless `check` is false: then it is returned). */
  cmd<T = unknown>(execute: string, args?: Record<string, unknown>, check = true, timeoutMs = 30_000): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.closed) throw this.closed;
      const reply = this.next(timeoutMs);
      this.socket.write(`${JSON.stringify(args === undefined ? { execute } : { execute, arguments: args })}\n`);
      const r = (await reply) as { return?: T; error?: { class: string; desc: string } };
      if (r.error !== undefined) {
        if (check) throw new QmpError(`QMP ${execute} failed: ${r.error.desc}`);
        return { error: r.error } as T;
      }
      return r.return as T;
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  close(): void {
    this.socket.destroy();
  }
}
