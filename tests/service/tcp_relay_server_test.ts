// Tests of `zt relay`'s server: a TCP client relays to a UDP echo on loopback and back; the protocol's rules on what is forwarded.
import assert from "node:assert/strict";
import { Logger } from "../../src/service/logger.ts";
import { relayMetrics, TcpRelayServer } from "../../src/service/tcp_relay_server.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { RelayTestClient, udpEcho, until } from "../helpers/relay_peer.ts";

const quiet = () => new Logger("error");

Deno.test("a client's datagram goes out over UDP and the echo comes back with its source", async () => {
  const echo = await udpEcho();
  const relay = TcpRelayServer.start({ port: 0, bind: "127.0.0.1", log: quiet() });
  const c = await RelayTestClient.connect(relay.port);
  try {
    await c.hello();
    const to = InetAddress.fromIp("127.0.0.1", echo.port)!;
    const payload = new Uint8Array(300).map((_, i) => i & 0xff);
    await c.send(to, payload);
    assert.ok(await until(() => c.received.length === 1), "echo relayed back");
    assert.ok(c.received[0].from!.equals(to));
    assert.deepEqual([...c.received[0].data], [...payload]);
    assert.equal(relay.stats.toUdp, 1);
    assert.equal(relay.stats.toTcp, 1);
    const text = await relayMetrics(relay).metrics();
    assert.match(text, /zt_relay_connections 1/);
    assert.match(text, /zt_relay_datagrams_total\{direction="to_udp"\} 1/);
    assert.match(text, /zt_relay_connection_events_total\{event="accepted"\} 1/);
  } finally {
    c.close();
    await relay.close();
    echo.close();
  }
});

Deno.test("nothing is forwarded before the hello, to low ports, or outside 16..2047 bytes", async () => {
  const echo = await udpEcho();
  const relay = TcpRelayServer.start({ port: 0, bind: "127.0.0.1", log: quiet() });
  const c = await RelayTestClient.connect(relay.port);
  try {
    const to = InetAddress.fromIp("127.0.0.1", echo.port)!;
    await c.send(to, new Uint8Array(100)); // before hello
    await c.hello();
    await c.send(InetAddress.fromIp("127.0.0.1", 1024)!, new Uint8Array(100)); // port <= 1024
    await c.send(to, new Uint8Array(15)); // too short
    await c.send(to, new Uint8Array(2048)); // too long: the record exceeds the relay's limit
    assert.ok(await until(() => c.isClosed), "oversized record closes the connection");
    assert.equal(relay.stats.droppedFromClient, 3);
    assert.equal(relay.stats.closedBadRecord, 1);
    assert.equal(echo.received(), 0);
    assert.ok(await until(() => relay.connections === 0));
  } finally {
    c.close();
    await relay.close();
    echo.close();
  }
});

Deno.test("a client outside --allow is closed at once", async () => {
  const relay = TcpRelayServer.start({
    port: 0,
    bind: "127.0.0.1",
    allow: [InetAddress.parse("10.0.0.0/8")!],
    log: quiet(),
  });
  const c = await RelayTestClient.connect(relay.port);
  try {
    assert.ok(await until(() => c.isClosed));
    assert.equal(relay.stats.rejectedAllow, 1);
    assert.equal(relay.stats.accepted, 0);
  } finally {
    c.close();
    await relay.close();
  }
  const open = TcpRelayServer.start({
    port: 0,
    bind: "127.0.0.1",
    allow: [InetAddress.parse("127.0.0.0/8")!],
    log: quiet(),
  });
  const d = await RelayTestClient.connect(open.port);
  try {
    assert.ok(await until(() => open.stats.accepted === 1));
    assert.equal(d.isClosed, false);
  } finally {
    d.close();
    await open.close();
  }
});
