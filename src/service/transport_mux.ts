// The node's one send/receive surface over a list of transports (UDP ports, the TCP fallback tunnel, in-memory doubles) with their socket ids mapped into one id space.
//
// Socket ids: the transport in slot i keeps its own socket ids s as i * SOCKET_ID_STRIDE + s, so
// the primary port's (slot 0) ids are unchanged. The TCP fallback tunnel is a transport like the
// others (a TcpRelayTransport in slot RELAY_INDEX, its one socket numbered so that its datagrams
// arrive as RELAY_SOCKET_ID, 999). The node only ever sees these numbers; a path learnt through the
// tunnel is an ordinary path whose socket is the tunnel. Sending to socket -1 (or the tunnel's id)
// goes out of every transport but the tunnel, as the reference sends on all bound ports when no
// socket is given. The fallback policy decides per datagram whether the tunnel carries it too, and
// whether the other transports do (forceTcpRelay: not).
import type { DatagramHandler, Transport, TransportStats } from "../core/transport.ts";
import type { InetAddress } from "../vl1/inet_address.ts";
import type { Logger } from "./logger.ts";
import type { TcpFallbackPolicy } from "./tcp_fallback.ts";
import {
  TcpRelayTransport,
  type TcpRelayTunnelOptions,
  type TunnelLike,
} from "./tcp_relay_client.ts";

export type { TunnelLike } from "./tcp_relay_client.ts";

/** Socket ids of the transport in slot i are i * SOCKET_ID_STRIDE + its own id. */
export const SOCKET_ID_STRIDE = 100;
/** Number of slots (socket ids 0..999). */
export const MUX_SLOTS = 10;
/** The TCP fallback tunnel's slot. */
export const RELAY_INDEX = MUX_SLOTS - 1;
/** The socket id of datagrams that came through the TCP fallback tunnel. */
export const RELAY_SOCKET_ID = RELAY_INDEX * SOCKET_ID_STRIDE + SOCKET_ID_STRIDE - 1;

/** Options of {@link TransportMux}. */
export interface TransportMuxOptions {
  /** Delivers every datagram (from any transport) to the node. */
  onPacket: DatagramHandler;
  /** Clock, ms. */
  now: () => number;
  /** Logger. */
  log: Logger;
  /** The TCP fallback: its policy and the relay (absent = no fallback). */
  fallback?: { policy: TcpFallbackPolicy; relay: InetAddress };
  /** Opens a tunnel (default {@link TcpRelayTunnel.open}). */
  openTunnel?: (o: TcpRelayTunnelOptions) => TunnelLike;
}

/** Several transports (UDP ports, the TCP fallback tunnel) as one {@link Transport}. */
export class TransportMux implements Transport {
  readonly #slots: (Transport | undefined)[] = new Array(MUX_SLOTS).fill(undefined);
  readonly #o: TransportMuxOptions;
  readonly #relay: TcpRelayTransport | undefined;
  #closed = false;

  /** @param o options; with `fallback`, the tunnel's transport takes slot {@link RELAY_INDEX}. */
  constructor(o: TransportMuxOptions) {
    this.#o = o;
    if (o.fallback) {
      this.#relay = new TcpRelayTransport({
        relay: o.fallback.relay,
        log: o.log,
        onDatagram: this.handler(RELAY_INDEX),
        socketId: RELAY_SOCKET_ID - RELAY_INDEX * SOCKET_ID_STRIDE,
        ...(o.openTunnel ? { openTunnel: o.openTunnel } : {}),
      });
      this.#slots[RELAY_INDEX] = this.#relay;
    }
  }

  /** The mux's socket id of socket `socket` of the transport in slot `index`. */
  static socketId(index: number, socket: number): number {
    return index * SOCKET_ID_STRIDE + socket;
  }

  /**
   * The receive handler to give the transport for slot `index` when opening it: maps its socket
   * ids into the mux's. Outside the tunnel's slot the fallback policy sees (and may drop) each
   * datagram first.
   */
  handler(index: number): DatagramHandler {
    checkIndex(index);
    const base = index * SOCKET_ID_STRIDE;
    const policy = index === RELAY_INDEX ? undefined : this.#o.fallback?.policy;
    return (sock, remote, data) => {
      if (policy && !policy.udpReceived(this.#o.now(), remote, data.length)) return;
      this.#o.onPacket(base + sock, remote, data);
    };
  }

  /** Adds (or replaces) the transport in slot `index` (opened with {@link handler}). */
  attach(index: number, t: Transport): void {
    checkIndex(index);
    if (index === RELAY_INDEX && this.#relay) {
      throw new RangeError(`transport slot ${index} is the TCP fallback tunnel's`);
    }
    this.#slots[index] = t;
  }

  /** Removes the transport in slot `index` and closes it. */
  async detach(index: number): Promise<void> {
    checkIndex(index);
    const t = this.#slots[index];
    this.#slots[index] = undefined;
    await t?.close();
  }

  /** The transport in slot `index`, if any. */
  transport(index: number): Transport | undefined {
    return this.#slots[index];
  }

  /** The TCP fallback tunnel's transport (absent without a fallback). */
  get relay(): TcpRelayTransport | undefined {
    return this.#relay;
  }

  /** Tunnels opened so far. */
  get tunnelsOpened(): number {
    return this.#relay?.tunnelsOpened ?? 0;
  }

  /** Whether a tunnel to the relay is connected (`tcpFallbackActive`). */
  get tcpFallbackActive(): boolean {
    return this.#relay?.connected === true;
  }

  /** Summed counters of the transports but the tunnel (which keeps its own). */
  get stats(): TransportStats {
    const s = { received: 0, sent: 0, sendErrors: 0, handlerErrors: 0 };
    for (const t of this.#slots) {
      if (!t || t === this.#relay) continue;
      s.received += t.stats.received;
      s.sent += t.stats.sent;
      s.sendErrors += t.stats.sendErrors;
      s.handlerErrors += t.stats.handlerErrors;
    }
    return s;
  }

  /**
   * Sends one datagram over the transport its socket id names (-1, 0 or the tunnel's id: every
   * transport but the tunnel), and through the tunnel when the policy says so.
   */
  send(localSocket: number, remote: InetAddress, data: Uint8Array, ttl?: number): boolean {
    if (this.#closed) return false;
    let viaTunnel = false;
    const fb = this.#o.fallback;
    const relay = this.#relay;
    let direct = true;
    if (fb && relay) {
      const d = fb.policy.send(this.#o.now(), remote, data.length, relay.up);
      if (d.open) relay.open();
      if (d.tunnel && relay.up) viaTunnel = relay.send(RELAY_SOCKET_ID, remote, data);
      direct = d.udp;
    }
    if (!direct) return viaTunnel;
    if (localSocket > 0) {
      const t = this.#slots[Math.floor(localSocket / SOCKET_ID_STRIDE)];
      if (t && t !== relay) {
        return t.send(localSocket % SOCKET_ID_STRIDE, remote, data, ttl) || viaTunnel;
      }
    }
    let ok = false;
    for (const t of this.#slots) if (t && t !== relay && t.send(-1, remote, data, ttl)) ok = true;
    return ok || viaTunnel;
  }

  /**
   * A rehearsal of {@link send} (see `Transport.rehearseSend`): only to the socket named, never
   * through the tunnel or its policy.
   */
  rehearseSend(localSocket: number, remote: InetAddress, data: Uint8Array): void {
    if (this.#closed || localSocket <= 0) return;
    const t = this.#slots[Math.floor(localSocket / SOCKET_ID_STRIDE)];
    if (t && t !== this.#relay) t.rehearseSend?.(localSocket % SOCKET_ID_STRIDE, remote, data);
  }

  /** Flushes every transport. */
  flush(): void {
    for (const t of this.#slots) t?.flush?.();
  }

  /** Periodic work: closes the tunnel once UDP works again. */
  tick(now: number): void {
    const fb = this.#o.fallback;
    if (fb && this.#relay?.up && fb.policy.shouldClose(now)) {
      this.#o.log.info(`TCP fallback: UDP from the internet works again; closing the tunnel`);
      this.#relay.closeTunnel("UDP works again");
    }
  }

  /** Local addresses of every transport. */
  boundAddresses(): InetAddress[] {
    return this.#slots.flatMap((t) => (t ? t.boundAddresses() : []));
  }

  /** Whether any transport has a wildcard socket of `family`. */
  hasWildcard(family: 4 | 6): boolean {
    return this.#slots.some((t) => t?.hasWildcard(family) === true);
  }

  /** Closes the tunnel and every transport (idempotent). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#relay?.close(), ...this.#slots.map((t) => t?.close())]);
  }
}

/** Throws on a slot number out of range. */
function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= MUX_SLOTS) {
    throw new RangeError(`transport slot ${index}: expected an integer 0..${MUX_SLOTS - 1}`);
  }
}
