// The DNS listener: UDP and TCP sockets on given local addresses answering from zones, with bounded TCP (connection cap, timeouts).
import dgram from "node:dgram";
import { Buffer } from "node:buffer";
import type { Zone } from "../controller/dns_zone.ts";
import { answerQuery, TCP_MAX } from "./dns_message.ts";

/** Default most TCP connections open at once (more are closed on accept). */
export const DNS_TCP_MAX_CONNECTIONS = 64;
/** Default time a TCP client has to send a whole query, and to take its answer (ms). */
export const DNS_TCP_TIMEOUT_MS = 5_000;
/** Default most queries answered on one TCP connection before it is closed. */
export const DNS_TCP_MAX_QUERIES = 100;

/** Options of {@link DnsServer}. */
export interface DnsServerOptions {
  /** The zones served on a local address (looked up per query, so changes apply at once). */
  zones: (localIp: string) => Zone[];
  /** Port (default 53). */
  port?: number;
  /** TCP connection cap (default {@link DNS_TCP_MAX_CONNECTIONS}). */
  maxTcpConnections?: number;
  /** Per-query TCP deadline in ms (default {@link DNS_TCP_TIMEOUT_MS}). */
  tcpTimeoutMs?: number;
  /** Queries per TCP connection (default {@link DNS_TCP_MAX_QUERIES}). */
  tcpMaxQueries?: number;
  /** Reports a failure inside a listener (never fatal). */
  onError?: (msg: string) => void;
}

/** Counters of a {@link DnsServer}. */
export interface DnsServerStats {
  /** Datagrams received. */
  udpQueries: number;
  /** TCP messages received. */
  tcpQueries: number;
  /** TCP connections accepted. */
  tcpAccepted: number;
  /** TCP connections closed at once because of the cap. */
  tcpRejected: number;
  /** TCP connections closed for being too slow. */
  tcpTimedOut: number;
  /** Answers by rcode (0 NOERROR, 3 NXDOMAIN, 5 REFUSED, ...). */
  rcodes: Map<number, number>;
}

interface Listener {
  udp: dgram.Socket;
  tcp: Deno.TcpListener;
  conns: Set<Deno.TcpConn>;
}

/** Binds a UDP socket; rejects with the bind error. */
function bindUdp(ip: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type: ip.includes(":") ? "udp6" : "udp4" });
    const onError = (e: Error) => {
      try {
        s.close();
      } catch {
        // not open
      }
      reject(e);
    };
    s.once("error", onError);
    s.bind({ port, address: ip, exclusive: true }, () => {
      s.off("error", onError);
      resolve(s);
    });
  });
}

/** Reads exactly `n` bytes into a new buffer; undefined at end of stream. */
async function readExact(conn: Deno.Conn, n: number): Promise<Uint8Array | undefined> {
  const out = new Uint8Array(n);
  let off = 0;
  while (off < n) {
    const got = await conn.read(out.subarray(off));
    if (got === null) return undefined;
    off += got;
  }
  return out;
}

async function writeAll(conn: Deno.Conn, b: Uint8Array): Promise<void> {
  let off = 0;
  while (off < b.length) off += await conn.write(b.subarray(off));
}

/**
 * A DNS server for the member names: one UDP socket and one TCP listener per bound address,
 * each query answered from the zones of the address it arrived at ({@link answerQuery}).
 * TCP is bounded: at most `maxTcpConnections` open (more are closed on accept), each query must
 * arrive and its answer be taken within `tcpTimeoutMs`, at most `tcpMaxQueries` per connection.
 */
export class DnsServer {
  /** Counters. */
  readonly stats: DnsServerStats = {
    udpQueries: 0,
    tcpQueries: 0,
    tcpAccepted: 0,
    tcpRejected: 0,
    tcpTimedOut: 0,
    rcodes: new Map(),
  };
  readonly #zones: (localIp: string) => Zone[];
  readonly #port: number;
  readonly #maxConns: number;
  readonly #timeoutMs: number;
  readonly #maxQueries: number;
  readonly #onError: (msg: string) => void;
  readonly #listeners = new Map<string, Listener>();
  readonly #tasks = new Set<Promise<void>>();
  #openConns = 0;

  /** A server with nothing bound yet. */
  constructor(o: DnsServerOptions) {
    this.#zones = o.zones;
    this.#port = o.port ?? 53;
    this.#maxConns = o.maxTcpConnections ?? DNS_TCP_MAX_CONNECTIONS;
    this.#timeoutMs = o.tcpTimeoutMs ?? DNS_TCP_TIMEOUT_MS;
    this.#maxQueries = o.tcpMaxQueries ?? DNS_TCP_MAX_QUERIES;
    this.#onError = o.onError ?? (() => {});
  }

  /** Addresses currently served. */
  bound(): string[] {
    return [...this.#listeners.keys()].sort();
  }

  /** TCP connections open now. */
  get openConnections(): number {
    return this.#openConns;
  }

  /**
   * Serves `ip` (UDP and TCP on the port). No-op if already bound. @throws the bind error
   * (address not on this host yet, port taken, no permission); nothing stays bound then.
   */
  async bind(ip: string): Promise<void> {
    if (this.#listeners.has(ip)) return;
    const udp = await bindUdp(ip, this.#port);
    let tcp: Deno.TcpListener;
    try {
      tcp = Deno.listen({ hostname: ip, port: this.#port, transport: "tcp" });
    } catch (e) {
      udp.close();
      throw e;
    }
    if (this.#listeners.has(ip)) {
      udp.close();
      tcp.close();
      return;
    }
    const l: Listener = { udp, tcp, conns: new Set() };
    this.#listeners.set(ip, l);
    udp.on("message", (msg: Buffer, rinfo: dgram.RemoteInfo) => {
      this.stats.udpQueries++;
      let reply;
      try {
        reply = answerQuery(
          new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength),
          this.#zones(ip),
        );
      } catch (e) {
        this.#onError(`dns ${ip}: ${e instanceof Error ? e.message : e}`);
        return;
      }
      if (!reply.bytes) return;
      this.#count(reply.rcode);
      udp.send(reply.bytes, rinfo.port, rinfo.address, (err) => {
        if (err) this.#onError(`dns ${ip}: send to ${rinfo.address}: ${err.message}`);
      });
    });
    udp.on("error", (e: Error) => this.#onError(`dns ${ip} udp: ${e.message}`));
    this.#track(this.#acceptLoop(ip, l));
  }

  /** Stops serving `ip` (its open TCP connections are closed); resolves once the port is free. */
  async unbind(ip: string): Promise<void> {
    const l = this.#listeners.get(ip);
    if (!l) return;
    this.#listeners.delete(ip);
    try {
      l.tcp.close();
    } catch {
      // closed
    }
    for (const c of l.conns) {
      try {
        c.close();
      } catch {
        // closed
      }
    }
    await new Promise<void>((resolve) => {
      try {
        l.udp.close(() => resolve());
      } catch {
        resolve(); // closed already
      }
    });
  }

  /** Unbinds everything and waits for the connection handlers to finish. */
  async close(): Promise<void> {
    await Promise.all([...this.#listeners.keys()].map((ip) => this.unbind(ip)));
    await Promise.all([...this.#tasks]);
  }

  #count(rcode: number | undefined): void {
    if (rcode === undefined) return;
    this.stats.rcodes.set(rcode, (this.stats.rcodes.get(rcode) ?? 0) + 1);
  }

  #track(p: Promise<void>): void {
    const t = p.catch((e) => this.#onError(`dns: ${e instanceof Error ? e.message : e}`));
    this.#tasks.add(t);
    void t.finally(() => this.#tasks.delete(t));
  }

  async #acceptLoop(ip: string, l: Listener): Promise<void> {
    while (this.#listeners.get(ip) === l) {
      let conn: Deno.TcpConn;
      try {
        conn = await l.tcp.accept();
      } catch {
        return; // listener closed
      }
      if (this.#openConns >= this.#maxConns || this.#listeners.get(ip) !== l) {
        this.stats.tcpRejected++;
        try {
          conn.close();
        } catch {
          // closed
        }
        continue;
      }
      this.stats.tcpAccepted++;
      this.#openConns++;
      l.conns.add(conn);
      this.#track(
        this.#serveConn(ip, conn).finally(() => {
          this.#openConns--;
          l.conns.delete(conn);
          try {
            conn.close();
          } catch {
            // closed
          }
        }),
      );
    }
  }

  /** Answers length-prefixed queries until the client stops, is too slow, or used its quota. */
  async #serveConn(ip: string, conn: Deno.TcpConn): Promise<void> {
    for (let n = 0; n < this.#maxQueries; n++) {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          conn.close();
        } catch {
          // closed
        }
      }, this.#timeoutMs);
      try {
        const len = await readExact(conn, 2);
        if (!len) return;
        const size = (len[0] << 8) | len[1];
        const msg = size > 0 ? await readExact(conn, size) : new Uint8Array(0);
        if (!msg) return;
        this.stats.tcpQueries++;
        const reply = answerQuery(msg, this.#zones(ip), TCP_MAX);
        if (!reply.bytes) return;
        this.#count(reply.rcode);
        const out = new Uint8Array(2 + reply.bytes.length);
        out[0] = reply.bytes.length >> 8;
        out[1] = reply.bytes.length & 0xff;
        out.set(reply.bytes, 2);
        await writeAll(conn, out);
      } catch {
        return; // reset, closed by the timer or by unbind
      } finally {
        clearTimeout(timer);
        if (timedOut) this.stats.tcpTimedOut++;
      }
    }
  }
}
