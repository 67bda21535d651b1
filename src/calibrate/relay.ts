/**
 * A slow link between the two QEMUs (the references' `--link-bw`): a relay on loopback that
 * forwards the source's connection to the destination at most `rate` bytes/s (a token bucket over
 * 64 KiB reads, small socket buffers), the stop-and-copy included, where QEMU lifts its own
 * max-bandwidth. The way back is not limited. One connection per migration channel.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Relay {
  port: number;
  close(): void;
}

export async function startRelay(targetPort: number, rate: number): Promise<Relay> {
  let forwarded = 0;
  let firstAt: number | null = null;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    const target = net.createConnection({ host: '127.0.0.1', port: targetPort });
    sockets.add(client);
    sockets.add(target);
    const end = (): void => {
      client.destroy();
      target.destroy();
    };
    client.on('error', end);
    target.on('error', end);
    client.on('close', end);
    target.on('close', end);
    target.on('data', (d) => client.write(d));
    target.once('connect', () => {
      client.on('data', (d: Buffer) => {
        client.pause();
        firstAt ??= performance.now();
        forwarded += d.length;
        // Due when the bytes so far fit the rate since the first byte.
        const dueMs = firstAt + (forwarded / rate) * 1000;
        const go = (): void => {
          if (target.write(d)) client.resume();
          else target.once('drain', () => client.resume());
        };
        const wait = dueMs - performance.now();
        if (wait > 0) void sleep(wait).then(go);
        else go();
      });
      client.resume();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
