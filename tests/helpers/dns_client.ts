// DNS test clients: a free loopback port, a server started on it, UDP and TCP queries.
import * as dnsPacket from "dns-packet";
import type { Buffer } from "node:buffer";
import dgram from "node:dgram";
import type { Zone } from "../../src/controller/dns_zone.ts";
import { DnsServer } from "../../src/service/dns_server.ts";

/** A decoded dns-packet message. */
// deno-lint-ignore no-explicit-any
export type Msg = any;

/** A free TCP port on 127.0.0.1 (UDP on the same number is almost surely free too). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts a server on 127.0.0.1 at a free port (retrying a taken one). */
export async function startServer(
  zones: () => Zone[],
  opts: Partial<ConstructorParameters<typeof DnsServer>[0]> = {},
): Promise<{ server: DnsServer; port: number }> {
  for (let i = 0;; i++) {
    const port = freePort();
    const server = new DnsServer({ zones: () => zones(), port, ...opts });
    try {
      await server.bind("127.0.0.1");
      return { server, port };
    } catch (e) {
      if (i >= 5) throw e;
    }
  }
}

/** One UDP query, answered within 5 s. */
export async function udpQuery(port: number, q: Uint8Array): Promise<Msg> {
  const s = dgram.createSocket("udp4");
  try {
    return await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("no UDP answer in 5 s")), 5000);
      s.on("message", (m: Buffer) => {
        clearTimeout(t);
        resolve(dnsPacket.decode(m));
      });
      s.send(q, port, "127.0.0.1");
    });
  } finally {
    s.close();
  }
}

/** Reads one length-prefixed message (undefined at end of stream). */
export async function tcpRead(c: Deno.Conn): Promise<Uint8Array | undefined> {
  const read = async (n: number) => {
    const b = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const got = await c.read(b.subarray(off));
      if (got === null) return undefined;
      off += got;
    }
    return b;
  };
  const h = await read(2);
  if (!h) return undefined;
  return await read((h[0] << 8) | h[1]);
}

/** Length-prefixes a message. */
export function framed(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length + 2);
  out[0] = b.length >> 8;
  out[1] = b.length & 0xff;
  out.set(b, 2);
  return out;
}

/** A query for `name`. */
export function q(name: string, type = "A", id = 7): Uint8Array {
  return new Uint8Array(dnsPacket.encode({ type: "query", id, questions: [{ name, type }] }));
}
