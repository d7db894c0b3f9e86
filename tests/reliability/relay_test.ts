// Reliability of `zt relay`'s listener: many idle connections, a slow reader, oversized and junk records, the connection cap.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { Logger } from "../../src/service/logger.ts";
import { serveRelayMetrics, TcpRelayServer } from "../../src/service/tcp_relay_server.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { RelayTestClient, udpEcho, until } from "../helpers/relay_peer.ts";

const quiet = () => new Logger("error");

/** One round trip through the relay to the echo; true if it came back. */
async function roundTrip(c: RelayTestClient, echoPort: number, tag: number): Promise<boolean> {
  const before = c.received.length;
  const data = new Uint8Array(64).fill(tag & 0xff);
  await c.send(InetAddress.fromIp("127.0.0.1", echoPort)!, data);
  return await until(() => c.received.slice(before).some((d) => d.data[0] === (tag & 0xff)));
}

Deno.test("250 idle connections are closed by the idle timeout while an active one stays", async () => {
  const echo = await udpEcho();
  const relay = TcpRelayServer.start({ port: 0, bind: "127.0.0.1", idleMs: 3000, log: quiet() });
  const idle: RelayTestClient[] = [];
  const active = await RelayTestClient.connect(relay.port);
  try {
    await active.hello();
    for (let i = 0; i < 250; i++) idle.push(await RelayTestClient.connect(relay.port));
    assert.ok(await until(() => relay.stats.accepted === 251), "all accepted");
    // the relay still relays with 250 idle connections open
    assert.ok(await roundTrip(active, echo.port, 1));
    // keep the active one busy until every idle one is gone
    let tag = 2;
    const gone = until(() => idle.every((c) => c.isClosed), 10_000);
    while (!idle.every((c) => c.isClosed) && tag < 200) {
      assert.ok(await roundTrip(active, echo.port, tag++));
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(await gone, "idle connections closed");
    assert.equal(relay.stats.closedIdle, 250);
    assert.equal(active.isClosed, false);
    assert.equal(relay.connections, 1);
  } finally {
    active.close();
    for (const c of idle) c.close();
    await relay.close();
    echo.close();
  }
});

Deno.test("a client that never reads: its queue stays bounded, others are served", async () => {
  const cap = 64 * 1024;
  const relay = TcpRelayServer.start({
    port: 0,
    bind: "127.0.0.1",
    writeBufferBytes: cap,
    log: quiet(),
  });
  const echo = await udpEcho();
  // a UDP sender that learns the slow client's relay socket from a first datagram
  const blaster = dgram.createSocket({ type: "udp4" });
  let target: { port: number } | undefined;
  blaster.on("message", (_m: Uint8Array, r: dgram.RemoteInfo) => (target = { port: r.port }));
  await new Promise<void>((res) => blaster.bind(0, "127.0.0.1", () => res()));
  const slow = await RelayTestClient.connect(relay.port, false);
  const good = await RelayTestClient.connect(relay.port);
  try {
    await slow.hello();
    await good.hello();
    await slow.send(InetAddress.fromIp("127.0.0.1", blaster.address().port)!, new Uint8Array(32));
    assert.ok(await until(() => target !== undefined), "relay socket of the slow client known");
    const big = new Uint8Array(2000);
    let maxQueued = 0;
    for (let sent = 0; sent < 40_000 && relay.stats.droppedBufferFull === 0; sent += 200) {
      for (let i = 0; i < 200; i++) blaster.send(big, target!.port, "127.0.0.1");
      await new Promise((r) => setTimeout(r, 5));
      maxQueued = Math.max(maxQueued, relay.queuedBytes);
    }
    assert.ok(relay.stats.droppedBufferFull > 0, "datagrams beyond the buffer are dropped");
    assert.ok(maxQueued <= cap, `queued ${maxQueued} <= ${cap}`);
    assert.ok(await roundTrip(good, echo.port, 7), "another client is still served");
    assert.equal(relay.connections, 2);
  } finally {
    slow.close();
    good.close();
    blaster.close();
    await relay.close();
    echo.close();
  }
});

Deno.test("oversized and junk records close only their own connection", async () => {
  const echo = await udpEcho();
  const relay = TcpRelayServer.start({ port: 0, bind: "127.0.0.1", log: quiet() });
  const good = await RelayTestClient.connect(relay.port);
  const huge = await RelayTestClient.connect(relay.port);
  const junk = await RelayTestClient.connect(relay.port);
  try {
    await good.hello();
    await huge.hello();
    // a record announcing 65535 bytes, then part of it: refused at the header
    await huge.write(new Uint8Array([0x17, 3, 3, 0xff, 0xff, ...new Uint8Array(1000)]));
    await junk.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    assert.ok(await until(() => huge.isClosed && junk.isClosed));
    assert.equal(relay.stats.closedBadRecord, 2);
    assert.ok(await roundTrip(good, echo.port, 3));
    assert.equal(relay.connections, 1);
  } finally {
    good.close();
    huge.close();
    junk.close();
    await relay.close();
    echo.close();
  }
});

Deno.test("the connection cap refuses extra clients and frees a slot on close", async () => {
  const echo = await udpEcho();
  const relay = TcpRelayServer.start({
    port: 0,
    bind: "127.0.0.1",
    maxConnections: 5,
    log: quiet(),
  });
  const clients: RelayTestClient[] = [];
  try {
    for (let i = 0; i < 5; i++) clients.push(await RelayTestClient.connect(relay.port));
    assert.ok(await until(() => relay.connections === 5));
    const extra = await RelayTestClient.connect(relay.port);
    clients.push(extra);
    assert.ok(await until(() => extra.isClosed), "sixth connection closed");
    assert.equal(relay.stats.rejectedCap, 1);
    clients[0].close();
    assert.ok(await until(() => relay.connections === 4));
    const again = await RelayTestClient.connect(relay.port);
    clients.push(again);
    await again.hello();
    assert.ok(await roundTrip(again, echo.port, 9), "a freed slot is usable");
    assert.equal(relay.connections, 5);
  } finally {
    for (const c of clients) c.close();
    await relay.close();
    echo.close();
  }
});

Deno.test("the metrics listener: 50 concurrent scrapes answer, other paths 404, POST 405", async () => {
  const relay = TcpRelayServer.start({ port: 0, bind: "127.0.0.1", log: quiet() });
  const srv = serveRelayMetrics(relay, "127.0.0.1", 0);
  const base = `http://127.0.0.1:${srv.addr.port}`;
  try {
    const texts = await Promise.all(
      Array.from({ length: 50 }, () => fetch(`${base}/metrics`).then((r) => r.text())),
    );
    for (const t of texts) assert.match(t, /# TYPE zt_relay_connections gauge/);
    const nf = await fetch(`${base}/other`);
    await nf.body?.cancel();
    assert.equal(nf.status, 404);
    const post = await fetch(`${base}/metrics`, { method: "POST", body: "x" });
    await post.body?.cancel();
    assert.equal(post.status, 405);
  } finally {
    await srv.shutdown();
    await relay.close();
  }
});
