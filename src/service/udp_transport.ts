// UDP sockets for the node: bind the primary port (IPv4 + IPv6 or a bind list), receive, send.
import type { DatagramHandler, Transport, TransportStats } from "../core/transport.ts";
import type { RemoteInfo, Socket } from "node:dgram";
import { InetAddress } from "../vl1/inet_address.ts";
import type { Logger } from "./logger.ts";

// Deno.listenDatagram still needs --unstable-net in Deno 2.x; node:dgram is stable, event-driven
// and supports ipv6Only, so the transport uses it. It is the fallback when FFI is not allowed
// (udp_transport_ffi.ts), so node:dgram is loaded only when it is used.

/** The primary port is taken by someone else. */
export class PortInUseError extends Error {
  /** The port that could not be bound. */
  readonly port: number;
  /** @param port the port in use. */
  constructor(port: number) {
    super(
      `UDP port ${port} is already in use (is zerotier-one or another zt running?)`,
    );
    this.name = "PortInUseError";
    this.port = port;
  }
}

/** Called for every datagram received (the core's {@link DatagramHandler}). */
export type PacketHandler = DatagramHandler;

/** Options of {@link UdpTransport.open}. */
export interface UdpTransportOptions {
  /** Port to bind (non-zero). */
  port: number;
  /** Explicit local IPs; empty = wildcard 0.0.0.0 and :: (v6-only). */
  bind?: InetAddress[];
  /** Log sink. */
  log: Logger;
  /** Receives datagrams (exceptions are caught and logged). */
  onPacket: PacketHandler;
}

/** Counters every UDP transport keeps (the {@link Transport} role's). */
export type UdpTransportStats = TransportStats;

/**
 * What the service uses of a UDP transport (this node:dgram one or the FFI one): the
 * {@link Transport} role. An implementation may queue sends until `flush` (or its own
 * safety-net flush before the current task ends), keeping the order per socket.
 */
export type UdpTransportApi = Transport;

/** One bound socket. */
interface BoundSocket {
  id: number;
  family: 4 | 6;
  local: InetAddress;
  sock: Socket;
}

/** Binds one socket; resolves or rejects with the bind error. */
async function bindOne(ip: InetAddress, port: number): Promise<Socket> {
  const { default: dgram } = await import("node:dgram");
  return await new Promise((resolve, reject) => {
    const sock = dgram.createSocket({
      type: ip.family === 4 ? "udp4" : "udp6",
      ipv6Only: ip.family === 6,
      reuseAddr: false,
    });
    const onError = (e: Error) => {
      try {
        sock.close();
      } catch {
        // not open
      }
      reject(e);
    };
    sock.once("error", onError);
    sock.bind(port, ip.toIpString(), () => {
      sock.off("error", onError);
      resolve(sock);
    });
  });
}

/** True for an "address in use" error from bind. */
function isAddrInUse(e: unknown): boolean {
  return (e as { code?: string })?.code === "EADDRINUSE" || e instanceof Deno.errors.AddrInUse;
}

/** The node's UDP sockets. Socket ids are 1, 2, ... in bind order. */
export class UdpTransport implements UdpTransportApi {
  /** Which implementation this is (see udp_transport_ffi.ts for the other). */
  readonly kind = "dgram" as const;
  readonly #sockets: BoundSocket[];
  readonly #log: Logger;
  #closed = false;
  /** Datagrams received / sent / send failures (for diagnostics). */
  readonly stats = { received: 0, sent: 0, sendErrors: 0, handlerErrors: 0 };

  private constructor(sockets: BoundSocket[], log: Logger) {
    this.#sockets = sockets;
    this.#log = log;
  }

  /**
   * Binds `port` on 0.0.0.0 and [::] (IPv6 only; if IPv6 cannot bind, IPv4 alone is kept and a
   * warning logged), or on each address of `bind`. @throws PortInUseError if the port is taken,
   * Error if nothing could be bound.
   */
  static async open(opts: UdpTransportOptions): Promise<UdpTransport> {
    const explicit = opts.bind !== undefined && opts.bind.length > 0;
    const targets = explicit
      ? opts.bind!
      : [InetAddress.fromIp("0.0.0.0")!, InetAddress.fromIp("::")!];
    const bound: BoundSocket[] = [];
    try {
      for (const ip of targets) {
        try {
          const sock = await bindOne(ip, opts.port);
          bound.push({
            id: bound.length + 1,
            family: ip.family,
            local: ip.withPort(opts.port),
            sock,
          });
        } catch (e) {
          if (isAddrInUse(e)) throw new PortInUseError(opts.port);
          const msg = e instanceof Error ? e.message : String(e);
          if (!explicit && ip.family === 6) {
            opts.log.warn(`cannot bind UDP [::]:${opts.port} (${msg}); continuing with IPv4 only`);
          } else {
            opts.log.warn(`cannot bind UDP ${ip.toIpString()}/${opts.port}: ${msg}`);
          }
        }
      }
    } catch (e) {
      for (const b of bound) b.sock.close();
      throw e;
    }
    if (bound.length === 0) throw new Error(`could not bind any UDP socket on port ${opts.port}`);
    const t = new UdpTransport(bound, opts.log);
    for (const b of bound) t.#listen(b, opts.onPacket);
    return t;
  }

  /** Wires the receive path of one socket; handler exceptions never stop it. */
  #listen(b: BoundSocket, onPacket: PacketHandler): void {
    b.sock.on("error", (e: Error) => this.#log.warn(`UDP socket ${b.local}: ${e.message}`));
    b.sock.on("message", (msg: Uint8Array, rinfo: RemoteInfo) => {
      if (this.#closed) return;
      this.stats.received++;
      try {
        const remote = InetAddress.fromIp(rinfo.address.replace(/%.*$/, ""), rinfo.port);
        if (!remote) return;
        const data = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
        onPacket(b.id, remote, data);
      } catch (e) {
        this.stats.handlerErrors++;
        this.#log.debug(`receive handler failed: ${e instanceof Error ? e.stack : e}`);
      }
    });
  }

  /** Local addresses bound (wildcards included), with the port. */
  boundAddresses(): InetAddress[] {
    return this.#sockets.map((s) => s.local);
  }

  /** Whether any socket is bound to a wildcard address of `family`. */
  hasWildcard(family: 4 | 6): boolean {
    return this.#sockets.some((s) => s.family === family && s.local.ip.every((x) => x === 0));
  }

  /**
   * Sends one datagram. `localSocket` picks the socket (-1 or an unknown id: the first socket of
   * the remote's family). `ttl` is not applied: a per-datagram unicast TTL is not available
   * here (TTL-2 probes go out with the default TTL). Returns false without a socket of that
   * family or after close.
   */
  send(localSocket: number, remote: InetAddress, data: Uint8Array, _ttl?: number): boolean {
    if (this.#closed) return false;
    let s = this.#sockets.find((x) => x.id === localSocket && x.family === remote.family);
    s ??= this.#sockets.find((x) => x.family === remote.family);
    if (!s) return false;
    try {
      // copy: the caller may reuse its buffer before the send completes
      s.sock.send(data.slice(), remote.port, remote.toIpString(), (err) => {
        if (err) {
          this.stats.sendErrors++;
          this.#log.debug(`send to ${remote} failed: ${err.message}`);
        }
      });
      this.stats.sent++;
      return true;
    } catch (e) {
      this.stats.sendErrors++;
      this.#log.debug(`send to ${remote} failed: ${e instanceof Error ? e.message : e}`);
      return false;
    }
  }

  /** Closes every socket (idempotent). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#sockets.map((s) =>
      new Promise<void>((resolve) => {
        try {
          s.sock.close(() => resolve());
        } catch {
          resolve();
        }
      })
    ));
  }
}
