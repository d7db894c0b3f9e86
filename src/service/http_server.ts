// A small HTTP/1.1 server on Deno.listen for the local API, with the bounds Deno.serve lacks: head, body and keep-alive timeouts, a body limit (413 before buffering) and a connection cap.
import { relay } from "./proxy_relay.ts";
import { concatBytes } from "../util/bytes.ts";

/** Handles one request; `remote` is the client's address. */
export type HttpHandler = (req: Request, remote: Deno.NetAddr) => Response | Promise<Response>;

/** Options of {@link HttpServer.listen}. */
export interface HttpServerOptions {
  /** IP literal to listen on. */
  hostname: string;
  /** TCP port. */
  port: number;
  /** The request handler (the API router's fetch). */
  handler: HttpHandler;
  /** Largest request body accepted; larger ones get 413 before any of it is read. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Largest request head (request line and headers). Default 16 KiB. */
  maxHeadBytes?: number;
  /**
   * How long a connection may wait, from when it is ready for a request (accepted, or its
   * previous response sent), until the request head is complete. Covers idle keep-alive
   * connections and slow heads (slowloris). Default 5 s.
   */
  headTimeoutMs?: number;
  /** How long the body may take to arrive after the head. Default 5 s. */
  bodyTimeoutMs?: number;
  /** How long one write of the response may block (a client that does not read). Default 5 s. */
  writeTimeoutMs?: number;
  /** Most connections open at once (further ones are closed at accept). Default 64. */
  maxConnections?: number;
  /**
   * Most connections from non-loopback clients at once, so remote clients cannot take the
   * slots local tools need. Default 48.
   */
  maxRemoteConnections?: number;
  /** Unexpected errors (accept failures, handler throws). */
  onError?: (msg: string) => void;
  /** Serve HTTPS with this PEM certificate chain and key (the handshake counts as head time). */
  tls?: { cert: string; key: string };
}

/** Counters of an {@link HttpServer}. */
export interface HttpServerStats {
  /** Connections open now. */
  open: number;
  /** Connections accepted in total. */
  accepted: number;
  /** Connections closed at accept because of the connection cap. */
  rejected: number;
  /** Connections closed because a head, body or write deadline passed. */
  timedOut: number;
  /** Requests answered 413 (body too large). */
  tooLarge: number;
  /** Requests answered 400/431/501/505 (malformed). */
  malformed: number;
  /** Requests handed to the handler. */
  requests: number;
}

/** What the server uses of a connection (a TCP conn, or a TLS conn behind {@link TlsFront}). */
interface HttpConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  readonly remoteAddr: Deno.Addr;
  setNoDelay?(noDelay?: boolean): void;
}

/** What the server uses of a listener. */
interface HttpListener {
  accept(): Promise<HttpConn>;
  close(): void;
  readonly addr: Deno.Addr;
}

function closeQuietly(c: { close(): void }): void {
  try {
    c.close();
  } catch {
    // already closed
  }
}

/**
 * A TLS conn reached through a loopback bridge from the client's plain TCP socket. Closing it
 * closes the client's socket and the bridge, which a TLS conn alone cannot do in the middle of
 * its handshake (Deno 2.9 keeps such a socket open after `close()`).
 */
class FrontedTlsConn implements HttpConn {
  constructor(
    readonly tls: Deno.TlsConn,
    readonly outer: Deno.TcpConn,
    readonly bridge: Deno.TcpConn,
  ) {}
  get remoteAddr(): Deno.Addr {
    return this.outer.remoteAddr;
  }
  read(p: Uint8Array): Promise<number | null> {
    return this.tls.read(p);
  }
  write(p: Uint8Array): Promise<number> {
    return this.tls.write(p);
  }
  closeWrite(): Promise<void> {
    return this.tls.closeWrite();
  }
  close(): void {
    closeQuietly(this.tls);
    closeQuietly(this.outer);
    closeQuietly(this.bridge);
  }
}

/**
 * The HTTPS listener: accepts plain TCP (whose sockets the server can always close) and bridges
 * each connection over loopback to a TLS listener on an ephemeral 127.0.0.1 port, so the head
 * deadline also ends connections that never finish the TLS handshake.
 */
class TlsFront implements HttpListener {
  readonly #outer: Deno.TcpListener;
  readonly #inner: Deno.TlsListener;

  constructor(hostname: string, port: number, tls: { cert: string; key: string }) {
    this.#outer = Deno.listen({ hostname, port, transport: "tcp" });
    try {
      this.#inner = Deno.listenTls({
        hostname: "127.0.0.1",
        port: 0,
        transport: "tcp",
        cert: tls.cert,
        key: tls.key,
      });
    } catch (e) {
      this.#outer.close();
      throw e;
    }
  }

  get addr(): Deno.Addr {
    return this.#outer.addr;
  }

  async accept(): Promise<HttpConn> {
    for (;;) {
      const outer = await this.#outer.accept();
      let bridge: Deno.TcpConn | undefined;
      try {
        bridge = await Deno.connect({
          hostname: "127.0.0.1",
          port: (this.#inner.addr as Deno.NetAddr).port,
        });
        // pair by port: a stray local connection to the inner port is dropped
        for (let i = 0; i < 8; i++) {
          const tls = await this.#inner.accept();
          if ((tls.remoteAddr as Deno.NetAddr).port !== (bridge.localAddr as Deno.NetAddr).port) {
            closeQuietly(tls);
            continue;
          }
          for (const c of [outer, bridge]) {
            try {
              c.setNoDelay(true);
            } catch {
              // not fatal
            }
          }
          relay(outer, bridge).catch(() => {}); // closes both when done or on error
          return new FrontedTlsConn(tls, outer, bridge);
        }
        throw new Error("TLS bridge: no matching inner connection");
      } catch (e) {
        closeQuietly(outer);
        if (bridge) closeQuietly(bridge);
        if (e instanceof Deno.errors.BadResource) throw e; // stopped
      }
    }
  }

  close(): void {
    closeQuietly(this.#outer);
    closeQuietly(this.#inner);
  }
}

const CRLF = new Uint8Array([13, 10]);
const enc = new TextEncoder();
const dec = new TextDecoder();
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS_TEXT: Record<number, string> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

/** A request the server answers itself (malformed, too large) and then closes. */
class Reject {
  constructor(readonly status: number, readonly message: string) {}
}

/** Whether a client address is loopback (127/8, ::1, ::ffff:127.x). */
function isLoopbackHost(h: string): boolean {
  const s = h.replace(/^\[|\]$/g, "").toLowerCase();
  return s.startsWith("127.") || s === "::1" || s.startsWith("::ffff:127.");
}

/** Whether a string holds a control character, a space or DEL. */
function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Index of the first CRLFCRLF at or after `from` in `b[0..end)`, or -1. */
function findHeadEnd(b: Uint8Array, from: number, end: number): number {
  for (let i = Math.max(0, from); i + 3 < end; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

/** One connection: a read buffer, a deadline that closes the socket, and the request loop. */
class Connection {
  #buf = new Uint8Array(4096);
  #len = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Aborts the current request's `signal` when its response is done or the connection ends. */
  #abort: AbortController | undefined;
  /** A read that watches for the client leaving while a response streams (null: it left). */
  #watch: Promise<Uint8Array | null> | undefined;
  /** The response body being sent (cancelled when the connection ends). */
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  timedOut = false;

  constructor(
    readonly conn: HttpConn,
    readonly remote: Deno.NetAddr,
    readonly o: Required<Omit<HttpServerOptions, "onError" | "tls">> & {
      onError: (m: string) => void;
    },
    readonly stats: HttpServerStats,
  ) {}

  /** Closes the socket when `ms` passes (replacing any earlier deadline). */
  arm(ms: number): void {
    this.disarm();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.timedOut = true;
      this.close();
    }, ms);
  }

  /** Cancels the deadline. */
  disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Closes the socket once. */
  close(): void {
    this.disarm();
    this.#abort?.abort();
    this.#reader?.cancel().catch(() => {});
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }

  /** Reads more bytes into the buffer (growing it up to `limit`); false at EOF or error. */
  async #fill(limit: number): Promise<boolean> {
    if (this.#watch) {
      // a read started while a response streamed: take its bytes first
      const got = await this.#watch;
      this.#watch = undefined;
      if (got === null) return false;
      if (this.#len + got.length > this.#buf.length) {
        const nb = new Uint8Array(this.#len + got.length);
        nb.set(this.#buf.subarray(0, this.#len));
        this.#buf = nb;
      }
      this.#buf.set(got, this.#len);
      this.#len += got.length;
      return true;
    }
    if (this.#len === this.#buf.length) {
      if (this.#buf.length >= limit) return false;
      const nb = new Uint8Array(Math.min(limit, this.#buf.length * 2));
      nb.set(this.#buf.subarray(0, this.#len));
      this.#buf = nb;
    }
    let n: number | null;
    try {
      n = await this.conn.read(this.#buf.subarray(this.#len));
    } catch {
      return false;
    }
    if (n === null) return false;
    this.#len += n;
    return true;
  }

  /** Drops the first `n` buffered bytes. */
  #consume(n: number): void {
    this.#buf.copyWithin(0, n, this.#len);
    this.#len -= n;
  }

  /** Takes up to `max` buffered bytes, reading if none are buffered; undefined at EOF. */
  async #take(max: number): Promise<Uint8Array | undefined> {
    if (this.#len === 0 && !(await this.#fill(this.#buf.length))) return undefined;
    const n = Math.min(max, this.#len);
    const out = this.#buf.slice(0, n);
    this.#consume(n);
    return out;
  }

  /** Reads one CRLF-terminated line (without CRLF) of at most `max` bytes. */
  async #line(max: number): Promise<string> {
    for (let scanned = 0;;) {
      for (let i = scanned; i + 1 < this.#len; i++) {
        if (this.#buf[i] === 13 && this.#buf[i + 1] === 10) {
          const s = dec.decode(this.#buf.subarray(0, i));
          this.#consume(i + 2);
          return s;
        }
      }
      scanned = Math.max(0, this.#len - 1);
      if (this.#len > max) throw new Reject(400, "chunk line too long");
      if (!(await this.#fill(Math.max(this.#buf.length, max + 2)))) {
        throw new Reject(400, "connection ended inside the body");
      }
    }
  }

  /** Writes all of `data`, bounded by the write timeout; false if the connection failed. */
  async write(data: Uint8Array): Promise<boolean> {
    this.arm(this.o.writeTimeoutMs);
    try {
      let off = 0;
      while (off < data.length) off += await this.conn.write(data.subarray(off));
      return true;
    } catch {
      return false;
    } finally {
      this.disarm();
    }
  }

  /** Serves requests until the client or a deadline ends the connection. */
  async run(): Promise<void> {
    try {
      while (!this.#closed) {
        this.arm(this.o.headTimeoutMs);
        const head = await this.#readHead();
        if (head === undefined) break;
        let req: Request;
        let keepAlive: boolean;
        try {
          this.arm(this.o.bodyTimeoutMs);
          ({ req, keepAlive } = await this.#readRequest(head));
        } catch (e) {
          if (!(e instanceof Reject) || this.timedOut) break;
          if (e.status === 413) this.stats.tooLarge++;
          else this.stats.malformed++;
          await this.#sendPlain(e.status, e.message);
          await this.#drain();
          break;
        }
        this.disarm();
        this.stats.requests++;
        let res: Response;
        try {
          res = await this.o.handler(req, this.remote);
        } catch (e) {
          this.o.onError(`local API handler failed: ${e instanceof Error ? e.message : e}`);
          res = new Response(JSON.stringify({ error: 500, description: "internal error" }), {
            status: 500,
            headers: { "content-type": "application/json" },
          });
        }
        const sent = await this.#sendResponse(res, req.method === "HEAD", keepAlive);
        this.#abort?.abort();
        this.#abort = undefined;
        if (!sent) break;
        if (!keepAlive) break;
      }
    } finally {
      if (this.timedOut) this.stats.timedOut++;
      this.close();
    }
  }

  /** Reads the head; undefined if the client went away or the deadline passed first. */
  async #readHead(): Promise<string | undefined> {
    let scanned = 0;
    for (;;) {
      // tolerate blank lines before a request (RFC 9112 §2.2)
      while (this.#len >= 2 && this.#buf[0] === 13 && this.#buf[1] === 10) {
        this.#consume(2);
        scanned = 0;
      }
      const end = findHeadEnd(this.#buf, scanned - 3, this.#len);
      if (end >= 0 && end + 4 <= this.o.maxHeadBytes) {
        const s = dec.decode(this.#buf.subarray(0, end));
        this.#consume(end + 4);
        return s;
      }
      scanned = this.#len;
      if (this.#len >= this.o.maxHeadBytes) {
        this.stats.malformed++;
        await this.#sendPlain(431, "request head too large");
        await this.#drain();
        return undefined;
      }
      if (!(await this.#fill(this.o.maxHeadBytes))) return undefined;
    }
  }

  /** Parses the head and reads the body. @throws Reject. */
  async #readRequest(head: string): Promise<{ req: Request; keepAlive: boolean }> {
    const lines = head.split("\r\n");
    const m = /^([^ ]+) ([^ ]+) HTTP\/1\.([01])$/.exec(lines[0]);
    if (!m || !TOKEN.test(m[1])) {
      if (/ HTTP\/[02-9]/.test(lines[0])) throw new Reject(505, "only HTTP/1.x is served");
      throw new Reject(400, "bad request line");
    }
    const [, method, target, minor] = m;
    if (!target.startsWith("/") || hasControlChar(target)) {
      throw new Reject(400, "bad request target");
    }
    const headers = new Headers();
    for (const line of lines.slice(1)) {
      const i = line.indexOf(":");
      const name = i > 0 ? line.slice(0, i) : "";
      if (!TOKEN.test(name)) throw new Reject(400, "bad header line");
      try {
        headers.append(name, line.slice(i + 1).trim());
      } catch {
        throw new Reject(400, `bad value of header ${name}`);
      }
    }
    const connection = (headers.get("connection") ?? "").toLowerCase();
    const keepAlive = minor === "1"
      ? !/(^|,)\s*close\s*(,|$)/.test(connection)
      : /(^|,)\s*keep-alive\s*(,|$)/.test(connection);
    const te = headers.get("transfer-encoding");
    const cl = headers.get("content-length");
    let body: Uint8Array<ArrayBuffer> | undefined;
    if (te !== null) {
      if (cl !== null) throw new Reject(400, "both Transfer-Encoding and Content-Length");
      if (te.trim().toLowerCase() !== "chunked") {
        throw new Reject(501, "only chunked transfer coding is supported");
      }
      await this.#continue(headers);
      body = await this.#readChunked();
    } else if (cl !== null) {
      if (!/^[0-9]+(\s*,\s*[0-9]+)*$/.test(cl)) throw new Reject(400, "bad Content-Length");
      const values = new Set(cl.split(",").map((v) => v.trim().replace(/^0+(?=.)/, "")));
      if (values.size !== 1) throw new Reject(400, "conflicting Content-Length values");
      const [v] = values;
      if (v.length > 15 || Number(v) > this.o.maxBodyBytes) {
        throw new Reject(413, `request body larger than ${this.o.maxBodyBytes} bytes`);
      }
      const n = Number(v);
      if (n > 0) {
        await this.#continue(headers);
        body = await this.#readExactly(n);
      }
    }
    const host = headers.get("host") ?? "";
    const base = /^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$/.test(host)
      ? host
      : "localhost";
    let url: URL;
    try {
      url = new URL(target, `http://${base}`);
    } catch {
      throw new Reject(400, "bad request target");
    }
    const hasBody = body !== undefined && method !== "GET" && method !== "HEAD";
    try {
      const abort = new AbortController();
      const req = new Request(url, {
        method,
        headers,
        body: hasBody ? body : undefined,
        signal: abort.signal,
      });
      this.#abort = abort;
      return { req, keepAlive };
    } catch {
      throw new Reject(400, "bad request");
    }
  }

  /** Answers `Expect: 100-continue` once the body is known to be acceptable. */
  async #continue(headers: Headers): Promise<void> {
    if ((headers.get("expect") ?? "").toLowerCase() !== "100-continue") return;
    if (this.#len > 0) return; // the client is sending already
    await this.write(enc.encode("HTTP/1.1 100 Continue\r\n\r\n"));
    this.arm(this.o.bodyTimeoutMs);
  }

  /** Reads exactly `n` body bytes. @throws Reject if the connection ends first. */
  async #readExactly(n: number): Promise<Uint8Array<ArrayBuffer>> {
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const part = await this.#take(n - off);
      if (part === undefined) throw new Reject(400, "connection ended inside the body");
      out.set(part, off);
      off += part.length;
    }
    return out;
  }

  /** Reads a chunked body, counting against the body limit as it arrives. @throws Reject. */
  async #readChunked(): Promise<Uint8Array<ArrayBuffer>> {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const sizeLine = await this.#line(1024);
      const m = /^([0-9A-Fa-f]{1,8})(;.*)?$/.exec(sizeLine.trim());
      if (!m) throw new Reject(400, "bad chunk size");
      const size = parseInt(m[1], 16);
      if (size === 0) break;
      total += size;
      if (total > this.o.maxBodyBytes) {
        throw new Reject(413, `request body larger than ${this.o.maxBodyBytes} bytes`);
      }
      parts.push(await this.#readExactly(size));
      if ((await this.#line(2)) !== "") throw new Reject(400, "bad chunk end");
    }
    // trailer section: header lines until an empty line, discarded
    for (let i = 0;; i++) {
      if (i > 64) throw new Reject(431, "too many trailer lines");
      if ((await this.#line(8192)) === "") break;
    }
    return concatBytes(parts);
  }

  /**
   * After an early answer (413, 400): ends our side and discards what the client still sends,
   * briefly and boundedly, so closing does not reset the connection before it reads the answer.
   */
  async #drain(): Promise<void> {
    this.arm(1000); // bounds the whole drain
    // not awaited: a shutdown can wait behind the kernel's send buffer; the deadline rules
    this.conn.closeWrite().catch(() => {});
    const sink = new Uint8Array(16384);
    for (let total = 0; total < 1 << 20;) {
      let n: number | null;
      try {
        n = await this.conn.read(sink);
      } catch {
        break;
      }
      if (n === null) break;
      total += n;
    }
    this.disarm();
    this.timedOut = false;
  }

  /** Sends a small text response and marks the connection to close. */
  async #sendPlain(status: number, message: string): Promise<void> {
    const body = enc.encode(
      JSON.stringify({ error: status, description: message }),
    );
    const head = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? ""}\r\n` +
      `content-type: application/json\r\ncontent-length: ${body.length}\r\n` +
      `connection: close\r\n\r\n`;
    await this.write(concatBytes([enc.encode(head), body]));
  }

  /** Writes a handler's response: sized if it ends quickly, else chunked. */
  async #sendResponse(res: Response, isHead: boolean, keepAlive: boolean): Promise<boolean> {
    const status = res.status;
    const noBody = isHead || status === 204 || status === 304 || status < 200;
    let head = `HTTP/1.1 ${status} ${res.statusText || STATUS_TEXT[status] || ""}\r\n`;
    for (const [k, v] of res.headers) {
      const lk = k.toLowerCase();
      if (lk === "content-length" || lk === "transfer-encoding" || lk === "connection") continue;
      if (lk === "set-cookie") continue;
      head += `${k}: ${v}\r\n`;
    }
    for (const c of res.headers.getSetCookie()) head += `set-cookie: ${c}\r\n`;
    if (!keepAlive) head += "connection: close\r\n";
    if (noBody || res.body === null) {
      await res.body?.cancel().catch(() => {});
      const len = noBody ? res.headers.get("content-length") : "0";
      if (len !== null && status >= 200 && status !== 204 && status !== 304) {
        head += `content-length: ${len}\r\n`;
      }
      return await this.write(enc.encode(head + "\r\n"));
    }
    const reader = res.body.getReader();
    this.#reader = reader;
    try {
      return await this.#sendBody(reader, head);
    } finally {
      this.#reader = undefined;
    }
  }

  /** Writes the head and the body of a streamed response. */
  async #sendBody(reader: ReadableStreamDefaultReader<Uint8Array>, head: string): Promise<boolean> {
    type Read = ReadableStreamReadResult<Uint8Array>;
    const read = (): Promise<Read> =>
      reader.read().catch(() => ({ done: true as const, value: undefined }));
    // Collect what is ready without waiting (a buffered body ends at once): a complete body is
    // sent with a length, anything still streaming (an event stream) goes out chunked.
    const first: Uint8Array[] = [];
    let size = 0;
    let pending: Promise<Read> | undefined = read();
    let r: Read | undefined = await pending;
    for (;;) {
      if (r === undefined) break; // not ready yet
      pending = undefined;
      if (r.done) break;
      first.push(r.value);
      size += r.value.length;
      if (size >= 65536) break;
      pending = read();
      const tick = new Promise<undefined>((ok) => setTimeout(() => ok(undefined), 0));
      r = await Promise.race([pending, tick]);
    }
    if (r?.done) {
      head += `content-length: ${size}\r\n\r\n`;
      return await this.write(concatBytes([enc.encode(head), ...first]));
    }
    head += "transfer-encoding: chunked\r\n\r\n";
    const firstPart = size > 0 ? chunk(concatBytes(first)) : new Uint8Array();
    if (!(await this.write(concatBytes([enc.encode(head), firstPart])))) {
      await reader.cancel().catch(() => {});
      return false;
    }
    // A stream may stay quiet for long (an event stream): notice the client leaving meanwhile,
    // so the request signal aborts and the body is cancelled at once, not at the next write.
    if (!this.#watch) {
      const scratch = new Uint8Array(16384);
      let streaming = true;
      this.#watch = this.conn.read(scratch).then(
        (n) => (n === null ? null : scratch.slice(0, n)),
        () => null,
      );
      this.#watch.then((got) => {
        if (got === null && streaming) this.close();
      });
      try {
        return await this.#streamChunks(reader, pending, read);
      } finally {
        streaming = false;
      }
    }
    return await this.#streamChunks(reader, pending, read);
  }

  /** Writes the rest of a streamed body as chunks, then the last chunk. */
  async #streamChunks(
    reader: ReadableStreamDefaultReader<Uint8Array>,
    pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined,
    read: () => Promise<ReadableStreamReadResult<Uint8Array>>,
  ): Promise<boolean> {
    for (;;) {
      const r = await (pending ?? read());
      pending = undefined;
      if (r.done || r.value === undefined) break;
      if (r.value.length === 0) continue;
      if (!(await this.write(chunk(r.value)))) {
        await reader.cancel().catch(() => {});
        return false;
      }
    }
    return await this.write(enc.encode("0\r\n\r\n"));
  }
}

/** One chunk of a chunked body. */
function chunk(data: Uint8Array): Uint8Array {
  return concatBytes([enc.encode(data.length.toString(16) + "\r\n"), data, CRLF]);
}

/**
 * The local API's HTTP/1.1 server. Every connection waits at most `headTimeoutMs` for each
 * request head (idle keep-alive included) and `bodyTimeoutMs` for its body; a body over
 * `maxBodyBytes` (by Content-Length, or counted as chunks arrive) is answered 413 before it is
 * buffered; beyond `maxConnections` (`maxRemoteConnections` for non-loopback clients) new
 * connections are closed at once. Create with {@link HttpServer.listen}.
 */
export class HttpServer {
  /** Counters. */
  readonly stats: HttpServerStats = {
    open: 0,
    accepted: 0,
    rejected: 0,
    timedOut: 0,
    tooLarge: 0,
    malformed: 0,
    requests: 0,
  };
  /** Resolves when the accept loop and every connection have ended. */
  readonly finished: Promise<void>;
  readonly #listener: HttpListener;
  readonly #conns = new Set<Connection>();
  #remoteOpen = 0;
  #stopping = false;

  private constructor(
    listener: HttpListener,
    o: HttpServerOptions,
  ) {
    this.#listener = listener;
    const opts = {
      maxBodyBytes: 1 << 20,
      maxHeadBytes: 16384,
      headTimeoutMs: 5000,
      bodyTimeoutMs: 5000,
      writeTimeoutMs: 5000,
      maxConnections: 64,
      maxRemoteConnections: 48,
      onError: () => {},
      ...o,
    };
    this.finished = this.#acceptLoop(opts);
  }

  /** Listens (synchronously, so `AddrInUse` throws here) and starts serving. */
  static listen(o: HttpServerOptions): HttpServer {
    const l: HttpListener = o.tls
      ? new TlsFront(o.hostname, o.port, o.tls)
      : Deno.listen({ hostname: o.hostname, port: o.port, transport: "tcp" });
    return new HttpServer(l, o);
  }

  /** The bound address. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr as Deno.NetAddr;
  }

  async #acceptLoop(
    o: Required<Omit<HttpServerOptions, "onError" | "tls">> & { onError: (m: string) => void },
  ): Promise<void> {
    const running = new Set<Promise<void>>();
    while (!this.#stopping) {
      let conn: HttpConn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (this.#stopping || e instanceof Deno.errors.BadResource) break;
        o.onError(`local API accept failed: ${e instanceof Error ? e.message : e}`);
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const remote = conn.remoteAddr as Deno.NetAddr;
      const local = isLoopbackHost(remote.hostname);
      if (
        this.stats.open >= o.maxConnections ||
        (!local && this.#remoteOpen >= o.maxRemoteConnections)
      ) {
        this.stats.rejected++;
        try {
          conn.close();
        } catch {
          // gone
        }
        continue;
      }
      this.stats.accepted++;
      this.stats.open++;
      if (!local) this.#remoteOpen++;
      try {
        conn.setNoDelay?.(true);
      } catch {
        // not fatal
      }
      const c = new Connection(conn, remote, o, this.stats);
      this.#conns.add(c);
      const p = c.run().catch((e) => o.onError(`local API connection failed: ${e}`)).finally(
        () => {
          this.#conns.delete(c);
          this.stats.open--;
          if (!local) this.#remoteOpen--;
          running.delete(p);
        },
      );
      running.add(p);
    }
    await Promise.all([...running]);
  }

  /** Stops listening, closes every connection and waits for them to end. */
  async shutdown(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      try {
        this.#listener.close();
      } catch {
        // closed
      }
      for (const c of this.#conns) c.close();
    }
    await this.finished;
  }
}
