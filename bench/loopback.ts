/**
 * `npm run bench:loopback`: where --host-copy-rate's default comes from. One stream of 32 KiB
 * writes (QEMU's QEMUFile buffer, IO_BUF_SIZE) over loopback TCP from this process to a reader
 * in another, as a migration over loopback moves its bytes: the sender's socket writes, the
 * kernel's copy, the receiver's reads. Prints MiB/s and GB/s per run and their median.
 */
import net from 'node:net';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs, progress } from './lib/args.js';

const USAGE = `usage: node dist/bench/loopback.js [--json]
  one stream of 32 KiB writes over loopback TCP to another process, 2 GiB, 3 runs`;
const CHUNK_BYTES = 32 * 1024;
const TOTAL_BYTES = 2 * 2 ** 30;
const RUNS = 3;

/** The reader: counts bytes, says when all have come. */
function reader(): void {
  const server = net.createServer((socket) => {
    let n = 0;
    socket.on('data', (d: Buffer) => {
      n += d.length;
      if (n >= TOTAL_BYTES) process.send?.('done');
    });
  });
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as net.AddressInfo).port));
}

/** One run: bytes per second from the first write to the reader's last byte. */
function run(): Promise<number> {
  const child = fork(fileURLToPath(import.meta.url), ['--reader']);
  return new Promise((resolve, reject) => {
    let startMs = 0;
    child.on('error', reject);
    child.on('message', (m) => {
      if (m === 'done') {
        const seconds = (performance.now() - startMs) / 1000;
        child.kill();
        resolve(TOTAL_BYTES / seconds);
        return;
      }
      const socket = net.connect(m as number, '127.0.0.1', () => {
        const chunk = Buffer.alloc(CHUNK_BYTES, 7);
        let sent = 0;
        startMs = performance.now();
        const pump = (): void => {
          while (sent < TOTAL_BYTES) {
            sent += CHUNK_BYTES;
            if (!socket.write(chunk)) {
              socket.once('drain', pump);
              return;
            }
          }
          socket.end();
        };
        pump();
      });
      socket.on('error', reject);
    });
  });
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), USAGE);
  const rates: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    rates.push(await run());
    progress(`run ${i + 1}: ${(rates[i] / 2 ** 20).toFixed(0)} MiB/s`);
  }
  const median = [...rates].sort((a, b) => a - b)[RUNS >> 1];
  if (args.json) process.stdout.write(`${JSON.stringify({ chunkBytes: CHUNK_BYTES, bytesPerSec: rates, median })}\n`);
  else
    process.stdout.write(
      `loopback TCP, one stream of ${CHUNK_BYTES / 1024} KiB writes: median ${(median / 2 ** 20).toFixed(0)} MiB/s = ${(median / 1e9).toFixed(2)} GB/s (runs: ${rates.map((r) => (r / 2 ** 20).toFixed(0)).join(', ')} MiB/s)\n`,
    );
}

if (process.argv.includes('--reader')) reader();
else await main();
