// Reliability of the userspace proxy listener: connection cap, handshake timeout, garbage and oversized requests, unsupported commands, failing dials; it stays up and bounded.
import assert from "node:assert/strict";
import { Logger } from "../../src/service/logger.ts";
import { startProxy } from "../../src/service/socks_proxy.ts";

const log = new Logger("error");

/** A loopback echo server standing in for the overlay. */
function echoServer() {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  void (async () => {
    for await (const c of l) void c.readable.pipeTo(c.writable).catch(() => {});
  })().catch(() => {});
  return l;
}

async function readSome(c: Deno.Conn, n: number, ms = 5000): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  const deadline = Date.now() + ms;
  while (got < n && Date.now() < deadline) {
    const r = await c.read(out.subarray(got));
    if (r === null) break;
    got += r;
  }
  return out.subarray(0, got);
}

async function socksOk(port: number, echoPort: number): Promise<boolean> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await c.write(
      new Uint8Array([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, echoPort >> 8, echoPort & 0xff]),
    );
    const rep = await readSome(c, 12);
    if (rep[1] !== 0 || rep[3] !== 0) return false;
    await c.write(new Uint8Array([42]));
    return (await readSome(c, 1))[0] === 42;
  } finally {
    c.close();
  }
}

Deno.test("reliability: SOCKS proxy caps connections, times out idle handshakes and survives bad input", async () => {
  const echo = echoServer();
  const echoPort = (echo.addr as Deno.NetAddr).port;
  let dials = 0;
  const proxy = startProxy({
    port: 0,
    log,
    maxConnections: 8,
    handshakeTimeoutMs: 300,
    connectTimeoutMs: 300,
    dial: (host, port) => {
      dials++;
      if (host === "10.0.0.1") return new Promise(() => {}); // never connects
      if (host === "10.0.0.2") return Promise.reject(new Error("connection refused"));
      return Deno.connect({ hostname: host, port });
    },
  });
  const port = proxy.addr.port;
  const held: Deno.Conn[] = [];
  try {
    assert.ok(await socksOk(port, echoPort));
    // 1. silent clients are dropped after the handshake timeout
    const silent = await Deno.connect({ hostname: "127.0.0.1", port });
    assert.equal((await readSome(silent, 1, 5000)).length, 0, "closed by the proxy");
    silent.close();
    // 2. garbage, oversized HTTP headers, unsupported command (UDP ASSOCIATE), bad address type
    const cases: [Uint8Array, (b: Uint8Array) => boolean][] = [
      [
        new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"),
        (b) => /405/.test(new TextDecoder().decode(b)),
      ],
      [new TextEncoder().encode("CONNECT x:1 HTTP/1.1\r\n" + "X: y\r\n".repeat(3000)), () => true],
      [new Uint8Array([5, 1, 0, 5, 3, 0, 1, 127, 0, 0, 1, 0, 53]), (b) => b[3] === 7],
      [new Uint8Array([5, 1, 0, 5, 1, 0, 9]), (b) => b[3] === 8],
      [new Uint8Array([5, 1, 2]), (b) => b[1] === 0xff],
      [crypto.getRandomValues(new Uint8Array(512)), () => true],
    ];
    for (const [bytes, ok] of cases) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      await c.write(bytes).catch(() => 0);
      const rep = await readSome(c, 64, 3000);
      assert.ok(ok(rep), `reply ${rep}`);
      c.close();
    }
    // 3. dial timeout → 6 (TTL expired), refused → 5
    for (const [ip, code] of [["10.0.0.1", 6], ["10.0.0.2", 5]] as const) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      await c.write(new Uint8Array([5, 1, 0, 5, 1, 0, 1, ...ip.split(".").map(Number), 0, 80]));
      const rep = await readSome(c, 12);
      assert.equal(rep[3], code, `${ip}: ${rep}`);
      c.close();
    }
    // 4. the cap: 8 relayed connections held open; the 9th is closed at once
    for (let i = 0; i < 8; i++) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      await c.write(
        new Uint8Array([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, echoPort >> 8, echoPort & 0xff]),
      );
      assert.equal((await readSome(c, 12))[3], 0);
      held.push(c);
    }
    const extra = await Deno.connect({ hostname: "127.0.0.1", port });
    assert.equal((await readSome(extra, 1, 5000)).length, 0, "over the cap: closed");
    extra.close();
    assert.ok(proxy.counters.overCap >= 1);
    assert.equal(proxy.counters.active, 8);
    for (const c of held.splice(0)) c.close();
    // 5. still serving afterwards
    await waitUntil(() => proxy.counters.active === 0);
    assert.ok(await socksOk(port, echoPort));
    assert.ok(proxy.counters.badRequests >= 6);
    assert.ok(dials >= 10);
  } finally {
    for (const c of held) c.close();
    await proxy.close();
    echo.close();
  }
});

async function waitUntil(f: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 20));
  }
}
