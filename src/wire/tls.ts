/**
 * The TCP streams' protection when a token is given: TLS 1.2 with a pre-shared key (TLS-PSK,
 * RFC 4279) derived from the token with HKDF-SHA256 (node:crypto, node:tls, OpenSSL underneath),
 * as QEMU's migration over TLS and KubeVirt's TLS between hosts protect theirs. Every byte is then
 * encrypted and authenticated (AES-GCM or ChaCha20-Poly1305): the token, the pages, the MAC key
 * and the MAC. A peer without the token can neither complete the handshake with either side nor
 * alter a byte unseen (a changed record fails its tag and the stream is dropped), so a man in the
 * middle can at most cut the connection. The token itself never crosses the wire in clear: each
 * side proves it has the key by finishing the handshake.
 *
 * Without a token (loopback only, see src/receiver/server.ts) streams are plain TCP: nothing is
 * confidential or authenticated, and docs/two-hosts.md says what that does not protect against.
 */
import { hkdfSync } from 'node:crypto';
import type { ConnectionOptions, TlsOptions } from 'node:tls';

/** The PSK identity both sides name (the key, not the identity, is the secret). */
export const PSK_IDENTITY = 'migbench';
/** PSK suites with authenticated encryption only; TLS 1.3's PSK is resumption-only in Node, so 1.2. */
const CIPHERS = 'PSK-AES128-GCM-SHA256:PSK-AES256-GCM-SHA384:PSK-CHACHA20-POLY1305';
const TLS_VERSION = 'TLSv1.2' as const;

/** The 32-byte pre-shared key of a token. */
export function pskOf(token: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(token, 'utf8'), 'migbench', 'migbench TLS-PSK v1', 32));
}

/** `tls.createServer` options for a receiver holding `token`. */
export function tlsServerOptions(token: string, handshakeTimeoutMs: number): TlsOptions {
  const psk = pskOf(token);
  return {
    pskCallback: (_socket, identity) => (identity === PSK_IDENTITY ? psk : null),
    pskIdentityHint: PSK_IDENTITY,
    ciphers: CIPHERS,
    minVersion: TLS_VERSION,
    maxVersion: TLS_VERSION,
    handshakeTimeout: handshakeTimeoutMs,
  };
}

/** `tls.connect` options for a source holding `token`. */
export function tlsClientOptions(token: string): ConnectionOptions {
  const psk = pskOf(token);
  return {
    pskCallback: () => ({ psk, identity: PSK_IDENTITY }),
    ciphers: CIPHERS,
    minVersion: TLS_VERSION,
    maxVersion: TLS_VERSION,
    // No certificate: the PSK authenticates the receiver.
    checkServerIdentity: () => undefined,
  };
}

/** What a failed TLS handshake most likely means, for the source's message. */
export function explainTlsFailure(message: string): string {
  if (/wrong version number|packet length too long|unknown protocol|record layer failure/i.test(message))
    return 'it does not speak TLS: was it started without --token? (with a token both sides use TLS)';
  if (/decrypt|bad record mac|psk|handshake failure/i.test(message))
    return 'the TLS handshake failed: the tokens differ (or something in between altered the handshake)';
  return `TLS failed: ${message}`;
}

/**
 * A socket error in words: OpenSSL's own messages (a record whose tag does not check, an alert
 * from the peer) become what they mean for a migration; any other error keeps its message.
 */
export function describeSocketError(e: NodeJS.ErrnoException): string {
  const ssl =
    (e.code ?? '').startsWith('ERR_SSL') || /SSL routines|Provider routines|cipher operation failed/.test(e.message);
  if (!ssl) return e.message;
  if (/alert/i.test(e.message))
    return 'the peer rejected a TLS record (bad record MAC): the stream was altered on the way';
  return 'a TLS record failed its authentication: the stream was altered on the way';
}
