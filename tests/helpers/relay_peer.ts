// Test helpers for the TCP relay: a raw relay client over TCP and a UDP echo server on loopback.
import dgram from "node:dgram";
import {
  decodeBody,
  encodeDatagram,
  encodeHello,
  MAX_RELAY_BODY_BYTES,
  RecordReader,
} from "../../src/service/tcp_relay_frame.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";

/** A UDP echo server on 127.0.0.1 (sends every datagram back to its source). */
export async function udpEcho(): Promise<{ port: number; received: () => number; close(): void }> {
  const s = dgram.createSocket({ type: "udp4" });
  let n = 0;
  s.on("message", (m: Uint8Array, r: dgram.RemoteInfo) => {
    n++;
    s.send(m, r.port, r.address);
  });
  await new Promise<void>((res) => s.bind(0, "127.0.0.1", () => res()));
  return { port: s.address().port, received: () => n, close: () => s.close() };
}

/** A datagram the relay sent back, with its source address. */
export interface RelayedDatagram {
  /** Where it came from. */
  from: InetAddress | undefined;
  /** Its bytes. */
  data: Uint8Array;
}

/** A raw client of a relay: connects, says hello, sends and receives records. */
export class RelayTestClient {
  readonly conn: Deno.TcpConn;
  readonly received: RelayedDatagram[] = [];
  readonly #reader = new RecordReader(MAX_RELAY_BODY_BYTES);
  #closed = false;
  /** Resolves when the relay closes the connection. */
  readonly closed: Promise<void>;

  private constructor(conn: Deno.TcpConn, read: boolean) {
    this.conn = conn;
    this.closed = read ? this.#readLoop() : new Promise(() => {});
  }

  /** Connects to 127.0.0.1:`port`; `read` false leaves the socket unread (a slow reader). */
  static async connect(port: number, read = true): Promise<RelayTestClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    return new RelayTestClient(conn, read);
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(16384);
    try {
      for (;;) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        const err = this.#reader.push(buf.subarray(0, n), (b) => {
          const r = decodeBody(b);
          if (!("error" in r) && r.kind === "datagram") {
            this.received.push({ from: r.address, data: r.data.slice() });
          }
        });
        if (err) break;
      }
    } catch {
      // reset or closed by us
    }
    this.#closed = true;
  }

  /** Whether the relay has closed the connection. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Writes raw bytes. */
  async write(b: Uint8Array): Promise<void> {
    let off = 0;
    while (off < b.length) off += await this.conn.write(b.subarray(off));
  }

  /** Sends the hello record. */
  hello(): Promise<void> {
    return this.write(encodeHello(1, 14, 1));
  }

  /** Sends one datagram to `to` through the relay. */
  send(to: InetAddress, data: Uint8Array): Promise<void> {
    return this.write(encodeDatagram(to, data)!);
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

/** Polls `cond` every 20 ms until it holds or `ms` passes; returns whether it held. */
export async function until(cond: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
