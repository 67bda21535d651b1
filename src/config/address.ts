/** Network addresses on the command line: `--target tcp://HOST:PORT` and `--listen HOST:PORT`. */
import { isIP } from 'node:net';
import { OptionError } from './errors.js';

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
  if (hp.port === 0) throw new OptionError(option, `${option} must name a port from 1 to 65535, ${form} (got ${JSON.stringify(text)})`);
  return hp;
}

/** Loopback addresses: a receiver may bind them without a token. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || /^127\./.test(host) || host === '::1';
}

export function formatHostPort(hp: HostPort): string {
  return isIP(hp.host) === 6 ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}
