// Local proxy into the overlay: SOCKS5 (RFC 1928 CONNECT, RFC 1929 username/password) and HTTP CONNECT on one port, bounded (connection cap, timeouts).
import dgram from "node:dgram";
import { ipText, parseIp } from "../netstack/ip_addr.ts";
import type { Logger } from "./logger.ts";
import { relay, type RelayConn } from "./proxy_relay.ts";

/** A UDP socket in the overlay (OverlayUdp fits). */
export interface ProxyUdpSocket {
  send(data: Uint8Array, host: string, port: number): boolean;
  receive(): Promise<[Uint8Array, Deno.NetAddr]>;
  close(): void;
}

/** Dials a TCP connection into the overlay. */
export type ProxyDialer = (host: string, port: number) => Promise<RelayConn>;

/** Options of {@link startProxy}. */
export interface ProxyOptions {
  /** Listen host (default 127.0.0.1). */
  hostname?: string;
  /** Listen port (default 1080; 0 = any). */
  port?: number;
  dial: ProxyDialer;
  /** Opens an overlay UDP socket towards an IP (enables SOCKS5 UDP ASSOCIATE); none = refused. */
  udp?: (towards: string) => ProxyUdpSocket;
  /** Resolves a name to an IP (names feature); undefined = unknown. */
  resolve?: (name: string) => string | undefined | Promise<string | undefined>;
  /** RFC 1929 credentials (also Basic auth for HTTP CONNECT); none = no auth. */
  auth?: { username: string; password: string };
  /** Most client connections at once (default 1024); beyond, new ones are closed. */
  maxConnections?: number;
  /** Time allowed for the greeting/request, ms (default 10 s). */
  handshakeTimeoutMs?: number;
  /** Time allowed to connect into the overlay, ms (default 30 s). */
  connectTimeoutMs?: number;
  /** Close relays idle this long, ms (default 0 = never). */
  idleTimeoutMs?: number;
  log: Logger;
}

/** Counters of a proxy. */
export interface ProxyCounters {
  accepted: number;
  active: number;
  /** Refused at the connection cap. */
  overCap: number;
  /** Bad greeting/request, failed auth or handshake timeout. */
  badRequests: number;
  /** Dial into the overlay failed. */
  dialFailures: number;
  relayed: number;
  /** SOCKS5 UDP associations opened. */
  udpAssociations: number;
  /** Datagrams relayed client → overlay and back. */
  udpOut: number;
  udpIn: number;
}

/** A running proxy. */
export interface ProxyHandle {
  readonly addr: Deno.NetAddr;
  readonly counters: ProxyCounters;
  close(): Promise<void>;
}

class Reader {
  #buf = new Uint8Array(0);
  readonly #c: Deno.Conn;
  constructor(c: Deno.Conn) {
    this.#c = c;
  }
  /** Exactly n bytes (throws at EOF). */
  async take(n: number): Promise<Uint8Array> {
    while (this.#buf.length < n) {
      const chunk = new Uint8Array(4096);
      const r = await this.#c.read(chunk);
      if (r === null) throw new Error("client closed during the handshake");
      const nb = new Uint8Array(this.#buf.length + r);
      nb.set(this.#buf);
      nb.set(chunk.subarray(0, r), this.#buf.length);
      this.#buf = nb;
    }
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.slice(n);
    return out;
  }
  /** Bytes up to and including "\r\n\r\n" (at most max). */
  async headers(max: number): Promise<string> {
    for (;;) {
      const text = new TextDecoder().decode(this.#buf);
      const i = text.indexOf("\r\n\r\n");
      if (i >= 0) {
        const head = this.#buf.slice(0, i + 4);
        this.#buf = this.#buf.slice(i + 4);
        return new TextDecoder().decode(head);
      }
      if (this.#buf.length > max) throw new Error("request headers too long");
      const chunk = new Uint8Array(4096);
      const r = await this.#c.read(chunk);
      if (r === null) throw new Error("client closed during the handshake");
      const nb = new Uint8Array(this.#buf.length + r);
      nb.set(this.#buf);
      nb.set(chunk.subarray(0, r), this.#buf.length);
      this.#buf = nb;
    }
  }
  /** What was read past the handshake. */
  rest(): Uint8Array {
    return this.#buf;
  }
}

class HandshakeError extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<T>((
      _,
      rej,
    ) => (t = setTimeout(() => rej(new HandshakeError(`${what} timed out`)), ms))),
  ]).finally(() => clearTimeout(t));
}

/** A conn that first yields `pre` bytes then reads from `c`. */
function prefixed(c: Deno.Conn, pre: Uint8Array): RelayConn {
  let first: Uint8Array | undefined = pre.length ? pre : undefined;
  return {
    read: (p) => {
      if (first) {
        const n = Math.min(p.length, first.length);
        p.set(first.subarray(0, n));
        first = n < first.length ? first.subarray(n) : undefined;
        return Promise.resolve(n);
      }
      return c.read(p);
    },
    write: (p) => c.write(p),
    closeWrite: () => c.closeWrite(),
    close: () => c.close(),
  };
}

/** Starts the proxy. @throws Deno errors when the port cannot be bound. */
export function startProxy(o: ProxyOptions): ProxyHandle {
  const listener = Deno.listen({ hostname: o.hostname ?? "127.0.0.1", port: o.port ?? 1080 });
  const counters: ProxyCounters = {
    accepted: 0,
    active: 0,
    overCap: 0,
    badRequests: 0,
    dialFailures: 0,
    relayed: 0,
    udpAssociations: 0,
    udpOut: 0,
    udpIn: 0,
  };
  const max = o.maxConnections ?? 1024;
  const hsMs = o.handshakeTimeoutMs ?? 10_000;
  const connMs = o.connectTimeoutMs ?? 30_000;
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();

  const dial = async (host: string, port: number): Promise<RelayConn> => {
    let target = host;
    if (!parseIp(host)) {
      // names: only through the overlay's DNS (o.resolve); never the host's resolver
      let r: string | undefined;
      let why = "names are off";
      try {
        r = await o.resolve?.(host);
      } catch (e) {
        why = e instanceof Error ? e.message : String(e);
      }
      if (!r) {
        o.log.info(`proxy: refused ${host}:${port}: cannot resolve: ${why}`);
        throw new DialError(4, `cannot resolve ${host}: ${why}`);
      }
      target = r;
    }
    try {
      return await withTimeout(o.dial(target, port), connMs, `connect to ${target}:${port}`);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new DialError(
        /refused/.test(msg) ? 5 : /timed out/.test(msg) ? 6 : /no network|route/.test(msg) ? 3 : 4,
        msg,
      );
    }
  };

  const socks = async (
    c: Deno.Conn,
    r: Reader,
  ): Promise<[RelayConn, Uint8Array] | { association: Promise<void> } | undefined> => {
    const [, nmethods] = await r.take(2);
    const methods = await r.take(nmethods);
    const want = o.auth ? 2 : 0;
    if (!methods.includes(want)) {
      await c.write(new Uint8Array([5, 0xff]));
      throw new HandshakeError("no acceptable SOCKS auth method");
    }
    await c.write(new Uint8Array([5, want]));
    if (o.auth) {
      const [ver, ulen] = await r.take(2);
      const user = new TextDecoder().decode(await r.take(ulen));
      const [plen] = await r.take(1);
      const pass = new TextDecoder().decode(await r.take(plen));
      const ok = ver === 1 && user === o.auth.username && pass === o.auth.password;
      await c.write(new Uint8Array([1, ok ? 0 : 1]));
      if (!ok) throw new HandshakeError("SOCKS authentication failed");
    }
    const [ver, cmd, , atyp] = await r.take(4);
    if (ver !== 5) throw new HandshakeError("bad SOCKS version");
    let host: string;
    if (atyp === 1) host = ipText(await r.take(4));
    else if (atyp === 4) host = ipText(await r.take(16));
    else if (atyp === 3) {
      const [n] = await r.take(1);
      host = new TextDecoder().decode(await r.take(n));
    } else {
      await c.write(new Uint8Array([5, 8, 0, 1, 0, 0, 0, 0, 0, 0]));
      throw new HandshakeError("bad SOCKS address type");
    }
    const pb = await r.take(2);
    const port = (pb[0] << 8) | pb[1];
    if (cmd === 3 && o.udp) return await udpAssociate(c);
    if (cmd !== 1) {
      await c.write(new Uint8Array([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]));
      throw new HandshakeError(`SOCKS command ${cmd} not supported (CONNECT and UDP ASSOCIATE)`);
    }
    let remote: RelayConn;
    try {
      remote = await dial(host, port);
    } catch (e) {
      const code = e instanceof DialError ? e.code : 1;
      await c.write(new Uint8Array([5, code, 0, 1, 0, 0, 0, 0, 0, 0])).catch(() => {});
      counters.dialFailures++;
      o.log.debug(`proxy: CONNECT ${host}:${port} failed: ${e instanceof Error ? e.message : e}`);
      return undefined;
    }
    await c.write(new Uint8Array([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
    return [remote, r.rest()];
  };

  /**
   * SOCKS5 UDP ASSOCIATE (RFC 1928 §7): a local UDP relay socket for this client; datagrams
   * (no fragmentation) go to the overlay through one overlay UDP socket, answers come back
   * wrapped; the association ends with the TCP control connection.
   */
  const udpAssociate = async (c: Deno.Conn): Promise<{ association: Promise<void> }> => {
    const sock = dgram.createSocket(o.hostname?.includes(":") ? "udp6" : "udp4");
    await new Promise<void>((res, rej) => {
      sock.once("error", rej);
      sock.bind(0, o.hostname ?? "127.0.0.1", () => res());
    });
    const bound = sock.address();
    counters.udpAssociations++;
    let client: { address: string; port: number } | undefined;
    let overlay: ProxyUdpSocket | undefined;
    let closed = false;
    const pumpBack = async (s: ProxyUdpSocket) => {
      while (!closed) {
        let d: Uint8Array, from: Deno.NetAddr;
        try {
          [d, from] = await s.receive();
        } catch {
          return;
        }
        const ip = parseIp(from.hostname);
        if (!ip || !client) continue;
        const head = new Uint8Array(4 + ip.length + 2);
        head[3] = ip.length === 4 ? 1 : 4;
        head.set(ip, 4);
        head[4 + ip.length] = from.port >> 8;
        head[5 + ip.length] = from.port & 0xff;
        const out = new Uint8Array(head.length + d.length);
        out.set(head);
        out.set(d, head.length);
        counters.udpIn++;
        sock.send(out, client.port, client.address);
      }
    };
    sock.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => {
      client ??= { address: rinfo.address, port: rinfo.port };
      if (client.address !== rinfo.address || client.port !== rinfo.port) return;
      const b = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
      if (b.length < 10 || b[0] !== 0 || b[1] !== 0 || b[2] !== 0) return; // no fragments
      const alen = b[3] === 1 ? 4 : b[3] === 4 ? 16 : 0;
      if (!alen || b.length < 4 + alen + 2) return;
      const host = ipText(b.subarray(4, 4 + alen));
      const port = (b[4 + alen] << 8) | b[5 + alen];
      try {
        if (!overlay) {
          overlay = o.udp!(host);
          void pumpBack(overlay);
        }
        if (overlay.send(b.slice(6 + alen), host, port)) counters.udpOut++;
      } catch (e) {
        o.log.debug(`proxy: UDP to ${host}:${port} failed: ${e instanceof Error ? e.message : e}`);
      }
    });
    const reply = new Uint8Array([5, 0, 0, 1, 127, 0, 0, 1, bound.port >> 8, bound.port & 0xff]);
    const bip = parseIp(bound.address);
    if (bip?.length === 4) reply.set(bip, 4);
    await c.write(reply);
    // the association lives as long as the control connection
    const association = (async () => {
      try {
        const buf = new Uint8Array(64);
        while ((await c.read(buf)) !== null) { /* ignore */ }
      } catch { /* closed */ }
      closed = true;
      overlay?.close();
      sock.close();
    })();
    return { association };
  };

  const http = async (c: Deno.Conn, r: Reader): Promise<[RelayConn, Uint8Array] | undefined> => {
    const head = await r.headers(8192);
    const lines = head.split("\r\n");
    const m = /^CONNECT (\[[0-9a-fA-F:.]+\]|[^\s:]+):(\d{1,5}) HTTP\/1\.[01]$/.exec(lines[0]);
    const send = (s: string) => c.write(new TextEncoder().encode(s)).catch(() => 0);
    if (!m) {
      await send("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
      throw new HandshakeError("not an HTTP CONNECT request");
    }
    if (o.auth) {
      const want = "Basic " + btoa(`${o.auth.username}:${o.auth.password}`);
      const got = lines.find((l) => /^proxy-authorization:/i.test(l))?.replace(/^[^:]*:\s*/, "");
      if (got !== want) {
        await send(
          'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="zt"\r\nContent-Length: 0\r\n\r\n',
        );
        throw new HandshakeError("HTTP proxy authentication failed");
      }
    }
    const host = m[1].replace(/^\[|\]$/g, "");
    const port = Number(m[2]);
    let remote: RelayConn;
    try {
      remote = await dial(host, port);
    } catch (e) {
      counters.dialFailures++;
      const timeout = e instanceof DialError && e.code === 6;
      await send(
        `HTTP/1.1 ${
          timeout ? "504 Gateway Timeout" : "502 Bad Gateway"
        }\r\nContent-Length: 0\r\n\r\n`,
      );
      return undefined;
    }
    await send("HTTP/1.1 200 Connection established\r\n\r\n");
    return [remote, r.rest()];
  };

  const serve = async (c: Deno.Conn): Promise<void> => {
    const r = new Reader(c);
    let got: [RelayConn, Uint8Array] | { association: Promise<void> } | undefined;
    try {
      got = await withTimeout(
        (async () => {
          // the first byte tells SOCKS5 (5) from HTTP; the parsers then read from the start
          const [first] = await r.take(1);
          return first === 5 ? socks(c, withFirst(r, first)) : http(c, withFirst(r, first));
        })(),
        hsMs + connMs,
        "proxy handshake",
      );
    } catch (e) {
      counters.badRequests++;
      o.log.debug(`proxy: ${e instanceof Error ? e.message : e}`);
    }
    if (!got) {
      try {
        c.close();
      } catch { /* closed */ }
      return;
    }
    if (!Array.isArray(got)) {
      await got.association;
      try {
        c.close();
      } catch { /* closed */ }
      return;
    }
    counters.relayed++;
    const [remote, rest] = got;
    try {
      await relay(prefixed(c, rest), remote, o.idleTimeoutMs ?? 0);
    } catch (e) {
      o.log.debug(`proxy: relay ended: ${e instanceof Error ? e.message : e}`);
    }
  };

  const loop = (async () => {
    for await (const c of listener) {
      counters.accepted++;
      if (counters.active >= max) {
        counters.overCap++;
        try {
          c.close();
        } catch { /* closed */ }
        continue;
      }
      counters.active++;
      open.add(c);
      const t = serve(c).finally(() => {
        counters.active--;
        open.delete(c);
        tasks.delete(t);
      });
      tasks.add(t);
    }
  })().catch(() => {});

  return {
    addr: listener.addr as Deno.NetAddr,
    counters,
    close: async () => {
      try {
        listener.close();
      } catch { /* closed */ }
      for (const c of open) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await loop;
      await Promise.allSettled([...tasks]);
    },
  };
}

class DialError extends Error {
  readonly code: number;
  constructor(code: number, msg: string) {
    super(msg);
    this.code = code;
  }
}

/** A Reader view that yields `first` before the rest. */
function withFirst(r: Reader, first: number): Reader {
  let pending: number | undefined = first;
  const view = Object.create(r) as Reader;
  view.take = async (n: number) => {
    if (pending === undefined || n === 0) return r.take(n);
    const b = pending;
    pending = undefined;
    const tail = await r.take(n - 1);
    const out = new Uint8Array(n);
    out[0] = b;
    out.set(tail, 1);
    return out;
  };
  view.headers = async (max: number) => {
    if (pending === undefined) return r.headers(max);
    const b = pending;
    pending = undefined;
    return String.fromCharCode(b) + (await r.headers(max));
  };
  view.rest = () => r.rest();
  return view;
}
