// Tests of the transport multiplexer: socket ids per transport, send-to-all, the tunnel as a second transport; and a real tunnel through `zt relay` on loopback.
import assert from "node:assert/strict";
import { Logger } from "../../src/service/logger.ts";
import { TcpFallbackPolicy } from "../../src/service/tcp_fallback.ts";
import { TcpRelayTunnel } from "../../src/service/tcp_relay_client.ts";
import { TcpRelayServer } from "../../src/service/tcp_relay_server.ts";
import {
  MUX_SLOTS,
  RELAY_INDEX,
  RELAY_SOCKET_ID,
  SOCKET_ID_STRIDE,
  TransportMux,
  type TunnelLike,
} from "../../src/service/transport_mux.ts";
import { Sim } from "../../src/sim/sim.ts";
import { SimTransport } from "../../src/sim/sim_transport.ts";
import type { UdpTransportApi } from "../../src/service/udp_transport.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { udpEcho, until } from "../helpers/relay_peer.ts";

const quiet = () => new Logger("error");
const ROOT = InetAddress.fromIp("192.0.0.10", 9993)!;
const RELAY = InetAddress.fromIp("198.18.0.1", 443)!;

/** A UDP transport that records what it is asked to send. */
function fakeUdp(): UdpTransportApi & { sent: [number, string][] } {
  const sent: [number, string][] = [];
  return {
    sent,
    stats: { received: 1, sent: 0, sendErrors: 0, handlerErrors: 0 },
    send(sock, remote) {
      sent.push([sock, remote.toString()]);
      return true;
    },
    boundAddresses: () => [],
    hasWildcard: () => false,
    close: () => Promise.resolve(),
  };
}

/** A tunnel that records sends. */
function fakeTunnel(): TunnelLike & {
  sent: string[];
  onPacket?: (f: InetAddress, d: Uint8Array) => void;
} {
  const t = {
    sent: [] as string[],
    connected: true,
    closed: false,
    send(to: InetAddress) {
      t.sent.push(to.toString());
      return true;
    },
    close() {
      t.closed = true;
      t.connected = false;
    },
  };
  return t;
}

Deno.test("socket ids name the transport; -1 goes out of every UDP transport", () => {
  const got: [number, string][] = [];
  const mux = new TransportMux({
    onPacket: (s, r) => got.push([s, r.toString()]),
    now: () => 0,
    log: quiet(),
  });
  const a = fakeUdp();
  const b = fakeUdp();
  mux.attach(0, a);
  mux.attach(1, b);
  mux.handler(1)(2, ROOT, new Uint8Array(20));
  assert.deepEqual(got, [[SOCKET_ID_STRIDE + 2, "192.0.0.10/9993"]]);
  mux.send(SOCKET_ID_STRIDE + 2, ROOT, new Uint8Array(20));
  assert.deepEqual(b.sent, [[2, "192.0.0.10/9993"]]);
  assert.deepEqual(a.sent, []);
  mux.send(-1, ROOT, new Uint8Array(20));
  assert.deepEqual(a.sent, [[-1, "192.0.0.10/9993"]]);
  assert.equal(b.sent.length, 2);
  assert.equal(mux.stats.received, 2);
});

Deno.test("engaged fallback: the tunnel carries global IPv4 alongside UDP, its packets come in on RELAY_SOCKET_ID", () => {
  let now = 0;
  const got: [number, string][] = [];
  const tunnels: (TunnelLike & { sent: string[] })[] = [];
  let deliver: ((f: InetAddress, d: Uint8Array) => void) | undefined;
  const mux = new TransportMux({
    onPacket: (s, r) => got.push([s, r.toString()]),
    now: () => now,
    log: quiet(),
    fallback: { relay: RELAY, policy: new TcpFallbackPolicy({ allowed: true, force: false }, 0) },
    openTunnel: (o) => {
      assert.ok(o.relay.equals(RELAY));
      deliver = o.onPacket;
      const t = fakeTunnel();
      tunnels.push(t);
      return t;
    },
  });
  const udp = fakeUdp();
  mux.attach(0, udp);
  now = 65_000;
  mux.send(1, ROOT, new Uint8Array(40));
  assert.equal(tunnels.length, 0, "first send after start only arms");
  now = 70_000;
  mux.send(1, ROOT, new Uint8Array(40));
  assert.equal(tunnels.length, 1);
  assert.equal(mux.tcpFallbackActive, true);
  now = 71_000;
  mux.send(RELAY_SOCKET_ID, ROOT, new Uint8Array(40));
  assert.deepEqual(tunnels[0].sent, ["192.0.0.10/9993"]);
  assert.deepEqual(udp.sent.at(-1), [-1, "192.0.0.10/9993"], "UDP alongside, on any socket");
  deliver!(ROOT, new Uint8Array(40));
  assert.deepEqual(got, [[RELAY_SOCKET_ID, "192.0.0.10/9993"]]);
  // the tunnel is the transport in the relay slot, with its own counters (not in the mux's)
  assert.equal(mux.transport(RELAY_INDEX), mux.relay);
  assert.deepEqual(mux.relay!.stats, { received: 1, sent: 1, sendErrors: 0, handlerErrors: 0 });
  assert.deepEqual(mux.stats, udp.stats);
  assert.throws(() => mux.attach(RELAY_INDEX, fakeUdp()), /TCP fallback tunnel/);
  // UDP from the internet again: the tunnel closes on the next tick
  mux.handler(0)(1, ROOT, new Uint8Array(40));
  mux.tick(now);
  assert.equal(tunnels[0].closed, true);
});

Deno.test("forceTcpRelay: nothing over UDP, UDP input ignored; close closes the tunnel", async () => {
  const got: number[] = [];
  const t = fakeTunnel();
  const mux = new TransportMux({
    onPacket: (s) => got.push(s),
    now: () => 5,
    log: quiet(),
    fallback: { relay: RELAY, policy: new TcpFallbackPolicy({ allowed: true, force: true }, 0) },
    openTunnel: () => t,
  });
  const udp = fakeUdp();
  mux.attach(0, udp);
  mux.send(1, ROOT, new Uint8Array(40));
  mux.send(1, ROOT, new Uint8Array(40));
  assert.deepEqual(udp.sent, []);
  assert.deepEqual(t.sent, ["192.0.0.10/9993"]);
  mux.handler(0)(1, ROOT, new Uint8Array(40));
  assert.deepEqual(got, []);
  assert.equal(mux.tunnelsOpened, 1);
  // closing the mux closes the tunnel, and no new one opens
  await mux.close();
  assert.equal(t.closed, true);
  assert.equal(mux.send(1, ROOT, new Uint8Array(40)), false);
  assert.equal(mux.tunnelsOpened, 1);
});

Deno.test("two in-memory transports behind the mux: ids mapped, receive attributed, send routed, -1 on all, close closes all", async () => {
  const sim = new Sim(7);
  const got: [number, string, number][] = [];
  const mux = new TransportMux({
    onPacket: (s, r, d) => got.push([s, r.toString(), d[0]]),
    now: () => sim.now,
    log: quiet(),
  });
  const host = sim.host("90.0.0.1");
  const a = new SimTransport(host.bind(9993), mux.handler(0));
  const b = new SimTransport(host.bind(9994), mux.handler(3));
  mux.attach(0, a);
  mux.attach(3, b);
  assert.equal(mux.transport(3), b);
  assert.equal(TransportMux.socketId(3, 0), 3 * SOCKET_ID_STRIDE);
  assert.throws(() => mux.attach(MUX_SLOTS, b), /expected an integer 0\.\.9/);
  assert.throws(() => mux.handler(-1), RangeError);
  assert.deepEqual(mux.boundAddresses().map(String), ["90.0.0.1/9993", "90.0.0.1/9994"]);

  const peerGot: [string, number][] = [];
  const peer = new SimTransport(
    sim.host("90.0.0.2").bind(9993),
    (_s, r, d) => peerGot.push([r.toString(), d[0]]),
  );
  const PEER = InetAddress.fromIp("90.0.0.2", 9993)!;
  assert.ok(peer.send(-1, InetAddress.fromIp("90.0.0.1", 9994)!, new Uint8Array([1])));
  assert.ok(peer.send(-1, InetAddress.fromIp("90.0.0.1", 9993)!, new Uint8Array([2])));
  sim.clock.runFor(100);
  assert.deepEqual(got, [[300, "90.0.0.2/9993", 1], [0, "90.0.0.2/9993", 2]]);

  // a path's socket id routes the send to that transport only
  assert.ok(mux.send(300, PEER, new Uint8Array([3])));
  sim.clock.runFor(100);
  assert.deepEqual(peerGot, [["90.0.0.1/9994", 3]]);
  // -1 (no socket given): out of every transport, as the reference sends on all bound ports
  peerGot.length = 0;
  assert.ok(mux.send(-1, PEER, new Uint8Array([4])));
  sim.clock.runFor(100);
  assert.deepEqual(peerGot.sort(), [["90.0.0.1/9993", 4], ["90.0.0.1/9994", 4]]);
  assert.deepEqual(a.stats, { received: 1, sent: 1, sendErrors: 0, handlerErrors: 0 });
  assert.deepEqual(b.stats, { received: 1, sent: 2, sendErrors: 0, handlerErrors: 0 });
  assert.deepEqual(mux.stats, { received: 2, sent: 3, sendErrors: 0, handlerErrors: 0 });

  await mux.close();
  assert.equal(a.send(-1, PEER, new Uint8Array([5])), false, "a closed");
  assert.equal(b.send(-1, PEER, new Uint8Array([5])), false, "b closed");
  assert.equal(mux.send(-1, PEER, new Uint8Array([5])), false);
});

Deno.test("a real tunnel through zt relay reaches a UDP echo and back", async () => {
  const echo = await udpEcho();
  const relay = TcpRelayServer.start({ port: 0, bind: "127.0.0.1", log: quiet() });
  const got: Uint8Array[] = [];
  let closed = "";
  const t = TcpRelayTunnel.open({
    relay: InetAddress.fromIp("127.0.0.1", relay.port)!,
    log: quiet(),
    onPacket: (from, d) => {
      assert.equal(from.port, echo.port);
      got.push(d.slice());
    },
    onClose: (r) => (closed = r),
  });
  try {
    // queued before the connection is up, sent after the hello
    assert.ok(t.send(InetAddress.fromIp("127.0.0.1", echo.port)!, new Uint8Array(50).fill(5)));
    assert.ok(await until(() => got.length === 1));
    assert.equal(got[0][0], 5);
    assert.equal(t.connected, true);
    await relay.close();
    assert.ok(await until(() => t.closed), "tunnel notices the relay going away");
    assert.match(closed, /closed by the relay|read/);
  } finally {
    t.close();
    await relay.close();
    echo.close();
  }
});

Deno.test("a tunnel to a port nobody listens on reports the failure", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  let closed = "";
  const t = TcpRelayTunnel.open({
    relay: InetAddress.fromIp("127.0.0.1", port)!,
    log: quiet(),
    onPacket: () => {},
    onClose: (r) => (closed = r),
  });
  assert.ok(await until(() => t.closed));
  assert.match(closed, /cannot connect/);
  assert.equal(t.send(InetAddress.fromIp("127.0.0.1", 9999)!, new Uint8Array(20)), false);
});

Deno.test("a tunnel to a relay that sends junk closes; one that never reads bounds the queue", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  const accepted: Deno.Conn[] = [];
  const acceptLoop = (async () => {
    for (let i = 0; i < 2; i++) {
      const c = await l.accept();
      accepted.push(c);
      if (i === 0) await c.write(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n"));
      // the second one never reads
    }
  })();
  let reason = "";
  const junk = TcpRelayTunnel.open({
    relay: InetAddress.fromIp("127.0.0.1", port)!,
    log: quiet(),
    onPacket: () => assert.fail("no packet from junk"),
    onClose: (r) => (reason = r),
  });
  assert.ok(await until(() => junk.closed));
  assert.match(reason, /bad record from the relay/);

  const stuck = TcpRelayTunnel.open({
    relay: InetAddress.fromIp("127.0.0.1", port)!,
    log: quiet(),
    onPacket: () => {},
    onClose: () => {},
  });
  try {
    assert.ok(await until(() => stuck.connected));
    const to = InetAddress.fromIp("192.0.0.10", 9993)!;
    const big = new Uint8Array(2000);
    let refused = 0;
    for (let i = 0; i < 20_000 && refused === 0; i++) {
      if (!stuck.send(to, big)) refused++;
      if (i % 100 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    assert.equal(refused, 1, "sends are refused once the socket and the 64 KiB queue are full");
    assert.ok(stuck.stats.dropped >= 1);
  } finally {
    stuck.close();
    await acceptLoop;
    for (const c of accepted) c.close();
    l.close();
  }
});
