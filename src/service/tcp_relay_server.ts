// `zt relay`: a TCP fallback relay (the reference's tcp-proxy protocol) with limits, an allow list and metrics.
//
// Each accepted TCP connection gets its own UDP socket (IPv4): datagrams the client sends in
// records go out of that socket, datagrams arriving on it go back to the client in records with
// their source address. Only IPv4, only datagrams of 16..2047 bytes, only to ports above 1024.
import dgram from "node:dgram";
import client from "prom-client";
import { InetAddress } from "../vl1/inet_address.ts";
import type { Logger } from "./logger.ts";
import {
  decodeBody,
  encodeDatagram,
  MAX_CLIENT_BODY_BYTES,
  MAX_DATAGRAM_BYTES,
  MIN_DATAGRAM_BYTES,
  RecordReader,
} from "./tcp_relay_frame.ts";

import {
  DEFAULT_RELAY_IDLE_MS,
  DEFAULT_RELAY_MAX_CONNECTIONS,
  DEFAULT_RELAY_PORT,
  DEFAULT_RELAY_WRITE_BUFFER,
} from "./tcp_relay_defaults.ts";
export {
  DEFAULT_RELAY_IDLE_MS,
  DEFAULT_RELAY_MAX_CONNECTIONS,
  DEFAULT_RELAY_PORT,
  DEFAULT_RELAY_WRITE_BUFFER,
};
/** Bytes read from a TCP connection per read. */
const READ_CHUNK = 16384;
/** Most bytes written to a TCP connection per write call. */
const WRITE_COALESCE = 65536;
/** Most datagrams of one client waiting for the kernel's UDP send buffer; beyond, dropped. */
const MAX_PENDING_UDP = 256;

/** Options of {@link TcpRelayServer.start}. */
export interface TcpRelayServerOptions {
  /** TCP port (0 = any free port; see {@link TcpRelayServer.port}). */
  port: number;
  /** Address to listen on (default 0.0.0.0); also the UDP sockets' address when IPv4. */
  bind?: string;
  /** Client networks allowed to connect (ip/bits); empty = everyone. */
  allow?: InetAddress[];
  /** Idle timeout, ms. */
  idleMs?: number;
  /** Most concurrent connections; further ones are closed at once. */
  maxConnections?: number;
  /** Most bytes queued toward one client; datagrams beyond are dropped. */
  writeBufferBytes?: number;
  /** Logger. */
  log: Logger;
}

/** Counters of a relay (live; the metrics are built from these). */
export interface TcpRelayStats {
  /** Connections accepted. */
  accepted: number;
  /** Connections refused because of the cap. */
  rejectedCap: number;
  /** Connections refused by the allow list. */
  rejectedAllow: number;
  /** Connections closed for being idle. */
  closedIdle: number;
  /** Connections closed for a malformed or oversized record. */
  closedBadRecord: number;
  /** Connections closed by the client or on an I/O error. */
  closedOther: number;
  /** Datagrams sent to UDP for clients. */
  toUdp: number;
  /** Datagrams relayed back to clients. */
  toTcp: number;
  /** Bytes read from clients. */
  tcpBytesIn: number;
  /** Bytes written to clients. */
  tcpBytesOut: number;
  /** Client records dropped: before the hello, not IPv4, port <= 1024, size outside 16..2047. */
  droppedFromClient: number;
  /** Datagrams dropped toward a client: its write buffer was full. */
  droppedBufferFull: number;
  /** Client datagrams dropped because its UDP socket had too many sends waiting. */
  droppedUdpBusy: number;
  /** Datagrams arriving on a client's socket that were not IPv4 or of a bad size. */
  droppedFromUdp: number;
}

/** One client connection. */
class RelayConnection {
  readonly id: number;
  readonly conn: Deno.TcpConn;
  readonly udp: dgram.Socket;
  readonly remote: string;
  readonly reader = new RecordReader(MAX_CLIENT_BODY_BYTES);
  hello = false;
  lastActivity: number;
  readonly queue: Uint8Array[] = [];
  queuedBytes = 0;
  writing = false;
  closed = false;
  /** Datagrams handed to the UDP socket and not yet sent. */
  pendingUdp = 0;

  constructor(id: number, conn: Deno.TcpConn, udp: dgram.Socket, remote: string, now: number) {
    this.id = id;
    this.conn = conn;
    this.udp = udp;
    this.remote = remote;
    this.lastActivity = now;
  }
}

/** Whether an IPv4 destination is one the relay never sends to (unspecified, multicast, broadcast). */
function unroutable(a: InetAddress): boolean {
  return a.ip[0] === 0 || a.ip[0] >= 224;
}

/** The relay. Create with {@link TcpRelayServer.start}, stop with {@link TcpRelayServer.close}. */
export class TcpRelayServer {
  /** Counters. */
  readonly stats: TcpRelayStats = {
    accepted: 0,
    rejectedCap: 0,
    rejectedAllow: 0,
    closedIdle: 0,
    closedBadRecord: 0,
    closedOther: 0,
    toUdp: 0,
    toTcp: 0,
    tcpBytesIn: 0,
    tcpBytesOut: 0,
    droppedFromClient: 0,
    droppedBufferFull: 0,
    droppedUdpBusy: 0,
    droppedFromUdp: 0,
  };
  /** The TCP port listened on. */
  readonly port: number;
  readonly #listener: Deno.TcpListener;
  readonly #conns = new Map<number, RelayConnection>();
  readonly #log: Logger;
  readonly #allow: InetAddress[];
  readonly #idleMs: number;
  readonly #maxConnections: number;
  readonly #writeBufferBytes: number;
  readonly #udpBind: string;
  readonly #sweeper: ReturnType<typeof setInterval>;
  readonly #acceptLoop: Promise<void>;
  #nextId = 1;
  #closing = false;

  private constructor(listener: Deno.TcpListener, o: TcpRelayServerOptions) {
    this.#listener = listener;
    this.port = (listener.addr as Deno.NetAddr).port;
    this.#log = o.log;
    this.#allow = o.allow ?? [];
    this.#idleMs = o.idleMs ?? DEFAULT_RELAY_IDLE_MS;
    this.#maxConnections = o.maxConnections ?? DEFAULT_RELAY_MAX_CONNECTIONS;
    this.#writeBufferBytes = o.writeBufferBytes ?? DEFAULT_RELAY_WRITE_BUFFER;
    const b = o.bind ? InetAddress.fromIp(o.bind) : undefined;
    this.#udpBind = b && b.family === 4 ? b.toIpString() : "0.0.0.0";
    const sweepEvery = Math.max(50, Math.min(10_000, Math.floor(this.#idleMs / 4)));
    this.#sweeper = setInterval(() => this.#sweep(), sweepEvery);
    this.#acceptLoop = this.#accept();
  }

  /** Listens. @throws Deno.errors.AddrInUse and the like when the port cannot be bound. */
  static start(o: TcpRelayServerOptions): TcpRelayServer {
    const listener = Deno.listen({ hostname: o.bind ?? "0.0.0.0", port: o.port, transport: "tcp" });
    return new TcpRelayServer(listener, o);
  }

  /** Connections open now. */
  get connections(): number {
    return this.#conns.size;
  }

  /** Bytes queued toward clients right now (all connections). */
  get queuedBytes(): number {
    let n = 0;
    for (const c of this.#conns.values()) n += c.queuedBytes;
    return n;
  }

  /** Whether `hostname` may connect. */
  #allowed(hostname: string): boolean {
    if (this.#allow.length === 0) return true;
    let a = InetAddress.fromIp(hostname.replace(/^\[|\]$/g, "").replace(/%.*$/, ""));
    if (!a) return false;
    if (
      a.family === 6 && a.ip.subarray(0, 10).every((x) => x === 0) && a.ip[10] === 0xff &&
      a.ip[11] === 0xff
    ) {
      a = new InetAddress(a.ip.slice(12, 16), 0); // IPv4-mapped
    }
    return this.#allow.some((n) => n.family === a!.family && n.containsAddress(a!));
  }

  /** Accepts until the listener closes. */
  async #accept(): Promise<void> {
    while (!this.#closing) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (this.#closing) return;
        this.#log.warn(`relay: accept failed: ${e instanceof Error ? e.message : e}`);
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const ra = conn.remoteAddr as Deno.NetAddr;
      const remote = `${ra.hostname}/${ra.port}`;
      if (!this.#allowed(ra.hostname)) {
        this.stats.rejectedAllow++;
        this.#log.debug(`relay: ${remote} not in --allow; closed`);
        closeQuietly(conn);
        continue;
      }
      if (this.#conns.size >= this.#maxConnections) {
        this.stats.rejectedCap++;
        this.#log.debug(`relay: connection cap ${this.#maxConnections} reached; ${remote} closed`);
        closeQuietly(conn);
        continue;
      }
      void this.#serve(conn, remote);
    }
  }

  /** Opens the client's UDP socket and runs its read loop. */
  async #serve(conn: Deno.TcpConn, remote: string): Promise<void> {
    const id = this.#nextId++;
    let udp: dgram.Socket;
    try {
      udp = await bindUdp(this.#udpBind);
    } catch (e) {
      this.stats.closedOther++;
      this.#log.warn(`relay: no UDP socket for ${remote}: ${e instanceof Error ? e.message : e}`);
      closeQuietly(conn);
      return;
    }
    if (this.#closing) {
      udp.close();
      closeQuietly(conn);
      return;
    }
    try {
      conn.setNoDelay(true);
    } catch {
      // not fatal
    }
    const c = new RelayConnection(id, conn, udp, remote, Date.now());
    this.#conns.set(id, c);
    this.stats.accepted++;
    this.#log.debug(`relay: #${id} from ${remote}`);
    udp.on("error", (e: Error) => this.#log.debug(`relay: #${id} UDP: ${e.message}`));
    udp.on("message", (msg: Uint8Array, rinfo: dgram.RemoteInfo) => this.#fromUdp(c, msg, rinfo));

    const buf = new Uint8Array(READ_CHUNK);
    let reason: "bad" | "other" = "other";
    try {
      while (!c.closed) {
        const n = await conn.read(buf);
        if (n === null) break;
        c.lastActivity = Date.now();
        this.stats.tcpBytesIn += n;
        const err = c.reader.push(buf.subarray(0, n), (body) => this.#fromClient(c, body));
        if (err) {
          reason = "bad";
          this.#log.debug(`relay: #${id} ${remote}: ${err}; closing`);
          break;
        }
      }
    } catch (e) {
      if (!c.closed) this.#log.debug(`relay: #${id} read: ${e instanceof Error ? e.message : e}`);
    }
    if (!c.closed) {
      if (reason === "bad") this.stats.closedBadRecord++;
      else this.stats.closedOther++;
    }
    this.#drop(c);
  }

  /** One record from a client. */
  #fromClient(c: RelayConnection, body: Uint8Array): void {
    const r = decodeBody(body);
    if ("error" in r) {
      this.stats.droppedFromClient++;
      return;
    }
    if (r.kind === "hello") {
      c.hello = true;
      return;
    }
    if (r.kind === "empty") return;
    const a = r.address;
    // Records before the hello would go to a local node in the reference's legacy mode; zt's
    // relay has no such mode and drops them.
    if (
      !c.hello || a === undefined || a.family !== 4 || a.port <= 1024 || unroutable(a) ||
      r.data.length < MIN_DATAGRAM_BYTES || r.data.length > MAX_DATAGRAM_BYTES
    ) {
      this.stats.droppedFromClient++;
      return;
    }
    if (c.pendingUdp >= MAX_PENDING_UDP) {
      this.stats.droppedUdpBusy++;
      return;
    }
    try {
      c.pendingUdp++;
      c.udp.send(r.data.slice(), a.port, a.toIpString(), () => c.pendingUdp--);
      this.stats.toUdp++;
    } catch {
      c.pendingUdp--;
      this.stats.droppedFromClient++;
    }
  }

  /** One datagram on a client's UDP socket. */
  #fromUdp(c: RelayConnection, msg: Uint8Array, rinfo: dgram.RemoteInfo): void {
    if (c.closed) return;
    if (
      rinfo.family !== "IPv4" || msg.length < MIN_DATAGRAM_BYTES || msg.length > MAX_DATAGRAM_BYTES
    ) {
      this.stats.droppedFromUdp++;
      return;
    }
    const from = InetAddress.fromIp(rinfo.address, rinfo.port);
    const rec = from ? encodeDatagram(from, msg) : undefined;
    if (!rec || !c.hello) {
      this.stats.droppedFromUdp++;
      return;
    }
    if (c.queuedBytes + rec.length > this.#writeBufferBytes) {
      this.stats.droppedBufferFull++;
      return;
    }
    c.lastActivity = Date.now();
    c.queue.push(rec);
    c.queuedBytes += rec.length;
    this.stats.toTcp++;
    if (!c.writing) void this.#pump(c);
  }

  /** Writes a connection's queue until it is empty. */
  async #pump(c: RelayConnection): Promise<void> {
    c.writing = true;
    try {
      while (!c.closed && c.queue.length > 0) {
        let chunk: Uint8Array;
        if (c.queue.length === 1 || c.queue[0].length >= WRITE_COALESCE) {
          chunk = c.queue.shift()!;
        } else {
          let n = 0;
          let k = 0;
          while (k < c.queue.length && n + c.queue[k].length <= WRITE_COALESCE) {
            n += c.queue[k].length;
            k++;
          }
          chunk = new Uint8Array(n);
          let off = 0;
          for (const part of c.queue.splice(0, k)) {
            chunk.set(part, off);
            off += part.length;
          }
        }
        let off = 0;
        while (off < chunk.length) {
          const w = await c.conn.write(chunk.subarray(off));
          off += w;
          c.queuedBytes -= w;
          this.stats.tcpBytesOut += w;
        }
      }
    } catch (e) {
      if (!c.closed) {
        this.#log.debug(`relay: #${c.id} write: ${e instanceof Error ? e.message : e}`);
        this.stats.closedOther++;
        this.#drop(c);
      }
    } finally {
      c.writing = false;
    }
  }

  /** Closes connections idle for too long. */
  #sweep(): void {
    const now = Date.now();
    for (const c of [...this.#conns.values()]) {
      if (now - c.lastActivity >= this.#idleMs) {
        this.stats.closedIdle++;
        this.#log.debug(`relay: #${c.id} ${c.remote} idle; closing`);
        this.#drop(c);
      }
    }
  }

  /** Closes one connection and its UDP socket (idempotent). */
  #drop(c: RelayConnection): void {
    if (c.closed) return;
    c.closed = true;
    this.#conns.delete(c.id);
    c.queue.length = 0;
    c.queuedBytes = 0;
    try {
      c.udp.close();
    } catch {
      // already closed
    }
    closeQuietly(c.conn);
    this.#log.debug(`relay: #${c.id} ${c.remote} closed`);
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#sweeper);
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    for (const c of [...this.#conns.values()]) this.#drop(c);
    await this.#acceptLoop;
  }
}

/** Binds an IPv4 UDP socket on an ephemeral port. */
function bindUdp(address: string): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type: "udp4" });
    const onError = (e: Error) => {
      try {
        s.close();
      } catch {
        // not open
      }
      reject(e);
    };
    s.once("error", onError);
    s.bind(0, address, () => {
      s.off("error", onError);
      resolve(s);
    });
  });
}

/** Closes a connection, ignoring "already closed". */
function closeQuietly(c: Deno.Conn): void {
  try {
    c.close();
  } catch {
    // already closed
  }
}

/** A counter family whose value is read from a function at scrape time. */
function counterFrom(
  reg: client.Registry,
  name: string,
  help: string,
  label: string,
  values: () => Record<string, number>,
): void {
  new client.Counter({
    name,
    help,
    labelNames: [label],
    registers: [reg],
    collect() {
      this.reset();
      for (const [k, v] of Object.entries(values())) this.inc({ [label]: k }, v);
    },
  });
}

/**
 * Serves the relay's metrics (Prometheus text) at `GET /metrics` on `hostname:port`; other
 * paths get 404, other methods 405.
 */
export function serveRelayMetrics(
  relay: TcpRelayServer,
  hostname: string,
  port: number,
): Deno.HttpServer<Deno.NetAddr> {
  const reg = relayMetrics(relay);
  return Deno.serve({ hostname, port, onListen: () => {} }, async (req) => {
    if (new URL(req.url).pathname !== "/metrics") return new Response("", { status: 404 });
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    return new Response(await reg.metrics(), { headers: { "content-type": reg.contentType } });
  });
}

/** The relay's metrics as a prom-client registry (Prometheus text via `registry.metrics()`). */
export function relayMetrics(relay: TcpRelayServer): client.Registry {
  const reg = new client.Registry();
  const s = relay.stats;
  new client.Gauge({
    name: "zt_relay_connections",
    help: "TCP relay connections open",
    registers: [reg],
    collect() {
      this.set(relay.connections);
    },
  });
  new client.Gauge({
    name: "zt_relay_queued_bytes",
    help: "bytes queued toward relay clients",
    registers: [reg],
    collect() {
      this.set(relay.queuedBytes);
    },
  });
  counterFrom(
    reg,
    "zt_relay_connection_events_total",
    "TCP relay connection events",
    "event",
    () => ({
      accepted: s.accepted,
      rejected_cap: s.rejectedCap,
      rejected_allow: s.rejectedAllow,
      closed_idle: s.closedIdle,
      closed_bad_record: s.closedBadRecord,
      closed_other: s.closedOther,
    }),
  );
  counterFrom(reg, "zt_relay_datagrams_total", "datagrams relayed", "direction", () => ({
    to_udp: s.toUdp,
    to_tcp: s.toTcp,
  }));
  counterFrom(reg, "zt_relay_bytes_total", "TCP bytes relayed", "direction", () => ({
    tcp_in: s.tcpBytesIn,
    tcp_out: s.tcpBytesOut,
  }));
  counterFrom(reg, "zt_relay_dropped_total", "datagrams dropped by the relay", "reason", () => ({
    from_client: s.droppedFromClient,
    buffer_full: s.droppedBufferFull,
    udp_busy: s.droppedUdpBusy,
    from_udp: s.droppedFromUdp,
  }));
  return reg;
}
