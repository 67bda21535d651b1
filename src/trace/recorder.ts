/**
 * `migbench record`: a running program's memory as it changes, into a trace (format.ts).
 *
 * It reads the process's writable mappings through /proc/PID/mem (a child of this process, or any
 * process as root), so it needs no kernel support: changed pages are found by comparing, each
 * page's XXH64 (the wasm kernels' hashPages, at about 9 GB/s here) against the one of the last
 * snapshot. This kernel has no soft-dirty tracking (CONFIG_MEM_SOFT_DIRTY is off), so comparing is
 * the method on every machine for now, and the trace says so. A changed page is stored as its XOR
 * against the page as last read (format.ts), which needs that copy: the recorder holds the
 * recorded memory once, plus 8 bytes of hash per page, a 1 MiB read buffer, one record's pages
 * (16 MiB) and what waits to be deflated (at most 64 MiB, writer.ts).
 *
 * Every interval (from the start of one snapshot to the start of the next) becomes one interval of
 * the trace with its real duration: one that took longer than asked is flagged late, never merged
 * with the next. With `--region all` a mapping that appears later joins the trace's pages, zero
 * before it appeared (its pages that are not zero count as written then); one that goes away stops
 * being read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { InputError } from '../util/errors.js';
import { instantiateKernels, loadKernelModuleSync } from '../kernel/loader.js';
import { RESERVED_LOW_BYTES, type Kernels } from '../kernel/types.js';
import { MAX_PAGES_PER_RECORD, type TraceHeader, type TraceRegion } from './format.js';
import { TraceWriter } from './writer.js';

/** Pages of this host (x86-64 and most aarch64 kernels). */
export const HOST_PAGE_BYTES = 4096;
/** Bytes read from /proc/PID/mem at once, where in the kernels' memory, and where their hashes go. */
const CHUNK_BYTES = 1 << 20;
const CHUNK_PTR = RESERVED_LOW_BYTES;
const HASHES_PTR = RESERVED_LOW_BYTES + CHUNK_BYTES;
/** 32-bit words per page. */
const WORDS = HOST_PAGE_BYTES / 4;
/** An interval is late when it took this much longer than asked. */
const LATE_FACTOR = 1.1;

export type RegionChoice = 'all' | 'largest' | { start: number; end: number };

export interface RecordOptions {
  out: string;
  intervalMs: number;
  /** Stop after this long; null: when the program exits or on an interrupt. */
  durationMs: number | null;
  region: RegionChoice;
  /** The program to start and record, or null to record `pid`. */
  command: string[] | null;
  /** With `pid`: what the process runs, for the trace's header (the bundled workloads' recorder says). */
  describe?: string[];
  pid: number | null;
  /** Ends the recording cleanly (Ctrl-C). */
  signal?: AbortSignal;
  /** Called after each interval. */
  progress?: (p: RecordProgress) => void;
  /** Where the started program's output goes (default: this process's stderr). */
  childOutput?: 'inherit' | 'ignore';
  toolVersion: string;
}

export interface RecordProgress {
  intervals: number;
  elapsedMs: number;
  lastPages: number;
  late: number;
  ramBytes: number;
  fileBytes: number;
}

export interface RecordSummary {
  path: string;
  pid: number;
  method: string;
  intervals: number;
  lateIntervals: number;
  durationMs: number;
  ramBytes: number;
  /** Pages found changed over all intervals (a page counts in each interval it changed in). */
  pageChanges: number;
  fileBytes: number;
  reason: 'duration' | 'exited' | 'interrupted' | 'vanished';
}

/** A region of the trace, with where it lies now and its pages' hashes. */
interface Region {
  meta: TraceRegion;
  startAddr: number;
  endAddr: number;
  hashes: BigUint64Array;
  /** Its pages as last read (zero before): what a change is the XOR against. */
  previous: Uint32Array;
}

interface Mapping {
  start: number;
  end: number;
  perms: string;
  name: string;
}

/** The process went away while it was read. */
class Vanished extends Error {}

/** Writable mappings from /proc/PID/maps, those that cannot be read as memory left out. */
export function writableMappings(pid: number): Mapping[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch {
    throw new Vanished(`process ${pid} is gone`);
  }
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+\S+\s+\S+\s+\S+\s*(.*)$/.exec(line);
    if (!m || m[3][1] !== 'w') continue;
    const name = m[4].trim();
    // Kernel-provided and device mappings: not memory the program wrote (and reads may fail or block).
    if (name === '[vvar]' || name === '[vsyscall]' || name === '[vdso]') continue;
    if (name.startsWith('/dev/') && !name.startsWith('/dev/shm/') && !name.startsWith('/dev/zero')) continue;
    out.push({ start: parseInt(m[1], 16), end: parseInt(m[2], 16), perms: m[3], name });
  }
  return out;
}

export async function recordTrace(o: RecordOptions): Promise<RecordSummary> {
  let child: ChildProcess | null = null;
  let exited = false;
  let pid: number;
  if (o.command !== null) {
    child = spawn(o.command[0], o.command.slice(1), {
      stdio: [
        'ignore',
        o.childOutput === 'ignore' ? 'ignore' : 'pipe',
        o.childOutput === 'ignore' ? 'ignore' : 'inherit',
      ],
    });
    child.stdout?.pipe(process.stderr);
    const started = await new Promise<number | Error>((resolve) => {
      child!.once('spawn', () => resolve(child!.pid!));
      child!.once('error', (e) => resolve(e));
    });
    if (started instanceof Error)
      throw new InputError(
        `cannot start ${o.command[0]}: ${(started as NodeJS.ErrnoException).code ?? started.message}`,
      );
    pid = started;
    child.once('exit', () => {
      exited = true;
    });
  } else {
    pid = o.pid as number;
    try {
      statSync(`/proc/${pid}`);
    } catch {
      throw new InputError(`there is no process ${pid}`);
    }
  }
  try {
    return await recordProcess(o, pid, () => exited);
  } finally {
    if (child && !exited) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child!.kill('SIGKILL'), 2000);
      await new Promise((r) => (exited ? r(undefined) : child!.once('exit', r)));
      clearTimeout(killer);
    }
  }
}

async function recordProcess(o: RecordOptions, pid: number, childExited: () => boolean): Promise<RecordSummary> {
  const scanner = Scanner.create(pid);
  const method = 'compare';
  const mappings = await beforeStart(pid, () => {
    scanner.open();
    return writableMappings(pid);
  });
  const regions: Region[] = [];
  const addRegion = (m: Mapping): TraceRegion => newRegion(regions, m, scanner.zeroHash);
  for (const m of chooseRegions(mappings, o.region, pid)) addRegion(m);
  const header = traceHeader(o, pid, method, regions);
  const writer = new TraceWriter(o.out, header);
  let intervals = 0;
  let late = 0;
  let pageChanges = 0;
  let reason: RecordSummary['reason'] = 'duration';
  const t0 = performance.now();
  let finished = false;
  try {
    // The initial snapshot: every page's bytes, in content records of at most a record's pages.
    await beforeStart(pid, () => scanner.snapshot(regions, writer));
    let scanStart = t0;
    for (;;) {
      const tick = scanStart + o.intervalMs;
      const stop = await waitUntil(tick, o.signal, childExited);
      if (stop === 'interrupted') reason = 'interrupted';
      if (stop === 'exited') reason = 'exited';
      if (stop !== null) break;
      const now = performance.now();
      const meta = {
        interval: intervals,
        startMs: scanStart - t0,
        durationMs: now - scanStart,
        late: now - scanStart > o.intervalMs * LATE_FACTOR,
        regions: [] as TraceRegion[],
      };
      scanStart = now;
      let current: Mapping[];
      try {
        // Opened again each time: a process that exec()ed has new memory (a shell script
        // starting its program does), and the old descriptor reads none of it.
        scanner.open();
        current = writableMappings(pid);
        if (o.region === 'all') for (const m of newRanges(current, regions)) meta.regions.push(addRegion(m));
      } catch (e) {
        if (!(e instanceof Vanished)) throw e;
        reason = childExited() || o.command !== null ? 'exited' : 'vanished';
        break;
      }
      // A process that ends mid-scan: the interval is closed as it stands (its pages are true changes).
      const scanned = await scanner.changes(regions, current, meta, writer);
      pageChanges += scanned.pages;
      intervals++;
      if (scanned.vanished) {
        reason = childExited() || o.command !== null ? 'exited' : 'vanished';
        break;
      }
      if (meta.late) late++;
      o.progress?.({
        intervals,
        elapsedMs: now - t0,
        lastPages: scanner.lastChanged,
        late,
        ramBytes: regions.reduce((n, r) => n + r.meta.pages, 0) * HOST_PAGE_BYTES,
        fileBytes: writer.bytes,
      });
      if (o.durationMs !== null && now - t0 >= o.durationMs) break;
    }
    const ramPages = regions.reduce((n, r) => n + r.meta.pages, 0);
    const durationMs = intervals === 0 ? 0 : scanStart - t0;
    if (intervals === 0)
      throw new InputError(
        `process ${pid} ${reason === 'interrupted' ? 'was interrupted' : 'ended'} before one interval of ${o.intervalMs} ms was recorded`,
      );
    await writer.end({ intervals, durationMs, ramPages, reason, lateIntervals: late });
    finished = true;
    return {
      path: o.out,
      pid,
      method,
      intervals,
      lateIntervals: late,
      durationMs,
      ramBytes: ramPages * HOST_PAGE_BYTES,
      pageChanges,
      fileBytes: writer.bytes,
      reason,
    };
  } finally {
    if (!finished) await writer.abandon();
    scanner.close();
  }
}

/** A step before the first interval: the process going away then is the user's to hear about. */
async function beforeStart<T>(pid: number, step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof Vanished) throw new InputError(`process ${pid} ended before it could be recorded`);
    throw e;
  }
}

/** A region joins the trace's pages after the others; its pages hash as zero pages until read. */
function newRegion(regions: Region[], m: Mapping, zeroHash: bigint): TraceRegion {
  const meta: TraceRegion = {
    start: m.start.toString(16),
    end: m.end.toString(16),
    perms: m.perms,
    name: m.name,
    firstPage: regions.reduce((n, r) => n + r.meta.pages, 0),
    pages: (m.end - m.start) / HOST_PAGE_BYTES,
  };
  regions.push({
    meta,
    startAddr: m.start,
    endAddr: m.end,
    hashes: new BigUint64Array(meta.pages).fill(zeroHash),
    previous: new Uint32Array((meta.pages * HOST_PAGE_BYTES) / 4),
  });
  return meta;
}

function traceHeader(o: RecordOptions, pid: number, method: string, regions: Region[]): TraceHeader {
  return {
    pageSizeBytes: HOST_PAGE_BYTES,
    intervalMs: o.intervalMs,
    regions: regions.map((r) => r.meta),
    recorder: {
      tool: 'migbench record',
      version: o.toolVersion,
      method,
      region: typeof o.region === 'string' ? o.region : `${o.region.start.toString(16)}-${o.region.end.toString(16)}`,
    },
    process: { command: o.command ?? o.describe ?? null, pid },
    machine: {
      hostname: os.hostname(),
      platform: `${os.platform()}/${os.arch()}`,
      kernel: os.release(),
      cpus: `${os.cpus()[0]?.model ?? 'unknown'} x ${os.availableParallelism()}`,
      node: process.version,
    },
    startedAt: new Date().toISOString(),
  };
}

/** Waits until `ms` (performance.now()), or returns why it stops early. */
async function waitUntil(
  ms: number,
  signal: AbortSignal | undefined,
  exited: () => boolean,
): Promise<'interrupted' | 'exited' | null> {
  for (;;) {
    if (signal?.aborted) return 'interrupted';
    if (exited()) return 'exited';
    const left = ms - performance.now();
    if (left <= 0) return null;
    await new Promise((r) => setTimeout(r, Math.min(left, 20)));
  }
}

/** The writable ranges of `current` that no region covers yet (`--region all`: mappings that appeared or grew). */
function newRanges(current: Mapping[], regions: Region[]): Mapping[] {
  const known = regions.map((r) => [r.startAddr, r.endAddr] as const).sort((a, b) => a[0] - b[0]);
  const out: Mapping[] = [];
  for (const m of current) {
    let at = m.start;
    for (const [s, e] of known) {
      if (e <= at || s >= m.end) continue;
      if (s > at) out.push({ ...m, start: at, end: s });
      at = Math.max(at, e);
    }
    if (at < m.end) out.push({ ...m, start: at, end: m.end });
  }
  return out;
}

function chooseRegions(mappings: Mapping[], choice: RegionChoice, pid: number): Mapping[] {
  if (mappings.length === 0) throw new InputError(`process ${pid} has no writable memory to record`);
  if (choice === 'all') return mappings;
  if (choice === 'largest') {
    return [mappings.reduce((a, b) => (b.end - b.start > a.end - a.start ? b : a))];
  }
  const inside = mappings
    .filter((m) => m.end > choice.start && m.start < choice.end)
    .map((m) => ({ ...m, start: Math.max(m.start, choice.start), end: Math.min(m.end, choice.end) }));
  if (inside.length === 0)
    throw new InputError(
      `--region ${choice.start.toString(16)}-${choice.end.toString(16)} holds no writable mapping of process ${pid}`,
    );
  return inside;
}

function ptraceScopeNote(): string {
  try {
    const scope = readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim();
    return ` (kernel.yama.ptrace_scope is ${scope})`;
  } catch {
    return '';
  }
}

/** Reads regions in chunks into wasm memory, hashes their pages, and compares. */
class Scanner {
  private readonly chunk: Uint8Array;
  private readonly hashes: BigUint64Array;
  /** A record's worth of changed pages: numbers and bytes. */
  private readonly batchPages = new Uint32Array(MAX_PAGES_PER_RECORD);
  private readonly batchBytes = new Uint8Array(MAX_PAGES_PER_RECORD * HOST_PAGE_BYTES);
  private readonly batch32 = new Uint32Array(this.batchBytes.buffer);
  private readonly chunk32: Uint32Array;
  /** Pages the last interval found changed. */
  lastChanged = 0;
  /** XXH64 of a zero page: what a region's pages hash to before it is read (one that joins late was zero). */
  readonly zeroHash: bigint;

  private fd = -1;

  /** A scanner with its own kernels' memory: the asc runtime's static data in the low 64 KiB, the chunk and its hashes above. */
  static create(pid: number): Scanner {
    const wasmPages = (RESERVED_LOW_BYTES + 2 * CHUNK_BYTES) / 65536;
    const memory = new WebAssembly.Memory({ initial: wasmPages, maximum: wasmPages, shared: true });
    return new Scanner(pid, memory, instantiateKernels(loadKernelModuleSync(), memory));
  }

  private constructor(
    private readonly pid: number,
    memory: WebAssembly.Memory,
    private readonly kernels: Kernels,
  ) {
    this.chunk = new Uint8Array(memory.buffer, CHUNK_PTR, CHUNK_BYTES);
    this.chunk32 = new Uint32Array(memory.buffer, CHUNK_PTR, CHUNK_BYTES / 4);
    this.hashes = new BigUint64Array(memory.buffer, HASHES_PTR, CHUNK_BYTES / HOST_PAGE_BYTES);
    this.chunk.fill(0, 0, HOST_PAGE_BYTES);
    kernels.hashPages(CHUNK_PTR, HOST_PAGE_BYTES, 1, HASHES_PTR);
    this.zeroHash = this.hashes[0];
  }

  /** (Re)opens the process's memory. */
  open(): void {
    this.close();
    try {
      this.fd = openSync(`/proc/${this.pid}/mem`, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH') throw new Vanished(`process ${this.pid} is gone`);
      throw new InputError(
        `cannot read the memory of process ${this.pid} (${code}): record a program started by migbench (record -- CMD ...), or run as root${ptraceScopeNote()}`,
      );
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /** Every region's pages into content records; their hashes kept. */
  async snapshot(regions: Region[], writer: TraceWriter): Promise<void> {
    for (const r of regions) {
      let batchFirst = r.meta.firstPage;
      let batched = 0;
      for (let page = 0; page < r.meta.pages;) {
        const n = Math.min(CHUNK_BYTES / HOST_PAGE_BYTES, r.meta.pages - page, MAX_PAGES_PER_RECORD - batched);
        this.read(r.startAddr + page * HOST_PAGE_BYTES, n);
        this.kernels.hashPages(CHUNK_PTR, HOST_PAGE_BYTES, n, HASHES_PTR);
        r.hashes.set(this.hashes.subarray(0, n), page);
        r.previous.set(this.chunk32.subarray(0, n * WORDS), page * WORDS);
        this.batchBytes.set(this.chunk.subarray(0, n * HOST_PAGE_BYTES), batched * HOST_PAGE_BYTES);
        batched += n;
        page += n;
        if (batched === MAX_PAGES_PER_RECORD || page === r.meta.pages) {
          await writer.content(batchFirst, batched, this.batchBytes);
          batchFirst += batched;
          batched = 0;
        }
      }
    }
  }

  /**
   * One interval: every region (where it is still mapped) read and compared; changed pages go to
   * the writer a record at a time, the last closing the interval. A region that joined now starts
   * from zero pages. Returns the pages changed, and whether the process went away meanwhile (the
   * interval is then closed with what was found).
   */
  async changes(
    regions: Region[],
    current: Mapping[],
    meta: { interval: number; startMs: number; durationMs: number; late: boolean; regions: TraceRegion[] },
    writer: TraceWriter,
  ): Promise<{ pages: number; vanished: boolean }> {
    let from = 0;
    let batched = 0;
    const flush = async (last: boolean): Promise<void> => {
      await writer.changes(meta, from, batched, this.batchPages, this.batchBytes, last);
      from += batched;
      batched = 0;
    };
    let vanished = false;
    try {
      await this.compare(regions, current, async (page, now, before) => {
        // The change as XOR against the page as last read (mostly zero: it deflates to little);
        // then the page as it is now is the one the next change is against.
        this.batchPages[batched] = page;
        const delta = this.batch32.subarray(batched * WORDS, (batched + 1) * WORDS);
        for (let w = 0; w < WORDS; w++) delta[w] = now[w] ^ before[w];
        before.set(now);
        if (++batched === MAX_PAGES_PER_RECORD) await flush(false);
      });
    } catch (e) {
      if (!(e instanceof Vanished)) throw e;
      vanished = true;
    }
    await flush(true);
    this.lastChanged = from;
    return { pages: from, vanished };
  }

  /** Reads every region where it is mapped now; `changed` gets each page whose hash moved: its words now and as last read. */
  private async compare(
    regions: Region[],
    current: Mapping[],
    changed: (page: number, now: Uint32Array, before: Uint32Array) => Promise<void>,
  ): Promise<void> {
    for (const r of regions) {
      for (const m of current) {
        const start = Math.max(m.start, r.startAddr);
        const end = Math.min(m.end, r.endAddr);
        if (start >= end) continue;
        for (let addr = start; addr < end;) {
          const n = Math.min(CHUNK_BYTES, end - addr) / HOST_PAGE_BYTES;
          this.read(addr, n);
          this.kernels.hashPages(CHUNK_PTR, HOST_PAGE_BYTES, n, HASHES_PTR);
          const first = (addr - r.startAddr) / HOST_PAGE_BYTES;
          for (let i = 0; i < n; i++) {
            const h = this.hashes[i];
            if (h === r.hashes[first + i]) continue;
            r.hashes[first + i] = h;
            await changed(
              r.meta.firstPage + first + i,
              this.chunk32.subarray(i * WORDS, (i + 1) * WORDS),
              r.previous.subarray((first + i) * WORDS, (first + i + 1) * WORDS),
            );
          }
          addr += n * HOST_PAGE_BYTES;
        }
      }
    }
  }

  /** `pages` pages from `addr` into the chunk; pages that cannot be read are zero. */
  private read(addr: number, pages: number): void {
    const len = pages * HOST_PAGE_BYTES;
    let got = 0;
    try {
      while (got < len) {
        const n = readSync(this.fd, this.chunk, got, len - got, addr + got);
        if (n === 0) break;
        got += n;
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ESRCH' || !existsProcess(this.pid)) throw new Vanished(`process ${this.pid} is gone`);
      // A page that is mapped but not readable (EIO): the rest page by page, unreadable ones zero.
      for (let at = got; at < len; at += HOST_PAGE_BYTES) {
        try {
          readSync(this.fd, this.chunk, at, HOST_PAGE_BYTES, addr + at);
        } catch {
          this.chunk.fill(0, at, at + HOST_PAGE_BYTES);
        }
      }
      return;
    }
    if (got < len) {
      if (!existsProcess(this.pid)) throw new Vanished(`process ${this.pid} is gone`);
      this.chunk.fill(0, got, len);
    }
  }
}

function existsProcess(pid: number): boolean {
  try {
    statSync(`/proc/${pid}/mem`);
    return true;
  } catch {
    return false;
  }
}
