// HttpServer: HTTP/1.1 framing (keep-alive, pipelining, chunked both ways, HEAD, 100-continue, HTTP/1.0), malformed requests, deadlines, caps, request signal.
import assert from "node:assert/strict";
import { HttpServer, type HttpServerOptions } from "../../src/service/http_server.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A server on a random loopback port with short deadlines. */
function server(
  handler: HttpServerOptions["handler"],
  o: Partial<HttpServerOptions> = {},
): HttpServer {
  return HttpServer.listen({
    hostname: "127.0.0.1",
    port: 0,
    handler,
    headTimeoutMs: 400,
    bodyTimeoutMs: 400,
    ...o,
  });
}

/** Sends raw bytes and reads until the server closes (bounded): the whole answer text. */
async function raw(port: number, data: string, boundMs = 5000): Promise<string> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  await c.write(enc.encode(data));
  let out = "";
  const b = new Uint8Array(65536);
  const timer = setTimeout(() => c.close(), boundMs);
  try {
    for (;;) {
      const n = await c.read(b);
      if (n === null) break;
      out += dec.decode(b.subarray(0, n));
    }
  } catch {
    // closed by the bound
  } finally {
    clearTimeout(timer);
    try {
      c.close();
    } catch {
      // closed
    }
  }
  return out;
}

const echo = async (req: Request) => {
  const body = req.method === "GET" || req.method === "HEAD" ? "" : await req.text();
  return new Response(`${req.method} ${new URL(req.url).pathname} ${body}`, {
    headers: { "x-test": "1" },
  });
};

Deno.test("http server: keep-alive, pipelining, chunked request, HEAD, HTTP/1.0", async () => {
  const s = server(echo);
  const port = s.addr.port;
  try {
    const piped = await raw(
      port,
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n" +
        "POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc" +
        "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nxyz\r\n2\r\n!!\r\n0\r\nT: 1\r\n\r\n" +
        "HEAD /d HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    const answers = piped.split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 4, piped);
    assert.match(
      answers[0],
      /^HTTP\/1\.1 200 OK\r\n[^]*x-test: 1\r\n[^]*content-length: 7\r\n\r\nGET \/a $/,
    );
    assert.match(answers[1], /\r\n\r\nPOST \/b abc$/);
    assert.match(answers[2], /\r\n\r\nPOST \/c xyz!!$/);
    assert.match(answers[3], /^HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n\r\n$/);
    const h10 = await raw(port, "GET /e HTTP/1.0\r\n\r\n");
    assert.match(h10, /connection: close\r\n[^]*\r\n\r\nGET \/e $/);
    const r = await fetch(`http://127.0.0.1:${port}/f`, { method: "PUT", body: "hi" });
    assert.equal(await r.text(), "PUT /f hi");
    const cont = await raw(
      port,
      "POST /g HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
      1000,
    );
    assert.match(cont, /^HTTP\/1\.1 100 Continue\r\n\r\n/);
  } finally {
    await s.shutdown();
  }
});

Deno.test("http server: malformed and oversized requests get 4xx/5xx and the connection closes", async () => {
  let calls = 0;
  const s = server(() => {
    calls++;
    return new Response("x");
  }, { maxBodyBytes: 10, maxHeadBytes: 256 });
  const port = s.addr.port;
  try {
    const cases: [string, RegExp][] = [
      ["GARBAGE\r\n\r\n", /^HTTP\/1\.1 400 /],
      ["GET / HTTP/2.0\r\n\r\n", /^HTTP\/1\.1 505 /],
      ["GET http://x/ HTTP/1.1\r\n\r\n", /^HTTP\/1\.1 400 /],
      ["GET / HTTP/1.1\r\n bad: fold\r\n\r\n", /^HTTP\/1\.1 400 /],
      [
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        /^HTTP\/1\.1 400 /,
      ],
      ["POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", /^HTTP\/1\.1 400 /],
      ["POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", /^HTTP\/1\.1 400 /],
      ["POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", /^HTTP\/1\.1 501 /],
      ["POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", /^HTTP\/1\.1 413 /],
      ["POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", /^HTTP\/1\.1 413 /],
      [
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n",
        /^HTTP\/1\.1 413 /,
      ],
      ["POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", /^HTTP\/1\.1 400 /],
      [`GET / HTTP/1.1\r\nX: ${"a".repeat(300)}\r\n\r\n`, /^HTTP\/1\.1 431 /],
    ];
    for (const [req, want] of cases) {
      assert.match(await raw(port, req), want, JSON.stringify(req));
    }
    assert.equal(calls, 0, "no malformed request reaches the handler");
    assert.equal(s.stats.tooLarge, 3);
  } finally {
    await s.shutdown();
  }
});

Deno.test("http server: deadlines close idle, slow-head and slow-body connections; cap closes extras", async () => {
  const s = server(() => new Response("ok"), { maxConnections: 3, maxRemoteConnections: 0 });
  const port = s.addr.port;
  try {
    const idle = raw(port, "");
    const slowHead = raw(port, "GET / HTTP/1.1\r\nHost");
    const slowBody = raw(port, "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab");
    await new Promise((r) => setTimeout(r, 100));
    const extra = await raw(port, "GET / HTTP/1.1\r\n\r\n", 3000);
    assert.equal(extra, "", "the fourth connection is closed at accept");
    assert.deepEqual(await Promise.all([idle, slowHead, slowBody]), ["", "", ""]);
    assert.equal(s.stats.rejected, 1);
    assert.equal(s.stats.timedOut, 3);
    assert.match(await raw(port, "GET / HTTP/1.1\r\n\r\n"), /^HTTP\/1\.1 200 [^]*ok$/);
  } finally {
    await s.shutdown();
  }
});

Deno.test("http server: streamed responses go chunked; the request signal aborts when the client leaves", async () => {
  let aborted: Promise<void> | undefined;
  const s = server((req) => {
    if (new URL(req.url).pathname === "/stream") {
      let n = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(ctl) {
          await new Promise((r) => setTimeout(r, 20));
          if (n++ < 3) ctl.enqueue(enc.encode(`part${n};`));
          else ctl.close();
        },
      });
      return new Response(body);
    }
    aborted = new Promise((r) => req.signal.addEventListener("abort", () => r()));
    return new Response(
      new ReadableStream({
        start(ctl) {
          ctl.enqueue(enc.encode("hello"));
        },
      }),
    );
  }, { headTimeoutMs: 5000 });
  const port = s.addr.port;
  try {
    const r = await fetch(`http://127.0.0.1:${port}/stream`);
    assert.equal(r.headers.get("transfer-encoding"), "chunked");
    assert.equal(await r.text(), "part1;part2;part3;");
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    await c.write(enc.encode("GET /forever HTTP/1.1\r\n\r\n"));
    const b = new Uint8Array(1024);
    await c.read(b);
    c.close();
    // the stream never writes again: the server notices the client leaving by itself
    const gone = await Promise.race([
      aborted!.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 5000)),
    ]);
    assert.ok(gone, "request signal not aborted after the client left");
  } finally {
    await s.shutdown();
  }
});
