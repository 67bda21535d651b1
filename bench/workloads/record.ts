/**
 * Records the bundled workloads (bench/traces/): `npm run record:<name> [-- --size 64MiB --duration
 * 10s --interval 100ms --out FILE]`. Each program is started, filled to its size, and recorded
 * once it says it is ready (its start-up is not in the trace), for the duration; then everything
 * started is stopped. redis and memcached are Debian's packages (apt-get install redis-server
 * redis-tools memcached); the rest needs python3 and Node.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { recordTrace } from '../../src/trace/recorder.js';
import { parseDuration, parseSize } from '../../src/util/units.js';
import { formatBytes, formatMs } from '../../src/util/format.js';
import { migbenchVersion } from '../../src/cli/version.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The programs' sources: bench/workloads/ beside this file's source (dist/bench/workloads/ runs it). */
const sources = path.resolve(here, '../../../bench/workloads');
const traces = path.resolve(here, '../../../bench/traces');

interface Run {
  /** The process to record, and what it runs (with its load, for the trace's header). */
  target: ChildProcess;
  describe: string[];
  /** Everything started, in the order to stop it. */
  started: ChildProcess[];
}

/** Starts a program and resolves once it prints `ready` (its fill is done). */
function startReady(command: string, args: string[]): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^ready$/m.test(out)) resolve(child);
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`${command} ${args.join(' ')} exited (${code}) before it was ready`)),
    );
  });
}

/** Starts a server and resolves once it accepts connections on `port` (asked with `probe`). */
async function startServer(command: string, args: string[], probe: () => boolean): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (probe()) return child;
  }
  child.kill('SIGKILL');
  throw new Error(`${command} did not start within 10 s`);
}

const WORKLOADS: Record<string, (sizeMiB: number, durationS: number) => Promise<Run>> = {
  'python-dict': async (size, d) => {
    const args = ['bench/workloads/python-dict.py', `${size}`, `${d + 5}`];
    const p = await startReady('python3', [path.join(sources, 'python-dict.py'), ...args.slice(1)]);
    return { target: p, describe: ['python3', ...args], started: [p] };
  },
  sqlite: async (size, d) => {
    const args = ['bench/workloads/sqlite.py', `${size}`, `${d + 5}`];
    const p = await startReady('python3', [path.join(sources, 'sqlite.py'), ...args.slice(1)]);
    return { target: p, describe: ['python3', ...args], started: [p] };
  },
  'node-objects': async (size, d) => {
    const args = ['bench/workloads/node-objects.js', `${size}`, `${d + 5}`];
    const p = await startReady(process.execPath, [path.join(sources, 'node-objects.js'), ...args.slice(1)]);
    return { target: p, describe: ['node', ...args], started: [p] };
  },
  redis: async (size) => {
    const port = 6399;
    const server = await startServer(
      'redis-server',
      ['--port', `${port}`, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'],
      () => spawnSync('redis-cli', ['-p', `${port}`, 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG',
    );
    const keys = Math.floor((size * 1024 * 1024) / 200);
    // Filled first: SETs of 64-byte values over the keyspace.
    spawnSync(
      'redis-benchmark',
      ['-p', `${port}`, '-t', 'set', '-n', `${keys * 2}`, '-r', `${keys}`, '-d', '64', '-P', '16', '-q'],
      { stdio: 'ignore' },
    );
    const load = spawn(
      'redis-benchmark',
      [
        '-p',
        `${port}`,
        '-t',
        'set,get,incr,lpush,hset',
        '-n',
        '100000000',
        '-r',
        `${keys}`,
        '-d',
        '64',
        '-c',
        '4',
        '-q',
        '-l',
      ],
      { stdio: 'ignore' },
    );
    return {
      target: server,
      describe: ['redis-server', 'under redis-benchmark -t set,get,incr,lpush,hset', `-r ${keys}`, '-d 64 -c 4'],
      started: [load, server],
    };
  },
  memcached: async (size, d) => {
    const port = 11299;
    const server = await startServer(
      'memcached',
      [
        '-p',
        `${port}`,
        '-U',
        '0',
        '-m',
        `${size * 2}`,
        '-t',
        '1',
        '-l',
        '127.0.0.1',
        ...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []),
      ],
      () =>
        spawnSync('python3', ['-c', `import socket; socket.create_connection(("127.0.0.1", ${port}), 1)`]).status === 0,
    );
    const load = await startReady('python3', [
      path.join(sources, 'memcached-load.py'),
      `${port}`,
      `${size}`,
      `${d + 5}`,
    ]);
    return {
      target: server,
      describe: ['memcached', `-m ${size * 2}`, 'under bench/workloads/memcached-load.py', `${size}`],
      started: [load, server],
    };
  },
};

/** How the bundled traces were recorded: the data each program fills, and how long. */
const BUNDLED: Record<string, { size: string; duration: string }> = {
  'python-dict': { size: '4MiB', duration: '2s' },
  sqlite: { size: '4MiB', duration: '2s' },
  'node-objects': { size: '4MiB', duration: '1500ms' },
  redis: { size: '8MiB', duration: '2s' },
  memcached: { size: '8MiB', duration: '2s' },
};

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      size: { type: 'string' },
      duration: { type: 'string' },
      interval: { type: 'string', default: '100ms' },
      out: { type: 'string' },
    },
  });
  const name = positionals[0];
  const make = WORKLOADS[name];
  if (!make) {
    process.stderr.write(`record: which workload? one of ${Object.keys(WORKLOADS).join(', ')}\n`);
    return 2;
  }
  // The bundled traces' sizes by default (under 20 MiB in all); any other on the command line.
  const sizeMiB = Math.max(1, Math.round(parseSize('--size', values.size ?? BUNDLED[name].size) / 2 ** 20));
  const durationMs = parseDuration('--duration', values.duration ?? BUNDLED[name].duration);
  const out = values.out ?? path.join(traces, `${name}.mtrace`);
  const run = await make(sizeMiB, durationMs / 1000);
  try {
    const s = await recordTrace({
      out,
      intervalMs: parseDuration('--interval', values.interval),
      durationMs,
      region: 'all',
      command: null,
      pid: run.target.pid!,
      describe: run.describe,
      toolVersion: migbenchVersion(),
    });
    process.stdout.write(
      `${name}: ${out}: ${formatBytes(s.ramBytes)}, ${s.intervals} intervals in ${formatMs(s.durationMs)} (${s.lateIntervals} late), ` +
        `${s.pageChanges.toLocaleString('en-US')} page changes, ${formatBytes(s.fileBytes)}\n`,
    );
    return 0;
  } finally {
    for (const p of run.started) {
      p.kill('SIGTERM');
      await new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(undefined) : p.once('exit', r)));
    }
  }
}

process.exitCode = await main();
