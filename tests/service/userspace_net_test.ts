// UserspaceNet over a back-to-back pair: connect/listen with Deno.Conn-shaped objects, UDP, the SOCKS5 / HTTP CONNECT proxy, --forward and --expose.
import assert from "node:assert/strict";
import { Logger } from "../../src/service/logger.ts";
import { parseMapping, startExpose, startForward } from "../../src/service/proxy_relay.ts";
import { startProxy } from "../../src/service/socks_proxy.ts";
import { concatBytes } from "../../src/util/bytes.ts";
import { userspacePair } from "./userspace_pair.ts";

const log = new Logger("error");

async function readAll(c: { read(p: Uint8Array): Promise<number | null> }): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await c.read(buf);
    if (n === null) break;
    parts.push(buf.slice(0, n));
  }
  return concatBytes(parts);
}

async function sha(b: Uint8Array): Promise<string> {
  return Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>)),
  )
    .map((x) => x.toString(16).padStart(2, "0")).join("");
}

Deno.test("userspace: connect/listen move 4 MiB each way intact (also with 1/50 frames lost)", async () => {
  for (const loss of [0, 50]) {
    const p = await userspacePair(loss);
    try {
      const l = p.b.listen(8080);
      const data = crypto.getRandomValues(new Uint8Array(65536));
      const big = new Uint8Array(4 << 20);
      for (let i = 0; i < 64; i++) big.set(data, i * 65536);
      const server = (async () => {
        const c = await l.accept();
        const got = await readAll(c);
        await c.writeAll(got);
        await c.closeWrite();
        return got.length;
      })();
      const c = await p.a.connect("198.19.0.2", 8080);
      assert.equal(c.remoteAddr.hostname, "198.19.0.2");
      const w = (async () => {
        await c.writeAll(big);
        await c.closeWrite();
      })();
      const back = await readAll(c);
      await w;
      assert.equal(await server, big.length);
      assert.equal(await sha(back), await sha(big));
      c.close();
      l.close();
    } finally {
      await p.close();
    }
  }
});

Deno.test("userspace: connecting to a closed port is refused; UDP round trip; streams work", async () => {
  const p = await userspacePair();
  try {
    await assert.rejects(p.a.connect("198.19.0.2", 9), /refused/);
    await assert.rejects(p.a.connect("10.9.9.9", 9), /no route/);
    assert.ok((await p.a.ping("198.19.0.2", 3000)) >= 0);
    await assert.rejects(p.a.ping("198.19.0.77", 1500), /no echo reply/);
    const ub = p.b.udp(5353);
    const ua = p.a.udp(0, "198.19.0.2");
    assert.ok(ua.send(new TextEncoder().encode("ping"), "198.19.0.2", 5353));
    const [d, from] = await ub.receive();
    assert.equal(new TextDecoder().decode(d), "ping");
    assert.equal(from.hostname, "198.19.0.1");
    ub.send(new TextEncoder().encode("pong"), from.hostname, from.port);
    assert.equal(new TextDecoder().decode((await ua.receive())[0]), "pong");
    ua.close();
    const pending = ub.receive();
    ub.close();
    await assert.rejects(pending, /closed/);
    const l = p.b.listen(7);
    void (async () => {
      for await (const c of l) void c.readable.pipeTo(c.writable);
    })();
    const c = await p.a.connect("198.19.0.2", 7);
    const writer = c.writable.getWriter();
    await writer.write(new TextEncoder().encode("hello streams"));
    await writer.close();
    assert.equal(new TextDecoder().decode(await readAll(c)), "hello streams");
    l.close();
  } finally {
    await p.close();
  }
});

/** A minimal SOCKS5 CONNECT client over a local TCP connection. */
async function socksConnect(port: number, host: string, dport: number, auth?: [string, string]) {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  await c.write(new Uint8Array([5, 1, auth ? 2 : 0]));
  const r = new Uint8Array(2);
  await c.read(r);
  if (auth) {
    const u = new TextEncoder().encode(auth[0]), pw = new TextEncoder().encode(auth[1]);
    await c.write(new Uint8Array([1, u.length, ...u, pw.length, ...pw]));
    const ar = new Uint8Array(2);
    await c.read(ar);
    if (ar[1] !== 0) {
      c.close();
      return { c: undefined, code: -1 };
    }
  }
  const ip = host.split(".").map(Number);
  await c.write(new Uint8Array([5, 1, 0, 1, ...ip, dport >> 8, dport & 0xff]));
  const rep = new Uint8Array(10);
  let got = 0;
  while (got < 10) {
    const n = await c.read(rep.subarray(got));
    if (n === null) break;
    got += n;
  }
  return { c, code: rep[1] };
}

Deno.test("userspace: SOCKS5 and HTTP CONNECT reach an overlay service; auth enforced; --forward and --expose", async () => {
  const p = await userspacePair();
  const l = p.b.listen(80);
  void (async () => {
    for await (const c of l) {
      void (async () => {
        const buf = new Uint8Array(1024);
        const n = await c.read(buf);
        await c.writeAll(
          new TextEncoder().encode(`echo:${new TextDecoder().decode(buf.subarray(0, n ?? 0))}`),
        );
        c.close();
      })();
    }
  })();
  const proxy = startProxy({
    port: 0,
    dial: (h, port) => p.a.connect(h, port, 5000),
    udp: (towards) => p.a.udp(0, towards),
    log,
    auth: { username: "u", password: "p" },
  });
  const local = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const localPort = (local.addr as Deno.NetAddr).port;
  void (async () => {
    for await (const c of local) {
      await c.write(new TextEncoder().encode("local service"));
      c.close();
    }
  })().catch(() => {});
  const expose = startExpose(p.a, parseMapping(`tcp:2222=127.0.0.1:${localPort}`)!, log);
  const fwdPort = 20000 + Math.floor(Math.random() * 20000);
  const forward = startForward(p.a, parseMapping(`tcp:${fwdPort}=198.19.0.2:80`)!, log);
  try {
    const s = await socksConnect(proxy.addr.port, "198.19.0.2", 80, ["u", "p"]);
    assert.equal(s.code, 0);
    await s.c!.write(new TextEncoder().encode("hi"));
    assert.equal(new TextDecoder().decode(await readAll(s.c!)), "echo:hi");
    s.c!.close();
    const bad = await socksConnect(proxy.addr.port, "198.19.0.2", 80, ["u", "wrong"]);
    assert.equal(bad.code, -1);
    const refused = await socksConnect(proxy.addr.port, "198.19.0.2", 81, ["u", "p"]);
    assert.equal(refused.code, 5, "connection refused");
    refused.c!.close();
    // SOCKS5 UDP ASSOCIATE to an overlay UDP echo on b
    const echo = p.b.udp(5300);
    void (async () => {
      try {
        for (;;) {
          const [d, from] = await echo.receive();
          echo.send(d, from.hostname, from.port);
        }
      } catch { /* closed */ }
    })();
    const ctl = await Deno.connect({ hostname: "127.0.0.1", port: proxy.addr.port });
    await ctl.write(new Uint8Array([5, 1, 2]));
    await ctl.read(new Uint8Array(2));
    await ctl.write(new Uint8Array([1, 1, 117, 1, 112]));
    await ctl.read(new Uint8Array(2));
    await ctl.write(new Uint8Array([5, 3, 0, 1, 0, 0, 0, 0, 0, 0]));
    const ur = new Uint8Array(10);
    let urn = 0;
    while (urn < 10) urn += (await ctl.read(ur.subarray(urn))) ?? 10;
    assert.equal(ur[1], 0, "UDP ASSOCIATE granted");
    const relayPort = (ur[8] << 8) | ur[9];
    const { default: dgram } = await import("node:dgram");
    const us = dgram.createSocket("udp4");
    const answer = new Promise<Uint8Array>((res) => us.on("message", (m: Uint8Array) => res(m)));
    await new Promise<void>((res) => us.bind(0, "127.0.0.1", () => res()));
    us.send(
      new Uint8Array([
        0,
        0,
        0,
        1,
        198,
        19,
        0,
        2,
        5300 >> 8,
        5300 & 0xff,
        ...new TextEncoder().encode("dgram"),
      ]),
      relayPort,
      "127.0.0.1",
    );
    const m = await answer;
    assert.deepEqual([...m.subarray(0, 10)], [0, 0, 0, 1, 198, 19, 0, 2, 5300 >> 8, 5300 & 0xff]);
    assert.equal(new TextDecoder().decode(m.subarray(10)), "dgram");
    assert.equal(proxy.counters.udpAssociations, 1);
    assert.equal(proxy.counters.udpIn, 1);
    us.close();
    ctl.close();
    echo.close();
    // HTTP CONNECT
    const h = await Deno.connect({ hostname: "127.0.0.1", port: proxy.addr.port });
    await h.write(new TextEncoder().encode(
      `CONNECT 198.19.0.2:80 HTTP/1.1\r\nProxy-Authorization: Basic ${btoa("u:p")}\r\n\r\nhttp`,
    ));
    const text = new TextDecoder().decode(await readAll(h));
    assert.match(text, /^HTTP\/1\.1 200 [^\r]*\r\n\r\necho:http$/);
    // --forward
    const f = await Deno.connect({ hostname: "127.0.0.1", port: fwdPort });
    await f.write(new TextEncoder().encode("fw"));
    assert.equal(new TextDecoder().decode(await readAll(f)), "echo:fw");
    // --expose: B connects to A's overlay port 2222 and reaches the local service
    const e = await p.b.connect("198.19.0.1", 2222);
    assert.equal(new TextDecoder().decode(await readAll(e)), "local service");
    e.close();
    assert.equal(expose.count, 1);
    assert.equal(forward.count, 1);
  } finally {
    expose.close();
    forward.close();
    local.close();
    l.close();
    await proxy.close();
    await p.close();
  }
});

Deno.test("userspace: parseMapping accepts tcp:PORT=HOST:PORT only", () => {
  assert.deepEqual(parseMapping("tcp:8080=198.19.0.2:80"), {
    listenPort: 8080,
    host: "198.19.0.2",
    port: 80,
  });
  assert.deepEqual(parseMapping("tcp:1=[fd00::2]:22"), {
    listenPort: 1,
    host: "fd00::2",
    port: 22,
  });
  for (const bad of ["udp:1=a:2", "tcp:0=a:1", "tcp:70000=a:1", "tcp:1=a", "tcp:1=a:99999", ""]) {
    assert.equal(parseMapping(bad), undefined, bad);
  }
});

Deno.test("relay: after one side ends, an idle other side is closed after the half-close bound", async () => {
  const { relay } = await import("../../src/service/proxy_relay.ts");
  let closedA = 0, closedB = 0;
  let wakeB: ((v: number | null) => void) | undefined;
  const a = {
    read: () => Promise.resolve(null), // a ended at once
    write: (p: Uint8Array) => Promise.resolve(p.length),
    closeWrite: () => Promise.resolve(),
    close: () => void closedA++,
  };
  const b = {
    read: () => new Promise<number | null>((r) => (wakeB = r)), // b stays silent
    write: (p: Uint8Array) => Promise.resolve(p.length),
    closeWrite: () => Promise.resolve(),
    close: () => {
      closedB++;
      wakeB?.(null);
    },
  };
  const r = await relay(a, b, 0, 100);
  assert.deepEqual(r, { aToB: 0, bToA: 0 });
  assert.ok(closedA >= 1 && closedB >= 1);
});
