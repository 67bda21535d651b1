/**
 * One real QEMU migration, as the references were made (../shared/qemu-reference/harness,
 * run_scenario.py): a destination and a source QEMU on loopback booting the small guest whose
 * init runs the dirtier; once the dirtier has run a few seconds, its measured write rate; then the
 * capabilities and parameters, `migrate`, `query-migrate` every 100 ms (post-copy started when
 * asked), a cancel at the timeout; the destination's guest checked (running, its dirtier going on,
 * no page found with the wrong content); both QEMUs stopped by process id. The result is a
 * reference in the schema of bench/reference/qemu/.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Reference } from './reference.js';
import { CalibrationError, type Processes, type QemuBinary } from './qemu.js';
import { Qmp } from './qmp.js';
import { startRelay, type Relay } from './relay.js';

export interface Scenario {
  name: string;
  ramMiB: number;
  wssMiB: number;
  ratePagesPerSec: number;
  pattern: 'random' | 'seq';
  maxBandwidthBytesPerSec: number;
  downtimeLimitMs: number;
  xbzrleCacheMiB: number | null;
  autoConverge: boolean;
  postcopyAfter: number | null;
  multifd: number | null;
  /** A relay's rate between the two QEMUs, bytes/s; null: straight over loopback. */
  linkBytesPerSec: number | null;
  timeoutS: number;
  backlogMs: number;
}

export interface Machine {
  qemu: QemuBinary;
  accel: 'kvm' | 'tcg';
  kernel: string;
  initrd: string;
}

/** A QEMU reference, with what the calibration adds: the host and the destination's check. */
export type CalibrationReference = Reference & {
  env: Record<string, unknown>;
  destination: { running: boolean; dirtierLinesAfter: number; integrityBad: number | null };
};

const DIRTIER = /DIRTIER t=([\d.]+) rate=(\d+) target=(\d+) total=(\d+) dropped=(\d+) wss_pages=(\d+)(?: bad=(\d+))?/;
const BOOT_TIMEOUT_MS = 120_000;
const POLL_MS = 100;

/** A serial console written to a file by QEMU, read as it grows. */
class Serial {
  constructor(readonly file: string) {}
  lines(): string[] {
    try {
      return readFileSync(this.file, 'utf8').split('\n');
    } catch {
      return [];
    }
  }
  /** The dirtier's once-a-second lines: rate and the cumulative count of pages found wrong. */
  dirtier(): { rate: number; bad: number | null }[] {
    return this.lines().flatMap((l) => {
      const m = DIRTIER.exec(l);
      return m ? [{ rate: Number(m[2]), bad: m[7] === undefined ? null : Number(m[7]) }] : [];
    });
  }
  tail(n = 5): string {
    return this.lines()
      .filter((l) => l.trim() !== '')
      .slice(-n)
      .join(' | ');
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function qemuArgs(s: Scenario, m: Machine, serial: string, qmp: string, incoming?: string): string[] {
  const append = `console=ttyS0 quiet panic=-1 dirtier_w=${s.wssMiB} dirtier_r=${s.ratePagesPerSec} dirtier_p=${s.pattern} dirtier_b=${s.backlogMs}`;
  return [
    ...['-machine', `pc,accel=${m.accel}`, '-smp', '1', '-m', String(s.ramMiB)],
    ...['-nodefaults', '-no-user-config', '-nographic', '-monitor', 'none', '-serial', `file:${serial}`],
    ...['-kernel', m.kernel, '-initrd', m.initrd, '-append', append, '-qmp', `unix:${qmp},server=on,wait=off`],
    ...(m.accel === 'kvm' ? ['-cpu', 'host'] : []),
    ...(incoming === undefined ? [] : ['-incoming', incoming]),
  ];
}

/** Waits for `pred`, polling every 50 ms, up to `timeoutMs`; what it returned, or null. */
async function waitFor<T>(pred: () => T | null | undefined | false, timeoutMs: number): Promise<T | null> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const v = pred();
    if (v) return v;
    await sleep(50);
  }
  return null;
}

interface Running {
  src: Qmp;
  dst: Qmp;
  srcSerial: Serial;
  dstSerial: Serial;
  port: number;
  dir: string;
}

/** Boots both QEMUs and waits for the source guest's dirtier to run `settleS` seconds. */
async function boot(s: Scenario, m: Machine, procs: Processes, dir: string): Promise<Running & { rateBefore: number }> {
  const port = await freePort();
  const srcSerial = new Serial(path.join(dir, 'src-serial.log'));
  const dstSerial = new Serial(path.join(dir, 'dst-serial.log'));
  const incoming = s.multifd !== null ? 'defer' : `tcp:127.0.0.1:${port}`;
  const dstProc = procs.start(
    m.qemu.path,
    qemuArgs(s, m, dstSerial.file, path.join(dir, 'dst.qmp'), incoming),
    path.join(dir, 'dst.log'),
  );
  const srcProc = procs.start(
    m.qemu.path,
    qemuArgs(s, m, srcSerial.file, path.join(dir, 'src.qmp')),
    path.join(dir, 'src.log'),
  );
  const exited = (): string | null => {
    for (const [name, p] of [
      ['destination', dstProc],
      ['source', srcProc],
    ] as const)
      if (p.exitCode !== null || p.signalCode !== null) {
        const log = readFileSync(path.join(dir, name === 'source' ? 'src.log' : 'dst.log'), 'utf8')
          .trim()
          .split('\n')
          .slice(-2)
          .join(' | ');
        return `the ${name} QEMU exited (${p.exitCode ?? p.signalCode}) before the guest was ready: ${log || 'no output'}`;
      }
    return null;
  };
  const [dst, src] = await Promise.all([
    Qmp.connect(path.join(dir, 'dst.qmp'), 30_000, exited),
    Qmp.connect(path.join(dir, 'src.qmp'), 30_000, exited),
  ]).catch((e: unknown) => {
    throw new CalibrationError(exited() ?? `QMP: ${e instanceof Error ? e.message : String(e)}`);
  });
  const ready = await waitFor(
    () => exited() ?? srcSerial.lines().some((l) => l.includes('DIRTIER READY')),
    BOOT_TIMEOUT_MS,
  );
  if (typeof ready === 'string') throw new CalibrationError(ready);
  if (ready !== true)
    throw new CalibrationError(
      `the guest did not boot within ${BOOT_TIMEOUT_MS / 1000} s (its console: ${srcSerial.tail() || 'nothing'})`,
    );
  // Three of the dirtier's once-a-second lines: the rate it keeps before the migration.
  const settled = await waitFor(() => srcSerial.dirtier().length >= 3, 15_000);
  if (!settled)
    throw new CalibrationError(`the guest's writer printed no rate within 15 s (its console: ${srcSerial.tail()})`);
  const last = srcSerial.dirtier().slice(-3);
  return { src, dst, srcSerial, dstSerial, port, dir, rateBefore: last.reduce((n, p) => n + p.rate, 0) / last.length };
}

/** Capabilities and parameters on both sides, as the references set them. */
async function configure(s: Scenario, r: Running): Promise<void> {
  const caps = [
    { capability: 'events', state: true },
    { capability: 'xbzrle', state: s.xbzrleCacheMiB !== null },
    { capability: 'auto-converge', state: s.autoConverge },
    { capability: 'postcopy-ram', state: s.postcopyAfter !== null },
    { capability: 'multifd', state: s.multifd !== null },
  ];
  await r.src.cmd('migrate-set-capabilities', { capabilities: caps });
  await r.dst.cmd('migrate-set-capabilities', {
    capabilities: [...caps, ...(s.postcopyAfter !== null ? [{ capability: 'postcopy-blocktime', state: true }] : [])],
  });
  const params: Record<string, unknown> = {
    'max-bandwidth': s.maxBandwidthBytesPerSec,
    'downtime-limit': s.downtimeLimitMs,
  };
  if (s.xbzrleCacheMiB !== null) params['xbzrle-cache-size'] = s.xbzrleCacheMiB * 2 ** 20;
  if (s.multifd !== null) {
    params['multifd-channels'] = s.multifd;
    await r.dst.cmd('migrate-set-parameters', { 'multifd-channels': s.multifd });
    await r.dst.cmd('migrate-incoming', { uri: `tcp:127.0.0.1:${r.port}` });
  }
  await r.src.cmd('migrate-set-parameters', params);
}

type QueryMigrate = {
  status?: string;
  'total-time'?: number;
  downtime?: number;
  'cpu-throttle-percentage'?: number;
  ram?: Record<string, number>;
};

/** Migrates, polling query-migrate; starts post-copy when asked, cancels at the timeout. */
async function migrate(
  s: Scenario,
  r: Running,
  relay: Relay | null,
): Promise<{ final: QueryMigrate; maxThrottle: number; cancelled: boolean }> {
  await r.src.cmd('migrate', { uri: `tcp:127.0.0.1:${relay?.port ?? r.port}` });
  const t0 = performance.now();
  let maxThrottle = 0;
  let cancelled = false;
  let postcopy = false;
  let lastActive: QueryMigrate = {};
  for (let i = 1; ; i++) {
    const q = await r.src.cmd<QueryMigrate>('query-migrate');
    maxThrottle = Math.max(maxThrottle, q['cpu-throttle-percentage'] ?? 0);
    if (q.status === 'active') lastActive = q;
    if (
      s.postcopyAfter !== null &&
      !postcopy &&
      q.status === 'active' &&
      (q.ram?.['dirty-sync-count'] ?? 0) >= s.postcopyAfter
    ) {
      await r.src.cmd('migrate-start-postcopy');
      postcopy = true;
    }
    if (q.status === 'completed' || q.status === 'failed' || q.status === 'cancelled')
      return {
        final: q.ram === undefined ? { ...q, ram: lastActive.ram, 'total-time': lastActive['total-time'] } : q,
        maxThrottle,
        cancelled,
      };
    const elapsed = performance.now() - t0;
    if (!cancelled && elapsed > s.timeoutS * 1000) {
      await r.src.cmd('migrate_cancel');
      cancelled = true;
    }
    if (elapsed > s.timeoutS * 1000 + 30_000)
      throw new CalibrationError(`QEMU did not end the migration 30 s after cancelling it (status ${q.status})`);
    await sleep(Math.max(0, t0 + i * POLL_MS - performance.now()));
  }
}

/** Runs the scenario on the machine's QEMU and returns it as a reference. */
export async function runScenario(s: Scenario, m: Machine, procs: Processes): Promise<CalibrationReference> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'migbench-calibrate-'));
  let relay: Relay | null = null;
  let running: (Running & { rateBefore: number }) | null = null;
  try {
    running = await boot(s, m, procs, dir);
    await configure(s, running);
    if (s.linkBytesPerSec !== null) relay = await startRelay(running.port, s.linkBytesPerSec);
    const { final, maxThrottle } = await migrate(s, running, relay);
    const converged = final.status === 'completed';
    // The destination: running, its dirtier going on, no page it checks with the wrong content.
    const linesBefore = running.dstSerial.dirtier().length;
    if (converged) await waitFor(() => running!.dstSerial.dirtier().length >= linesBefore + 2, 5000);
    const status = converged ? await running.dst.cmd<{ status: string }>('query-status', undefined, false) : null;
    const dq =
      converged && s.postcopyAfter !== null
        ? await running.dst.cmd<Record<string, unknown>>('query-migrate', undefined, false)
        : {};
    const dlines = running.dstSerial.dirtier();
    const ram = final.ram ?? {};
    return {
      name: s.name,
      params: {
        ram_mib: s.ramMiB,
        wss_mib: s.wssMiB,
        dirty_rate_pages_per_s: s.ratePagesPerSec,
        pattern: s.pattern,
        max_bandwidth_bytes_per_s: s.maxBandwidthBytesPerSec,
        downtime_limit_ms: s.downtimeLimitMs,
        xbzrle: s.xbzrleCacheMiB !== null,
        xbzrle_cache_mib: s.xbzrleCacheMiB,
        auto_converge: s.autoConverge,
        link_bw_bytes_per_s: s.linkBytesPerSec,
        timeout_s: s.timeoutS,
        page_size: 4096,
        dirtier_backlog_ms: s.backlogMs,
        postcopy_after_passes: s.postcopyAfter,
        multifd_channels: s.multifd,
      },
      summary: {
        converged,
        total_time_ms: final['total-time'] ?? 0,
        downtime_ms: final.downtime ?? null,
        ram_transferred: ram.transferred ?? 0,
        ram_duplicate_pages: ram.duplicate ?? 0,
        ram_dirty_sync_count: ram['dirty-sync-count'] ?? 0,
        max_cpu_throttle_percentage: maxThrottle,
        dirtier_rate_before_mean: running.rateBefore,
        ...(s.postcopyAfter === null
          ? {}
          : {
              ram_postcopy_requests: ram['postcopy-requests'] ?? 0,
              ram_postcopy_bytes: ram['postcopy-bytes'] ?? 0,
              postcopy_blocktime_ms: (dq['postcopy-blocktime'] as number | undefined) ?? null,
            }),
        ...(s.multifd === null ? {} : { ram_multifd_bytes: ram['multifd-bytes'] ?? 0 }),
      },
      env: {
        qemu: m.qemu.version,
        accel: m.accel,
        host: os.hostname(),
        cpu: os.cpus()[0]?.model ?? 'unknown',
        cores: os.cpus().length,
        kernel: path.basename(m.kernel),
        date_utc: new Date().toISOString(),
        made_by: 'migbench calibrate',
      },
      destination: {
        running: status?.status === 'running',
        dirtierLinesAfter: dlines.length - linesBefore,
        integrityBad: dlines.at(-1)?.bad ?? null,
      },
    };
  } finally {
    relay?.close();
    for (const q of [running?.src, running?.dst]) {
      await q?.cmd('quit', undefined, false, 2000).catch(() => undefined);
      q?.close();
    }
    await procs.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}
