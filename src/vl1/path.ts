// A physical path (local socket + remote IP:port): activity times, latency, quality and liveness (spec §9.2).
import { type InetAddress, IpScope } from "./inet_address.ts";
import {
  PATH_ALIVE_TIMEOUT,
  PATH_ECHO_RATE_LIMIT,
  PATH_HEARTBEAT_PERIOD,
  PEER_PING_PERIOD,
  TRUST_EXPIRATION,
} from "./node_settings.ts";

/** Unknown latency marker (the reference's 0xffff). */
export const LATENCY_UNKNOWN = 0xffff;

/** Key of a (socket, address) pair for maps. */
export function pathKey(localSocket: number, address: InetAddress): string {
  const c = PATH_KEYS.get(address);
  if (c !== undefined && c.localSocket === localSocket) return c.key;
  const key = `${localSocket}|${address.key()}`;
  PATH_KEYS.set(address, { localSocket, key });
  return key;
}

// The last path key built per address object (addresses are immutable, and the transports and
// paths reuse their objects, so the per-packet lookups skip building the hex string).
const PATH_KEYS = new WeakMap<InetAddress, { localSocket: number; key: string }>();

/** One physical path, shared by every peer reached over it. */
export class Path {
  /** Opaque local socket id (-1 = any). */
  readonly localSocket: number;
  /** Remote physical address. */
  readonly address: InetAddress;
  /** {@link pathKey} of this path. */
  readonly key: string;
  /** IP scope of the remote address. */
  readonly scope: IpScope;
  /** Last time something was received on it (ms, 0 = never). */
  lastIn = 0;
  /** Last time something was sent on it. */
  lastOut = 0;
  /** Last time a trust-establishing packet arrived on it. */
  lastTrustEstablishedIn = 0;
  /** Round-trip latency (ms), running average; {@link LATENCY_UNKNOWN} until measured. */
  latency = LATENCY_UNKNOWN;
  /** Last ECHO answered on this path (rate limit). */
  lastEchoAnswered = -Infinity;

  /** A path over `localSocket` to `address`. */
  constructor(localSocket: number, address: InetAddress) {
    this.localSocket = localSocket;
    this.address = address;
    this.key = pathKey(localSocket, address);
    this.scope = address.scope();
  }

  /** Records a send. */
  sent(now: number): void {
    this.lastOut = Math.max(this.lastOut, now);
  }

  /** Records a receive (and trust if the packet established it). */
  received(now: number, trustEstablished: boolean): void {
    this.lastIn = Math.max(this.lastIn, now);
    if (trustEstablished) this.lastTrustEstablishedIn = now;
  }

  /** Folds an RTT measurement into the running average. */
  updateLatency(rtt: number): void {
    const l = Math.max(0, Math.min(LATENCY_UNKNOWN - 1, Math.round(rtt)));
    this.latency = this.latency === LATENCY_UNKNOWN ? l : (this.latency + l) >>> 1;
  }

  /** Heard from within 19 s. */
  alive(now: number): boolean {
    return this.lastIn > 0 && now - this.lastIn < PATH_ALIVE_TIMEOUT;
  }

  /** Nothing sent for 14 s. */
  needsHeartbeat(now: number): boolean {
    return now - this.lastOut >= PATH_HEARTBEAT_PERIOD;
  }

  /** A trust-establishing packet arrived within 10 min (relaying permission). */
  trustEstablished(now: number): boolean {
    return this.lastTrustEstablishedIn > 0 && now - this.lastTrustEstablishedIn < TRUST_EXPIRATION;
  }

  /** Lower is better: latency (penalised when not alive) × (8 - scope). */
  quality(now: number): number {
    const age = Math.min(now - this.lastIn, PEER_PING_PERIOD * 10);
    const l = this.lastIn > 0 && age < PATH_ALIVE_TIMEOUT
      ? this.latency
      : this.latency + 0xffff + age;
    return l * (8 - this.scope);
  }

  /** True (and records) if an ECHO may be answered on this path now (166 ms gate). */
  allowEcho(now: number): boolean {
    if (now - this.lastEchoAnswered < PATH_ECHO_RATE_LIMIT && now >= this.lastEchoAnswered) {
      return false;
    }
    this.lastEchoAnswered = now;
    return true;
  }
}

/**
 * Whether an address may carry ZeroTier traffic by scope (spec §9.2): private, pseudo-private,
 * shared or global (plus loopback when `allowLoopback`, a test/e2e convenience the reference
 * lacks); never he.net tunnel IPv6 (2001:470::/32) or port 0.
 */
export function isUsableScope(a: InetAddress, allowLoopback = false): boolean {
  if (a.port === 0) return false;
  switch (a.scope()) {
    case IpScope.PRIVATE:
    case IpScope.PSEUDOPRIVATE:
    case IpScope.SHARED:
    case IpScope.GLOBAL:
      return !(a.family === 6 && a.ip[0] === 0x20 && a.ip[1] === 0x01 && a.ip[2] === 0x04 &&
        a.ip[3] === 0x70);
    case IpScope.LOOPBACK:
      return allowLoopback;
    default:
      return false;
  }
}
