// Tests of the TCP fallback policy on a virtual clock: when the tunnel opens, carries, and closes; forceTcpRelay.
import assert from "node:assert/strict";
import { TcpFallbackPolicy, tunnelable } from "../../src/service/tcp_fallback.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";

const ROOT = InetAddress.fromIp("192.0.0.10", 9993)!; // global scope to ZeroTier
const LAB = InetAddress.fromIp("198.18.0.10", 9993)!; // private to ZeroTier
const V6 = InetAddress.fromIp("2001:db9::1", 9993)!;

Deno.test("only 16+ byte datagrams to global IPv4 addresses are tunnelable", () => {
  assert.equal(tunnelable(ROOT, 16), true);
  assert.equal(tunnelable(ROOT, 15), false);
  assert.equal(tunnelable(LAB, 100), false);
  assert.equal(tunnelable(V6, 100), false);
});

Deno.test("no tunnel during the first 60 s, then one opens on a send 2.5..60 s after the last", () => {
  const p = new TcpFallbackPolicy({ allowed: true, force: false }, 1_000_000);
  let t = 1_000_000;
  // every 5 s for the first minute: UDP only
  for (; t <= 1_060_000; t += 5_000) {
    assert.deepEqual(p.send(t, ROOT, 100, false), { tunnel: false, open: false, udp: true });
  }
  // past 60 s since start with no UDP from a global address: open (gap 5 s)
  assert.deepEqual(p.send(t, ROOT, 100, false), { tunnel: false, open: true, udp: true });
  // a send 1 s later while opening/open goes through the tunnel, UDP alongside
  assert.deepEqual(p.send(t + 1000, ROOT, 100, true), { tunnel: true, open: false, udp: true });
  // private-scope destinations never use it
  assert.deepEqual(p.send(t + 2000, LAB, 100, true), { tunnel: false, open: false, udp: true });
  assert.equal(p.shouldClose(t + 2000), false);
});

Deno.test("a send right after the previous one (under 2.5 s) does not open a tunnel", () => {
  const p = new TcpFallbackPolicy({ allowed: true, force: false }, 0);
  p.send(100_000, ROOT, 100, false);
  assert.equal(p.send(101_000, ROOT, 100, false).open, false);
  assert.equal(p.send(104_000, ROOT, 100, false).open, true);
  // more than 60 s of silence: the next send only re-arms
  assert.equal(p.send(200_000, ROOT, 100, false).open, false);
  assert.equal(p.send(203_000, ROOT, 100, false).open, true);
});

Deno.test("UDP from a global address disengages it and closes the tunnel within 30 s", () => {
  const p = new TcpFallbackPolicy({ allowed: true, force: false }, 0);
  assert.equal(p.engaged(100_000), true);
  assert.equal(p.udpReceived(100_000, LAB, 100), true);
  assert.equal(p.engaged(100_000), true, "private-scope UDP does not count");
  assert.equal(p.udpReceived(100_000, ROOT, 12), true);
  assert.equal(p.engaged(100_000), true, "short datagrams do not count");
  p.udpReceived(100_000, ROOT, 100);
  assert.equal(p.engaged(100_001), false);
  assert.equal(p.shouldClose(100_001), true);
  assert.equal(p.shouldClose(130_001), false);
  assert.equal(p.engaged(160_001), true, "a minute later without UDP it engages again");
});

Deno.test("forceTcpRelay: always the tunnel, never UDP either way", () => {
  const p = new TcpFallbackPolicy({ allowed: true, force: true }, 0);
  assert.deepEqual(p.send(1, ROOT, 100, false), { tunnel: false, open: true, udp: false });
  assert.deepEqual(p.send(2, ROOT, 100, true), { tunnel: true, open: false, udp: false });
  assert.deepEqual(p.send(3, LAB, 100, true), { tunnel: false, open: false, udp: false });
  assert.equal(p.udpReceived(4, ROOT, 100), false);
  assert.equal(p.shouldClose(5), false);
});

Deno.test("not allowed: never engaged, forceTcpRelay ignored", () => {
  const p = new TcpFallbackPolicy({ allowed: false, force: true }, 0);
  assert.deepEqual(p.send(200_000, ROOT, 100, false), { tunnel: false, open: false, udp: true });
  assert.equal(p.udpReceived(1, ROOT, 100), true);
});

Deno.test("a shorter fallback delay (tests only) shortens engaging and closing, not the send window", () => {
  const p = new TcpFallbackPolicy({ allowed: true, force: false, afterMs: 2000 }, 0);
  assert.equal(p.engaged(1500), false);
  p.send(2100, ROOT, 100, false);
  assert.equal(p.send(3100, ROOT, 100, false).open, false, "under 2.5 s since the last send");
  assert.equal(p.send(8100, ROOT, 100, false).open, true, "5 s: inside the 2.5..60 s window");
  p.udpReceived(9000, ROOT, 100);
  assert.equal(p.shouldClose(9900), true);
  assert.equal(p.shouldClose(10_100), false);
});
