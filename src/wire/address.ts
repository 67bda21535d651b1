/** Network addresses on the command line: `--target tcp://HOST:PORT` and `--listen HOST:PORT`. */
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { OptionError } from '../util/errors.js';

export interface HostPort {
  host: string;
  port: number;
}

/** HOST:PORT, the host a name, an IPv4 address, or an IPv6 address in brackets; port 0-65535. */
export function parseHostPort(option: string, text: string, form: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text.trim());
  const host = m ? (m[1] ?? m[2]) : '';
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535) || (m[1] !== undefined && isIP(host) !== 6)) {
    throw new OptionError(option, `${option} must be ${form} (got ${JSON.stringify(text)})`);
  }
  return { host, port };
}

export function parseTarget(option: string, text: string): HostPort {
  const form = 'tcp://HOST:PORT such as tcp://127.0.0.1:7000';
  const m = /^tcp:\/\/(.+)$/.exec(text.trim());
  if (!m) throw new OptionError(option, `${option} must be ${form} (got ${JSON.stringify(text)})`);
  const hp = parseHostPort(option, m[1], form);
  if (hp.port === 0)
    throw new OptionError(option, `${option} must name a port from 1 to 65535, ${form} (got ${JSON.stringify(text)})`);
  return hp;
}

/** Whether an IP address (not a name) is a loopback one: 127.0.0.0/8, ::1, or 127/8 mapped into IPv6. */
export function isLoopbackAddress(address: string): boolean {
  if (isIP(address) === 4) return /^127\.\d+\.\d+\.\d+$/.test(address);
  if (isIP(address) === 6) {
    const a = address.toLowerCase();
    return a === '::1' || a === '0:0:0:0:0:0:0:1' || /^::ffff:127\.\d+\.\d+\.\d+$/.test(a);
  }
  return false;
}

/**
 * Whether a host a receiver binds is loopback, decided on what it resolves to (a receiver may bind
 * loopback without a token): an address is judged as it is; a name by every address it resolves
 * to, all of which must be loopback (`localhost` is; `127.attacker.example` is a name like any
 * other, and not loopback unless it resolves so). A name that does not resolve is not loopback.
 */
export async function resolvesToLoopback(host: string): Promise<boolean> {
  if (isIP(host) !== 0) return isLoopbackAddress(host);
  try {
    const addresses = await lookup(host, { all: true });
    return addresses.length > 0 && addresses.every((a) => isLoopbackAddress(a.address));
  } catch {
    return false;
  }
}

export function formatHostPort(hp: HostPort): string {
  return isIP(hp.host) === 6 ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}
