// The node's end of a TCP fallback tunnel: connect to a relay, say hello, send and receive addressed datagrams; and the tunnel as a Transport.
import type { DatagramHandler, Transport, TransportStats } from "../core/transport.ts";
import { InetAddress } from "../vl1/inet_address.ts";
import { SOFTWARE_VERSION } from "../version.ts";
import type { Logger } from "./logger.ts";
import {
  decodeBody,
  encodeDatagram,
  encodeHello,
  MAX_RELAY_BODY_BYTES,
  RecordReader,
} from "./tcp_relay_frame.ts";

/** Most bytes queued toward the relay (the reference's 64 KiB); datagrams beyond are dropped. */
export const TUNNEL_WRITE_QUEUE_BYTES = 65536;
/** Give up a connection attempt after this long. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Options of {@link TcpRelayTunnel.open}. */
export interface TcpRelayTunnelOptions {
  /** The relay (IPv4 or IPv6 address with port). */
  relay: InetAddress;
  /** A datagram the relay passed on, with its source. */
  onPacket: (from: InetAddress, data: Uint8Array) => void;
  /** The tunnel closed (by either side, or the connection failed). Called once. */
  onClose: (reason: string) => void;
  /** The tunnel is connected and the hello sent. */
  onConnected?: () => void;
  /** Logger. */
  log: Logger;
}

/** One tunnel to a relay. Sends queue while connecting. */
export class TcpRelayTunnel {
  /** The relay. */
  readonly relay: InetAddress;
  /** Datagrams sent / received / dropped (queue full). */
  readonly stats = { sent: 0, received: 0, dropped: 0 };
  readonly #o: TcpRelayTunnelOptions;
  readonly #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #conn: Deno.TcpConn | undefined;
  #writing = false;
  #closed = false;
  #connected = false;

  private constructor(o: TcpRelayTunnelOptions) {
    this.relay = o.relay;
    this.#o = o;
  }

  /** Starts connecting (returns at once; see `onConnected` / `onClose`). */
  static open(o: TcpRelayTunnelOptions): TcpRelayTunnel {
    const t = new TcpRelayTunnel(o);
    void t.#run();
    return t;
  }

  /** Connected and not closed. */
  get connected(): boolean {
    return this.#connected && !this.#closed;
  }

  /** Closed (or failed). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Queues one datagram to `to` (IPv4). Returns false if dropped. */
  send(to: InetAddress, data: Uint8Array): boolean {
    if (this.#closed) return false;
    const rec = encodeDatagram(to, data);
    if (!rec || this.#queuedBytes >= TUNNEL_WRITE_QUEUE_BYTES) {
      this.stats.dropped++;
      return false;
    }
    this.#queue.push(rec);
    this.#queuedBytes += rec.length;
    this.stats.sent++;
    if (this.#connected && !this.#writing) void this.#pump();
    return true;
  }

  /** Closes the tunnel (idempotent). */
  close(reason = "closed"): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    try {
      this.#conn?.close();
    } catch {
      // already closed
    }
    this.#o.onClose(reason);
  }

  /** Connects, sends the hello, then reads until the connection ends. */
  async #run(): Promise<void> {
    const r = this.#o.relay;
    let conn: Deno.TcpConn;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error("connect timed out")), CONNECT_TIMEOUT_MS);
      });
      const connecting = Deno.connect({ hostname: r.toIpString(), port: r.port, transport: "tcp" });
      conn = await Promise.race([connecting, timeout]).catch((e) => {
        // a connection that completes after the timeout is closed, not leaked
        connecting.then((late) => late.close(), () => {});
        throw e;
      }).finally(() => clearTimeout(timer));
    } catch (e) {
      this.close(`cannot connect to ${r}: ${e instanceof Error ? e.message : e}`);
      return;
    }
    if (this.#closed) {
      conn.close();
      return;
    }
    this.#conn = conn;
    try {
      conn.setNoDelay(true);
    } catch {
      // not fatal
    }
    const v = SOFTWARE_VERSION;
    this.#queue.unshift(encodeHello(v.major, v.minor, v.revision));
    this.#queuedBytes += 9;
    this.#connected = true;
    this.#o.onConnected?.();
    void this.#pump();
    const reader = new RecordReader(MAX_RELAY_BODY_BYTES);
    const buf = new Uint8Array(16384);
    let reason = "closed by the relay";
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        const err = reader.push(buf.subarray(0, n), (b) => this.#record(b));
        if (err) {
          reason = `bad record from the relay: ${err}`;
          break;
        }
      }
    } catch (e) {
      reason = `read: ${e instanceof Error ? e.message : e}`;
    }
    this.close(reason);
  }

  /** One record from the relay. */
  #record(body: Uint8Array): void {
    const r = decodeBody(body);
    if ("error" in r) {
      this.close(`bad record from the relay: ${r.error}`);
      return;
    }
    if (r.kind !== "datagram" || r.address === undefined) return;
    this.stats.received++;
    try {
      this.#o.onPacket(r.address, r.data);
    } catch (e) {
      this.#o.log.debug(`tunnel packet handler failed: ${e instanceof Error ? e.stack : e}`);
    }
  }

  /** Writes the queue until it is empty. */
  async #pump(): Promise<void> {
    if (this.#writing || !this.#conn) return;
    this.#writing = true;
    const conn = this.#conn;
    try {
      while (!this.#closed && this.#queue.length > 0) {
        let n = 0;
        let k = 0;
        while (k < this.#queue.length && (k === 0 || n + this.#queue[k].length <= 65536)) {
          n += this.#queue[k].length;
          k++;
        }
        const chunk = new Uint8Array(n);
        let off = 0;
        for (const part of this.#queue.splice(0, k)) {
          chunk.set(part, off);
          off += part.length;
        }
        off = 0;
        while (off < chunk.length) {
          const w = await conn.write(chunk.subarray(off));
          off += w;
          this.#queuedBytes -= w;
        }
      }
    } catch (e) {
      this.close(`write: ${e instanceof Error ? e.message : e}`);
    } finally {
      this.#writing = false;
    }
  }
}

/** What {@link TcpRelayTransport} needs of a tunnel (a {@link TcpRelayTunnel}, or a fake in tests). */
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

/** Options of {@link TcpRelayTransport}. */
export interface TcpRelayTransportOptions {
  /** The relay. */
  relay: InetAddress;
  /** Logger. */
  log: Logger;
  /** Receives every datagram the relay passes on, as socket `socketId`. */
  onDatagram: DatagramHandler;
  /** The id of the transport's one socket (the tunnel); default 0. */
  socketId?: number;
  /** Opens a tunnel (default {@link TcpRelayTunnel.open}). */
  openTunnel?: (o: TcpRelayTunnelOptions) => TunnelLike;
}

/**
 * The TCP fallback tunnel as a {@link Transport} with one socket: datagrams go to and come from
 * the relay. The tunnel is opened on demand ({@link open}; the fallback policy decides when) and
 * reopened after it closed; sends while no tunnel is up fail. No local address is bound.
 */
export class TcpRelayTransport implements Transport {
  /** Datagrams passed on by the relay / queued to it / refused; handler exceptions. */
  readonly stats: TransportStats = { received: 0, sent: 0, sendErrors: 0, handlerErrors: 0 };
  /** The relay. */
  readonly relay: InetAddress;
  /** Tunnels opened so far. */
  tunnelsOpened = 0;
  readonly #o: TcpRelayTransportOptions;
  readonly #socketId: number;
  #tunnel: TunnelLike | undefined;
  #closed = false;

  /** @param o options. */
  constructor(o: TcpRelayTransportOptions) {
    this.relay = o.relay;
    this.#o = o;
    this.#socketId = o.socketId ?? 0;
  }

  /** A tunnel exists (connecting or connected). */
  get up(): boolean {
    return this.#tunnel !== undefined && !this.#tunnel.closed;
  }

  /** The tunnel is connected (`tcpFallbackActive`). */
  get connected(): boolean {
    return this.#tunnel?.connected === true;
  }

  /** Opens a tunnel to the relay (replacing a closed one; nothing once this transport is closed). */
  open(): void {
    if (this.#closed) return;
    const relay = this.relay;
    const log = this.#o.log;
    const openTunnel = this.#o.openTunnel ?? TcpRelayTunnel.open;
    this.tunnelsOpened++;
    log.info(`TCP fallback: no UDP from the internet; tunneling through ${relay}`);
    let t: TunnelLike | undefined = undefined;
    t = openTunnel({
      relay,
      log,
      onPacket: (from, data) => {
        this.stats.received++;
        try {
          this.#o.onDatagram(this.#socketId, from, data);
        } catch (e) {
          this.stats.handlerErrors++;
          throw e; // the tunnel logs it
        }
      },
      onConnected: () => log.info(`TCP fallback: tunnel to ${relay} connected`),
      onClose: (reason) => {
        log.info(`TCP fallback: tunnel to ${relay} closed (${reason})`);
        if (t !== undefined && this.#tunnel === t) this.#tunnel = undefined;
      },
    });
    if (!t.closed) this.#tunnel = t;
  }

  /** Closes the tunnel, if any (it may be opened again). */
  closeTunnel(reason: string): void {
    this.#tunnel?.close(reason);
    this.#tunnel = undefined;
  }

  /** Queues one datagram to `remote` through the tunnel (any socket id means the tunnel). */
  send(_localSocket: number, remote: InetAddress, data: Uint8Array, _ttl?: number): boolean {
    const ok = this.#tunnel !== undefined && this.#tunnel.send(remote, data);
    if (ok) this.stats.sent++;
    else this.stats.sendErrors++;
    return ok;
  }

  /** A tunnel binds no local address. */
  boundAddresses(): InetAddress[] {
    return [];
  }

  /** A tunnel binds no wildcard socket. */
  hasWildcard(_family: 4 | 6): boolean {
    return false;
  }

  /** Closes the tunnel; no tunnel is opened afterwards (idempotent). */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.closeTunnel("shutting down");
    }
    return Promise.resolve();
  }
}
