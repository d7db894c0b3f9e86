// The Transport role over a simulated UDP socket: the in-memory double the simulator's cores send and receive through.
import type { DatagramHandler, Transport, TransportStats } from "../core/transport.ts";
import { InetAddress } from "../vl1/inet_address.ts";
import type { UdpSocket } from "./network.ts";

/**
 * A {@link Transport} with one socket (id 0) on a simulated host (the model is wireguard-go's
 * `bindtest`): datagrams cross the simulated internet (links, loss, NATs) to other sockets. The
 * handler receives each datagram with socket id 0; exceptions it throws are counted and dropped.
 */
export class SimTransport implements Transport {
  /** Counters. */
  readonly stats: TransportStats = { received: 0, sent: 0, sendErrors: 0, handlerErrors: 0 };
  /** The simulated socket. */
  readonly socket: UdpSocket;

  /** Receives on `socket` into `onDatagram`. */
  constructor(socket: UdpSocket, onDatagram: DatagramHandler) {
    this.socket = socket;
    socket.onReceive((src, bytes) => {
      const remote = InetAddress.fromIp(src.ip, src.port);
      if (!remote) return;
      this.stats.received++;
      try {
        onDatagram(0, remote, bytes);
      } catch {
        this.stats.handlerErrors++;
      }
    });
  }

  /** Sends a copy of `data` (any socket id means this one socket). */
  send(_localSocket: number, remote: InetAddress, data: Uint8Array, ttl?: number): boolean {
    const ok = this.socket.send({ ip: remote.toIpString(), port: remote.port }, data, ttl);
    if (ok) this.stats.sent++;
    else this.stats.sendErrors++;
    return ok;
  }

  /** The socket's local address. */
  boundAddresses(): InetAddress[] {
    const a = InetAddress.fromIp(this.socket.local.ip, this.socket.local.port);
    return a ? [a] : [];
  }

  /** Simulated sockets are bound to one host address, never a wildcard. */
  hasWildcard(_family: 4 | 6): boolean {
    return false;
  }

  /** Closes the socket (later sends return false). */
  close(): Promise<void> {
    this.socket.close();
    return Promise.resolve();
  }
}
