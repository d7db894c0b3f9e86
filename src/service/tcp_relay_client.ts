// The node's end of a TCP fallback tunnel: connect to a relay, say hello, send and receive addressed datagrams.
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
