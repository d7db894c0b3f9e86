// Simulated internet: delivery and latency, copies, loss/jitter/duplicate statistics, cuts, moves, stats.
import assert from "node:assert/strict";
import { Sim, type SimAddr, type TraceEvent } from "../../src/sim/sim.ts";

interface Got {
  t: number;
  src: SimAddr;
  data: Uint8Array;
  port: number;
  ip: string;
}

function collect(
  sim: Sim,
  sock: { onReceive(cb: (s: SimAddr, b: Uint8Array, p: number, ip: string) => void): void },
): Got[] {
  const got: Got[] = [];
  sock.onReceive((src, data, port, ip) => got.push({ t: sim.now, src, data, port, ip }));
  return got;
}

Deno.test("public hosts exchange datagrams; delay is the sum of both links' latency", () => {
  const sim = new Sim(1);
  const a = sim.host("198.18.0.1", { link: { latencyMs: 7 } });
  const b = sim.host("198.18.0.2", { link: { latencyMs: 20 } });
  const sa = a.bind(9993), sb = b.bind(9993);
  const gotA = collect(sim, sa), gotB = collect(sim, sb);
  sa.send(sb.local, new Uint8Array([1, 2, 3]));
  sim.clock.runFor(26);
  assert.equal(gotB.length, 0);
  sim.clock.runFor(1);
  assert.equal(gotB.length, 1);
  assert.deepEqual(gotB[0], {
    t: 27,
    src: { ip: "198.18.0.1", port: 9993 },
    data: new Uint8Array([1, 2, 3]),
    port: 9993,
    ip: "198.18.0.2",
  });
  sb.send(gotB[0].src, new Uint8Array([9]));
  sim.clock.runFor(100);
  assert.equal(gotA.length, 1);
  assert.equal(gotA[0].t, 54);
  assert.deepEqual(a.stats, { txPackets: 1, txBytes: 3, rxPackets: 1, rxBytes: 1 });
  assert.deepEqual(b.stats, { txPackets: 1, txBytes: 1, rxPackets: 1, rxBytes: 3 });
  assert.equal(sim.stats.sent, 2);
  assert.equal(sim.stats.delivered, 2);
});

Deno.test("delivery copies bytes: sender reuse and receiver mutation don't leak", () => {
  const sim = new Sim(1);
  const sa = sim.host("198.18.0.1").bind(1), sb = sim.host("198.18.0.2").bind(2);
  const seen: Uint8Array[] = [];
  sb.onReceive((_s, b) => {
    seen.push(b);
    b[0] = 0xff; // receiver scribbles on its copy
  });
  const buf = new Uint8Array([1, 2]);
  sa.send(sb.local, buf);
  buf[0] = 7; // sender reuses its buffer right away
  sa.send(sb.local, buf);
  sim.clock.runFor(50);
  assert.equal(seen.length, 2);
  assert.notEqual(seen[0], seen[1]);
  assert.deepEqual(buf, new Uint8Array([7, 2]));
  assert.equal(seen[0][1], 2);
  assert.equal(seen[0][0], 0xff);
});

Deno.test("unknown IP, closed port, no handler and closed socket are dropped and counted", () => {
  const sim = new Sim(1);
  const h = sim.host("198.18.0.1");
  const s = h.bind(5);
  sim.host("198.18.0.2").bind(6); // bound, but no handler
  s.send({ ip: "198.18.9.9", port: 1 }, new Uint8Array(1));
  s.send({ ip: "198.18.0.2", port: 7 }, new Uint8Array(1));
  s.send({ ip: "198.18.0.2", port: 6 }, new Uint8Array(1));
  sim.clock.runFor(100);
  assert.equal(sim.stats.dropped["no-route"], 1);
  assert.equal(sim.stats.dropped["no-socket"], 1);
  assert.equal(sim.stats.dropped["no-handler"], 1);
  s.close();
  assert.equal(s.send({ ip: "198.18.0.2", port: 6 }, new Uint8Array(1)), false);
  assert.throws(() => sim.host("198.18.0.1"), /already in use/);
  assert.throws(() => sim.host("not-an-ip"), /not an IP/);
});

Deno.test("bind: port conflicts, ephemeral ports, per-IP sockets on a multi-homed host", () => {
  const sim = new Sim(1);
  const h = sim.host(["198.18.0.1", "198.18.0.2"]);
  const any = h.bind(9993);
  assert.throws(() => h.bind(9993), /already bound/);
  assert.throws(() => h.bind(9993, "198.18.0.2"), /already bound/);
  const e1 = h.bind(), e2 = h.bind(0);
  assert.deepEqual([any.id, e1.id, e2.id], [1, 2, 3]);
  assert.equal(e1.port, 49152);
  assert.equal(e2.port, 49153);
  const only2 = h.bind(4000, "198.18.0.2");
  const only1 = h.bind(4000, "198.18.0.1");
  assert.deepEqual(only2.local, { ip: "198.18.0.2", port: 4000 });
  assert.deepEqual(any.local, { ip: "198.18.0.1", port: 9993 });
  const peer = sim.host("198.18.0.9").bind(1);
  const g2 = collect(sim, only2), g1 = collect(sim, only1), gp = collect(sim, peer);
  peer.send({ ip: "198.18.0.2", port: 4000 }, new Uint8Array([2]));
  peer.send({ ip: "198.18.0.1", port: 4000 }, new Uint8Array([1]));
  only2.send(peer.local, new Uint8Array([3]));
  sim.clock.runFor(100);
  assert.deepEqual(g2.map((g) => g.data[0]), [2]);
  assert.deepEqual(g1.map((g) => g.data[0]), [1]);
  assert.deepEqual(gp[0].src, { ip: "198.18.0.2", port: 4000 });
});

Deno.test("loss statistics: 20% loss on one link delivers ~80%, reproducibly per seed", () => {
  const run = (seed: number) => {
    const sim = new Sim(seed);
    const a = sim.host("198.18.0.1", { link: { loss: 0.2 } }).bind(1);
    const b = sim.host("198.18.0.2").bind(2);
    let n = 0;
    b.onReceive(() => n++);
    for (let i = 0; i < 10_000; i++) sim.clock.after(i, () => a.send(b.local, new Uint8Array(100)));
    sim.clock.runFor(20_000);
    assert.equal(n + sim.stats.dropped.loss, 10_000);
    return n;
  };
  const n1 = run(1), n2 = run(2);
  // Binomial(10000, 0.8): sd = 40; allow ±6 sd.
  for (const n of [n1, n2]) assert.ok(n > 7760 && n < 8240, `delivered ${n}`);
  assert.equal(run(1), n1);
  assert.notEqual(n1, n2);
});

Deno.test("loss compounds over both links: 1-(1-p)^2", () => {
  const sim = new Sim(3);
  const a = sim.host("198.18.0.1", { link: { loss: 0.3 } }).bind(1);
  const b = sim.host("198.18.0.2", { link: { loss: 0.3 } }).bind(2);
  let n = 0;
  b.onReceive(() => n++);
  for (let i = 0; i < 10_000; i++) a.send(b.local, new Uint8Array(1));
  sim.clock.runFor(100);
  // expected 4900, sd ~50
  assert.ok(Math.abs(n - 4900) < 300, `delivered ${n}`);
});

Deno.test("jitter spreads delay within [latency, latency+jitter] and can reorder", () => {
  const sim = new Sim(4);
  const a = sim.host("198.18.0.1", { link: { latencyMs: 10, jitterMs: 30 } }).bind(1);
  const b = sim.host("198.18.0.2", { link: { latencyMs: 0 } }).bind(2);
  const got = collect(sim, b);
  for (let i = 0; i < 500; i++) a.send(b.local, new Uint8Array([i & 0xff, i >> 8]));
  sim.clock.runFor(100);
  assert.equal(got.length, 500);
  const delays = got.map((g) => g.t);
  assert.ok(Math.min(...delays) >= 10 && Math.max(...delays) <= 40);
  assert.ok(new Set(delays).size > 20, "delays should vary");
  const order = got.map((g) => g.data[0] | (g.data[1] << 8));
  assert.notDeepEqual(order, [...order].sort((x, y) => x - y), "jitter should reorder some");
});

Deno.test("duplicates: ~p of datagrams arrive twice, each copy independent", () => {
  const sim = new Sim(5);
  const a = sim.host("198.18.0.1", { link: { duplicate: 0.1 } }).bind(1);
  const b = sim.host("198.18.0.2").bind(2);
  const got = collect(sim, b);
  for (let i = 0; i < 5000; i++) a.send(b.local, new Uint8Array([1]));
  sim.clock.runFor(100);
  const extra = got.length - 5000;
  assert.equal(extra, sim.stats.duplicated);
  assert.ok(Math.abs(extra - 500) < 130, `duplicates ${extra}`); // sd ~21
});

Deno.test("link cut drops traffic (also in flight); restore brings it back", () => {
  const sim = new Sim(6);
  const ha = sim.host("198.18.0.1", { link: { latencyMs: 10 } });
  const a = ha.bind(1);
  const b = sim.host("198.18.0.2", { link: { latencyMs: 10 } }).bind(2);
  const got = collect(sim, b);
  a.send(b.local, new Uint8Array([1])); // will be in flight on a's link when it is cut
  sim.clock.runFor(5);
  ha.link.cut();
  a.send(b.local, new Uint8Array([2]));
  sim.clock.runFor(2);
  ha.link.restore(); // restoring does not resurrect datagram 1
  sim.clock.runFor(50);
  assert.equal(got.length, 0);
  assert.equal(sim.stats.dropped["link-down"], 2);
  a.send(b.local, new Uint8Array([3]));
  sim.clock.runFor(50);
  assert.deepEqual(got.map((g) => g.data[0]), [3]);
  // Cutting the receiver's link also stops inbound traffic.
  b.host.link.configure({ up: false });
  a.send(b.local, new Uint8Array([4]));
  sim.clock.runFor(50);
  assert.equal(got.length, 1);
});

Deno.test("a host that moves keeps its sockets; traffic to the old IP is lost", () => {
  const sim = new Sim(7);
  const peerH = sim.host("198.18.0.1");
  const peer = peerH.bind(9993);
  const mh = sim.host("198.18.5.5");
  const m = mh.bind(9993);
  const gotM = collect(sim, m), gotP = collect(sim, peer);
  peer.send({ ip: "198.18.5.5", port: 9993 }, new Uint8Array([1]));
  sim.clock.runFor(3); // in flight
  mh.move("198.18.6.6");
  sim.clock.runFor(50);
  assert.equal(gotM.length, 0);
  peer.send({ ip: "198.18.5.5", port: 9993 }, new Uint8Array([2]));
  peer.send({ ip: "198.18.6.6", port: 9993 }, new Uint8Array([3]));
  m.send(peer.local, new Uint8Array([4]));
  sim.clock.runFor(50);
  assert.deepEqual(gotM.map((g) => g.data[0]), [3]);
  assert.deepEqual(gotP[0].src, { ip: "198.18.6.6", port: 9993 });
  assert.equal(sim.stats.dropped["no-route"], 2);
  // Move behind a NAT: now it appears from the NAT's public IP.
  const nat = sim.nat("198.18.7.1", "full-cone");
  mh.move("10.0.0.5", nat.inside);
  m.send(peer.local, new Uint8Array([5]));
  sim.clock.runFor(50);
  assert.equal(gotP.at(-1)!.src.ip, "198.18.7.1");
});

Deno.test("trace reports send, NAT translation and delivery", () => {
  const sim = new Sim(8);
  const events: TraceEvent[] = [];
  sim.trace = (e) => events.push(e);
  const nat = sim.nat("198.18.1.1", "full-cone");
  const a = nat.host("10.0.0.2").bind(9993);
  const root = sim.host("198.18.0.1", { name: "root" }).bind(9993);
  root.onReceive(() => {});
  a.send(root.local, new Uint8Array(4), 2);
  sim.clock.runFor(100);
  assert.deepEqual(events.map((e) => `${e.kind}@${e.at} ttl${e.ttl}`), [
    "send@10.0.0.2 ttl2",
    "nat-out@nat 198.18.1.1 ttl1",
    "deliver@root ttl1",
  ]);
});

Deno.test("same seed and actions give an identical event trace", () => {
  const run = (seed: number) => {
    const sim = new Sim(seed);
    const log: string[] = [];
    sim.trace = (e) => log.push(`${e.t} ${e.kind} ${e.at} ${e.reason ?? ""}`);
    const nat = sim.nat("198.18.1.1", "symmetric", { link: { jitterMs: 20, loss: 0.1 } });
    const a = nat.host("10.0.0.2", { link: { jitterMs: 3, duplicate: 0.05 } }).bind(9993);
    const b = sim.host("198.18.0.1", { link: { jitterMs: 10, loss: 0.05 } }).bind(9993);
    b.onReceive((src, data) => b.send(src, data));
    a.onReceive(() => {});
    for (let i = 0; i < 200; i++) sim.clock.after(i * 3, () => a.send(b.local, new Uint8Array(i)));
    sim.clock.runFor(5000);
    return log.join("\n");
  };
  const r1 = run(99);
  assert.equal(run(99), r1);
  assert.notEqual(run(100), r1);
});
