// The node's one send/receive surface over several transports (UDP ports, the TCP fallback tunnel) with opaque socket ids.
//
// Socket ids: UDP transport number i (0 = primary port, 1 = secondary, 2 = tertiary) keeps its own
// socket ids s as i * SOCKET_ID_STRIDE + s, so the primary port's ids are unchanged; datagrams from
// the TCP fallback tunnel arrive with RELAY_SOCKET_ID. The node only ever sees these numbers; a
// path learnt through the tunnel is an ordinary path whose socket is the tunnel. Sending to socket
// -1 (or the tunnel's id) goes out of every UDP transport, as the reference sends on all bound
// ports when no socket is given. The fallback policy decides per datagram whether the tunnel
// carries it too.
import type { Transport } from "../core/transport.ts";
import type { InetAddress } from "../vl1/inet_address.ts";
import type { Logger } from "./logger.ts";
import type { TcpFallbackPolicy } from "./tcp_fallback.ts";
import { TcpRelayTunnel, type TcpRelayTunnelOptions } from "./tcp_relay_client.ts";
import type { PacketHandler, UdpTransportApi, UdpTransportStats } from "./udp_transport.ts";

/** Socket ids of UDP transport i are i * SOCKET_ID_STRIDE + its own id. */
export const SOCKET_ID_STRIDE = 100;
/** The socket id of datagrams that came through the TCP fallback tunnel. */
export const RELAY_SOCKET_ID = 999;

/** What the mux needs of a tunnel (a {@link TcpRelayTunnel}, or a fake in tests). */
export interface TunnelLike {
  /** Connected. */
  readonly connected: boolean;
  /** Closed. */
  readonly closed: boolean;
  /** Queues a datagram; false if dropped. */
  send(to: InetAddress, data: Uint8Array): boolean;
  /** Closes. */
  close(reason?: string): void;
}

/** Options of {@link TransportMux}. */
export interface TransportMuxOptions {
  /** Delivers every datagram (from any transport) to the node. */
  onPacket: PacketHandler;
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
  readonly #udp: (UdpTransportApi | undefined)[] = [];
  readonly #o: TransportMuxOptions;
  #tunnel: TunnelLike | undefined;
  #closed = false;
  /** Tunnels opened so far. */
  tunnelsOpened = 0;

  /** @param o options. */
  constructor(o: TransportMuxOptions) {
    this.#o = o;
  }

  /** The receive handler to give UDP transport number `index` when opening it. */
  udpHandler(index: number): PacketHandler {
    const base = index * SOCKET_ID_STRIDE;
    const policy = this.#o.fallback?.policy;
    return (sock, remote, data) => {
      if (policy && !policy.udpReceived(this.#o.now(), remote, data.length)) return;
      this.#o.onPacket(base + sock, remote, data);
    };
  }

  /** Adds (or replaces) UDP transport number `index` (opened with {@link udpHandler}). */
  attach(index: number, t: UdpTransportApi): void {
    this.#udp[index] = t;
  }

  /** Removes UDP transport number `index` and closes it. */
  async detach(index: number): Promise<void> {
    const t = this.#udp[index];
    this.#udp[index] = undefined;
    await t?.close();
  }

  /** UDP transport number `index`, if attached. */
  udp(index: number): UdpTransportApi | undefined {
    return this.#udp[index];
  }

  /** Whether a tunnel to the relay is connected (`tcpFallbackActive`). */
  get tcpFallbackActive(): boolean {
    return this.#tunnel?.connected === true;
  }

  /** Summed counters of the UDP transports. */
  get stats(): UdpTransportStats {
    const s = { received: 0, sent: 0, sendErrors: 0, handlerErrors: 0 };
    for (const t of this.#udp) {
      if (!t) continue;
      s.received += t.stats.received;
      s.sent += t.stats.sent;
      s.sendErrors += t.stats.sendErrors;
      s.handlerErrors += t.stats.handlerErrors;
    }
    return s;
  }

  /** Sends one datagram over the transport its socket id names, and the tunnel when the policy says so. */
  send(localSocket: number, remote: InetAddress, data: Uint8Array, ttl?: number): boolean {
    if (this.#closed) return false;
    let viaTunnel = false;
    const fb = this.#o.fallback;
    let udp = true;
    if (fb) {
      const now = this.#o.now();
      const t = this.#tunnel;
      const d = fb.policy.send(now, remote, data.length, t !== undefined && !t.closed);
      if (d.open) this.#open(fb.relay);
      if (d.tunnel && this.#tunnel) viaTunnel = this.#tunnel.send(remote, data);
      udp = d.udp;
    }
    if (!udp) return viaTunnel;
    if (localSocket > 0 && localSocket !== RELAY_SOCKET_ID) {
      const t = this.#udp[Math.floor(localSocket / SOCKET_ID_STRIDE)];
      if (t) return t.send(localSocket % SOCKET_ID_STRIDE, remote, data, ttl) || viaTunnel;
    }
    let ok = false;
    for (const t of this.#udp) if (t && t.send(-1, remote, data, ttl)) ok = true;
    return ok || viaTunnel;
  }

  /** Flushes every UDP transport. */
  flush(): void {
    for (const t of this.#udp) t?.flush?.();
  }

  /** Periodic work: closes the tunnel once UDP works again. */
  tick(now: number): void {
    const fb = this.#o.fallback;
    if (fb && this.#tunnel && fb.policy.shouldClose(now)) {
      this.#o.log.info(`TCP fallback: UDP from the internet works again; closing the tunnel`);
      this.#tunnel.close("UDP works again");
    }
  }

  /** Opens a tunnel to `relay` (replacing a closed one). */
  #open(relay: InetAddress): void {
    const open = this.#o.openTunnel ?? TcpRelayTunnel.open;
    this.tunnelsOpened++;
    this.#o.log.info(`TCP fallback: no UDP from the internet; tunneling through ${relay}`);
    let t: TunnelLike | undefined = undefined;
    t = open({
      relay,
      log: this.#o.log,
      onPacket: (from, data) => this.#o.onPacket(RELAY_SOCKET_ID, from, data),
      onConnected: () => this.#o.log.info(`TCP fallback: tunnel to ${relay} connected`),
      onClose: (reason) => {
        this.#o.log.info(`TCP fallback: tunnel to ${relay} closed (${reason})`);
        if (t !== undefined && this.#tunnel === t) this.#tunnel = undefined;
      },
    });
    if (!t.closed) this.#tunnel = t;
  }

  /** Local addresses of every UDP transport. */
  boundAddresses(): InetAddress[] {
    return this.#udp.flatMap((t) => (t ? t.boundAddresses() : []));
  }

  /** Whether any UDP transport has a wildcard socket of `family`. */
  hasWildcard(family: 4 | 6): boolean {
    return this.#udp.some((t) => t?.hasWildcard(family) === true);
  }

  /** Closes the tunnel and every transport (idempotent). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#tunnel?.close("shutting down");
    this.#tunnel = undefined;
    await Promise.all(this.#udp.map((t) => t?.close()));
  }
}
