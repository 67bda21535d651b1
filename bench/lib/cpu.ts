/**
 * Who had the CPU during a window: this process' threads (main, channel and vCPU workers, V8's own)
 * and the rest of the machine, from Linux's /proc (clock ticks, usually 10 ms). On a shared 2-core
 * machine a throughput figure means little without it. Elsewhere than Linux it reports nothing.
 */
import { readFileSync, readdirSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on every Linux ABI Node supports

interface Snapshot {
  atMs: number;
  threads: Map<number, { name: string; ticks: number }>;
  machineBusyTicks: number;
  machineTotalTicks: number;
}

export interface ThreadCpu {
  tid: number;
  name: string;
  /** CPU time in the window, ms, and as a percentage of the window's wall time. */
  cpuMs: number;
  busyPercent: number;
}

export interface CpuWindow {
  wallMs: number;
  /** The main thread's tid (the pid). */
  mainTid: number;
  /** This process' threads that ran in the window, busiest first; the main thread's tid is the pid. */
  threads: ThreadCpu[];
  /** CPU ms used by everything else on the machine in the window (other processes). */
  othersCpuMs: number;
  /** The machine's cores' worth of CPU in the window, ms. */
  machineCpuMs: number;
}

function snapshot(): Snapshot | null {
  try {
    const threads = new Map<number, { name: string; ticks: number }>();
    for (const t of readdirSync('/proc/self/task')) {
      try {
        const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
        // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
        const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const name = readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
        threads.set(Number(t), { name, ticks: Number(rest[11]) + Number(rest[12]) });
      } catch {
        // the thread ended while we listed it
      }
    }
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = cpu;
    return {
      atMs: performance.now(),
      threads,
      machineBusyTicks: user + nice + system + irq + softirq + (steal ?? 0),
      machineTotalTicks: user + nice + system + idle + iowait + irq + softirq + (steal ?? 0),
    };
  } catch {
    return null;
  }
}

export class CpuMeter {
  private start: Snapshot | null = null;

  begin(): void {
    this.start = snapshot();
  }

  end(): CpuWindow | null {
    const a = this.start;
    const b = snapshot();
    if (a === null || b === null) return null;
    const wallMs = b.atMs - a.atMs;
    const threads: ThreadCpu[] = [];
    let ours = 0;
    for (const [tid, t] of b.threads) {
      const cpuMs = (t.ticks - (a.threads.get(tid)?.ticks ?? 0)) * TICK_MS;
      ours += cpuMs;
      if (cpuMs > 0) threads.push({ tid, name: t.name, cpuMs, busyPercent: (100 * cpuMs) / wallMs });
    }
    threads.sort((x, y) => y.cpuMs - x.cpuMs);
    const machineBusyMs = (b.machineBusyTicks - a.machineBusyTicks) * TICK_MS;
    return {
      wallMs,
      mainTid: process.pid,
      threads,
      othersCpuMs: Math.max(0, machineBusyMs - ours),
      machineCpuMs: (b.machineTotalTicks - a.machineTotalTicks) * TICK_MS,
    };
  }
}
