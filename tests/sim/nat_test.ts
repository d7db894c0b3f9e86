// NAT boxes: per-type filtering, simultaneous open, symmetric prediction, timeouts, rebind, TTL-2 probes.
import assert from "node:assert/strict";
import {
  addrKey,
  type Nat,
  type NatType,
  parseAddr,
  Sim,
  type SimAddr,
  type UdpSocket,
} from "../../src/sim/sim.ts";

const enc = new TextEncoder(), dec = new TextDecoder();
const TYPES: NatType[] = [
  "full-cone",
  "address-restricted-cone",
  "port-restricted-cone",
  "symmetric",
];

/** Records datagrams a socket receives as "src:payload" strings. */
function inbox(sock: UdpSocket): string[] {
  const got: string[] = [];
  sock.onReceive((src, b) => got.push(`${addrKey(src)}:${dec.decode(b)}`));
  return got;
}

/** A STUN-like reflector: answers every datagram with the sender's address as seen by it. */
function reflector(sim: Sim, ip: string): UdpSocket {
  const s = sim.host(ip, { name: `reflector ${ip}` }).bind(9993);
  s.onReceive((src, _b) => s.send(src, enc.encode(addrKey(src))));
  return s;
}

/** Asks the reflector for `sock`'s public address (runs the clock). */
function discover(sim: Sim, sock: UdpSocket, refl: UdpSocket): SimAddr {
  let seen: SimAddr | undefined;
  sock.onReceive((src, b) => {
    if (src.ip === refl.local.ip && src.port === refl.local.port) seen = parseAddr(dec.decode(b));
  });
  sock.send(refl.local, enc.encode("who am i"));
  sim.clock.runFor(200);
  sock.onReceive(undefined);
  assert.ok(seen, "reflector answered");
  return seen;
}

Deno.test("filtering: who can reach an inside host after it sent to X, per NAT type", () => {
  const expect: Record<NatType, { sameIpOtherPort: boolean; otherIp: boolean }> = {
    "full-cone": { sameIpOtherPort: true, otherIp: true },
    "address-restricted-cone": { sameIpOtherPort: true, otherIp: false },
    "port-restricted-cone": { sameIpOtherPort: false, otherIp: false },
    "symmetric": { sameIpOtherPort: false, otherIp: false },
  };
  for (const type of TYPES) {
    const sim = new Sim(10);
    const nat = sim.nat("198.18.1.1", type);
    const a = nat.host("10.0.0.2").bind(9993);
    const xHost = sim.host("198.18.0.10");
    const x = xHost.bind(9993), x2 = xHost.bind(9994);
    const y = sim.host("198.18.0.11").bind(9993);
    const got = inbox(a);
    const seenByX: SimAddr[] = [];
    x.onReceive((src) => seenByX.push(src));
    a.send(x.local, enc.encode("hi"));
    sim.clock.runFor(100);
    assert.equal(seenByX.length, 1);
    const mapped = seenByX[0];
    assert.equal(mapped.ip, "198.18.1.1");
    assert.deepEqual(nat.mappingFor(a.local, x.local), mapped);
    x.send(mapped, enc.encode("from x"));
    x2.send(mapped, enc.encode("from x2"));
    y.send(mapped, enc.encode("from y"));
    sim.clock.runFor(100);
    const want = ["from x"];
    if (expect[type].sameIpOtherPort) want.push("from x2");
    if (expect[type].otherIp) want.push("from y");
    assert.deepEqual(got.map((g) => g.split(":")[1]).sort(), want.sort(), type);
    assert.equal(nat.stats.refused, 3 - want.length, type);
    assert.equal(sim.stats.dropped["nat-filtered"], 3 - want.length, type);
  }
});

Deno.test("mapping: cone NATs reuse one external port for all destinations, symmetric does not", () => {
  for (const type of TYPES) {
    const sim = new Sim(11);
    const nat = sim.nat("198.18.1.1", type);
    const a = nat.host("10.0.0.2").bind(9993);
    const r1 = reflector(sim, "198.18.0.10"), r2 = reflector(sim, "198.18.0.11");
    const m1 = discover(sim, a, r1), m2 = discover(sim, a, r2);
    if (type === "symmetric") {
      assert.notEqual(m1.port, m2.port);
      assert.equal(nat.mappings().length, 2);
      // A third party that learned the mapping for r1 cannot use it, even knowing it exactly.
      const got = inbox(a);
      r2.send(m1, enc.encode("stolen mapping"));
      sim.clock.runFor(100);
      assert.deepEqual(got, []);
      assert.equal(sim.stats.dropped["nat-filtered"], 1);
      assert.equal(
        nat.mappings().find((m) => m.external.port === m1.port)?.remote?.ip,
        "198.18.0.10",
      );
    } else {
      assert.deepEqual(m1, m2, type);
      assert.equal(nat.mappings().length, 1);
    }
  }
});

/** Two hosts behind NATs of the given types, each knowing its public address from a reflector. */
function pair(seed: number, ta: NatType, tb: NatType, opts: { sequential?: boolean } = {}) {
  const sim = new Sim(seed);
  const portAllocation = opts.sequential ? "sequential" : "random";
  const natA = sim.nat("198.18.1.1", ta, { portAllocation, link: { latencyMs: 12 } });
  const natB = sim.nat("198.18.2.1", tb, { portAllocation, link: { latencyMs: 17 } });
  const a = natA.host("10.0.0.2").bind(9993);
  const b = natB.host("10.0.0.2").bind(9993);
  const root = reflector(sim, "198.18.0.1");
  const ma = discover(sim, a, root), mb = discover(sim, b, root);
  return { sim, natA, natB, a, b, ma, mb };
}

Deno.test("simultaneous open between two port-restricted cone NATs succeeds", () => {
  const { sim, a, b, ma, mb } = pair(20, "port-restricted-cone", "port-restricted-cone");
  const gotA = inbox(a), gotB = inbox(b);
  for (let i = 0; i < 3; i++) {
    sim.clock.after(i * 200, () => {
      a.send(mb, enc.encode(`a${i}`));
      b.send(ma, enc.encode(`b${i}`));
    });
  }
  sim.clock.runFor(1000);
  // The first datagram of one side meets a NAT that has not yet seen the other side's outbound
  // packet, so some early ones are filtered, but from then on both directions work.
  assert.ok(gotA.includes(`${addrKey(mb)}:b2`), JSON.stringify(gotA));
  assert.ok(gotB.includes(`${addrKey(ma)}:a2`), JSON.stringify(gotB));
});

Deno.test("simultaneous open: symmetric to symmetric with port prediction fails (random ports)", () => {
  const { sim, a, b, ma, mb, natA, natB } = pair(21, "symmetric", "symmetric");
  const gotA = inbox(a), gotB = inbox(b);
  for (let round = 0; round < 3; round++) {
    sim.clock.after(round * 200, () => {
      for (let d = -10; d <= 10; d++) {
        a.send({ ip: mb.ip, port: mb.port + d }, enc.encode("a"));
        b.send({ ip: ma.ip, port: ma.port + d }, enc.encode("b"));
      }
    });
  }
  sim.clock.runFor(2000);
  assert.deepEqual(gotA, []);
  assert.deepEqual(gotB, []);
  assert.ok(natA.stats.refused + natB.stats.refused > 0);
  assert.equal(natA.mappings().length, 1 + 21); // root + one per predicted destination
});

Deno.test("control: symmetric to symmetric with sequential ports can be predicted", () => {
  const { sim, a, b, ma, mb } = pair(22, "symmetric", "symmetric", { sequential: true });
  const gotA = inbox(a), gotB = inbox(b);
  const predA = { ip: ma.ip, port: ma.port + 1 }, predB = { ip: mb.ip, port: mb.port + 1 };
  for (let round = 0; round < 3; round++) {
    sim.clock.after(round * 200, () => {
      a.send(predB, enc.encode("a"));
      b.send(predA, enc.encode("b"));
    });
  }
  sim.clock.runFor(1000);
  assert.ok(gotA.includes(`${addrKey(predB)}:b`), JSON.stringify(gotA));
  assert.ok(gotB.includes(`${addrKey(predA)}:a`), JSON.stringify(gotB));
});

Deno.test("TTL-2 junk opens the sender's NAT but dies at the remote NAT", () => {
  const { sim, natA, natB, a, b, ma, mb } = pair(
    23,
    "port-restricted-cone",
    "port-restricted-cone",
  );
  const gotA = inbox(a), gotB = inbox(b);
  // Control: without a prior outbound from A toward B, B's packet is filtered at A's NAT.
  b.send(ma, enc.encode("too early"));
  sim.clock.runFor(200);
  assert.deepEqual(gotA, []);
  assert.equal(sim.stats.dropped["nat-filtered"], 1);
  const createdA = natA.stats.mappingsCreated;
  // TTL 1 dies at A's own NAT and creates nothing.
  a.send(mb, new Uint8Array(4), 1);
  sim.clock.runFor(200);
  assert.equal(sim.stats.dropped.ttl, 1);
  assert.equal(natA.stats.outbound, 1); // only the reflector query
  b.send(ma, enc.encode("still filtered"));
  sim.clock.runFor(200);
  assert.deepEqual(gotA, []);
  // TTL 2: passes A's NAT (adding B to the mapping's permits) and dies at B's NAT.
  const bRefusedBefore = natB.stats.refused;
  a.send(mb, new Uint8Array([1, 2, 3, 4]), 2);
  sim.clock.runFor(200);
  assert.equal(sim.stats.dropped.ttl, 2);
  assert.deepEqual(gotB, []);
  assert.equal(natB.stats.refused, bRefusedBefore, "junk never reached B's filter");
  assert.equal(natA.stats.mappingsCreated, createdA, "cone mapping reused");
  assert.ok(natA.mappings()[0].permits.includes(addrKey(mb)));
  // Now B's packet gets in, and the reply path is open both ways.
  b.send(ma, enc.encode("hello a"));
  sim.clock.runFor(200);
  assert.deepEqual(gotA, [`${addrKey(mb)}:hello a`]);
  a.send(mb, enc.encode("hello b"));
  sim.clock.runFor(200);
  assert.deepEqual(gotB, [`${addrKey(ma)}:hello b`]);
});

Deno.test("TTL-2 datagram to a public host arrives with TTL 1", () => {
  const sim = new Sim(24);
  const nat = sim.nat("198.18.1.1", "port-restricted-cone");
  const a = nat.host("10.0.0.2").bind(9993);
  const root = sim.host("198.18.0.1").bind(9993);
  const got = inbox(root);
  a.send(root.local, enc.encode("j"), 2);
  sim.clock.runFor(100);
  assert.equal(got.length, 1);
});

Deno.test("mapping timeout: idle mappings expire; keepalives or inbound refresh keep them", () => {
  const sim = new Sim(25);
  const nat = sim.nat("198.18.1.1", "port-restricted-cone", { mappingTimeoutMs: 60_000 });
  const a = nat.host("10.0.0.2").bind(9993);
  const root = reflector(sim, "198.18.0.1");
  const m1 = discover(sim, a, root);
  const got = inbox(a);
  sim.clock.runFor(59_000);
  root.send(m1, enc.encode("59s")); // within timeout: accepted, and refreshes
  sim.clock.runFor(59_000);
  root.send(m1, enc.encode("118s"));
  sim.clock.runFor(61_000);
  root.send(m1, enc.encode("late")); // idle > 60 s: mapping gone
  sim.clock.runFor(100);
  assert.deepEqual(got.map((g) => g.split(":")[1]), ["59s", "118s"]);
  assert.equal(sim.stats.dropped["nat-no-mapping"], 1);
  assert.equal(nat.mappings().length, 0);
  // A new outbound packet gets a fresh (here: different) mapping.
  const m2 = discover(sim, a, root);
  assert.notEqual(m2.port, m1.port);
  // Keepalives every 25 s hold one mapping for 10 minutes.
  const ka = sim.clock.every(25_000, () => a.send(root.local, enc.encode("ka")));
  sim.clock.runFor(600_000);
  ka.cancel();
  assert.deepEqual(discover(sim, a, root), m2);
  assert.equal(nat.stats.mappingsCreated, 2);
});

Deno.test("mapping timeout: with inboundRefresh off only outbound traffic keeps a mapping", () => {
  const sim = new Sim(26);
  const nat = sim.nat("198.18.1.1", "full-cone", {
    mappingTimeoutMs: 30_000,
    inboundRefresh: false,
  });
  const a = nat.host("10.0.0.2").bind(9993);
  const root = reflector(sim, "198.18.0.1");
  const m = discover(sim, a, root);
  const got = inbox(a);
  sim.clock.every(10_000, () => root.send(m, enc.encode("in")));
  sim.clock.runFor(45_000);
  assert.equal(got.length, 2); // at 10 s and 20 s; from 30 s on the mapping is gone
  assert.equal(sim.stats.dropped["nat-no-mapping"], 2);
});

Deno.test("restricted permits expire with the idle timeout too", () => {
  const sim = new Sim(27);
  const nat = sim.nat("198.18.1.1", "address-restricted-cone", { mappingTimeoutMs: 60_000 });
  const a = nat.host("10.0.0.2").bind(9993);
  const r1 = reflector(sim, "198.18.0.1"), r2 = reflector(sim, "198.18.0.2");
  const m = discover(sim, a, r1);
  sim.clock.runFor(40_000);
  discover(sim, a, r2); // keeps the mapping alive, but the permit for r1 ages
  sim.clock.runFor(40_000);
  const got = inbox(a);
  r1.send(m, enc.encode("r1"));
  r2.send(m, enc.encode("r2"));
  sim.clock.runFor(200);
  assert.deepEqual(got.map((g) => g.split(":")[1]), ["r2"]);
});

Deno.test("rebind drops mappings; rebind with a new IP moves the public address", () => {
  const sim = new Sim(28);
  const nat = sim.nat("198.18.1.1", "full-cone");
  const a = nat.host("10.0.0.2").bind(9993);
  const root = reflector(sim, "198.18.0.1");
  const m1 = discover(sim, a, root);
  const got = inbox(a);
  nat.rebind();
  root.send(m1, enc.encode("old mapping"));
  sim.clock.runFor(100);
  assert.deepEqual(got, []);
  assert.equal(sim.stats.dropped["nat-no-mapping"], 1);
  const m2 = discover(sim, a, root);
  assert.equal(m2.ip, "198.18.1.1");
  assert.notEqual(m2.port, m1.port);
  // New public IP, keeping mappings: same port, new IP; the old IP is gone from the internet.
  nat.rebind({ ip: "198.18.1.99", keepMappings: true });
  assert.equal(nat.ip, "198.18.1.99");
  const m3 = discover(sim, a, root);
  assert.deepEqual(m3, { ip: "198.18.1.99", port: m2.port });
  const got2 = inbox(a);
  root.send(m2, enc.encode("to old ip"));
  root.send(m3, enc.encode("to new ip"));
  sim.clock.runFor(100);
  assert.deepEqual(got2, [`198.18.0.1/9993:to new ip`]);
  assert.equal(sim.stats.dropped["no-route"], 1);
  assert.throws(() => sim.nat("198.18.1.99", "symmetric"), /already in use/);
  sim.nat("198.18.1.1", "symmetric"); // the old IP is free again
});

Deno.test("hosts behind one NAT talk directly on the LAN; hairpin only when enabled", () => {
  for (const hairpin of [false, true]) {
    const sim = new Sim(29);
    const nat = sim.nat("198.18.1.1", "port-restricted-cone", { hairpin });
    const a = nat.host("10.0.0.2").bind(9993), c = nat.host("10.0.0.3").bind(9993);
    const root = reflector(sim, "198.18.0.1");
    const ma = discover(sim, a, root), mc = discover(sim, c, root);
    const gotA = inbox(a), gotC = inbox(c);
    c.send(a.local, enc.encode("lan"));
    sim.clock.runFor(10);
    assert.deepEqual(gotA, ["10.0.0.3/9993:lan"]);
    a.send(mc, enc.encode("open")); // filtered at C's mapping, but opens A's permit for mc
    sim.clock.runFor(100);
    c.send(ma, enc.encode("hairpin"));
    sim.clock.runFor(100);
    a.send(mc, enc.encode("reply"));
    sim.clock.runFor(100);
    assert.deepEqual(gotA.slice(1), hairpin ? [`${addrKey(mc)}:hairpin`] : []);
    assert.deepEqual(gotC, hairpin ? [`${addrKey(ma)}:reply`] : []);
    assert.equal(sim.stats.dropped["nat-filtered"], hairpin ? 1 : 0);
  }
});

Deno.test("nested NATs: inner traffic appears from the outer IP; each NAT hop costs one TTL", () => {
  const sim = new Sim(30);
  const outer: Nat = sim.nat("198.18.1.1", "port-restricted-cone");
  const inner = outer.nat("100.64.0.5", "full-cone");
  const a = inner.host("192.168.1.2").bind(9993);
  const root = reflector(sim, "198.18.0.1");
  const m = discover(sim, a, root);
  assert.equal(m.ip, "198.18.1.1");
  assert.equal(inner.mappings().length, 1);
  const rootSeen = inbox(root);
  root.onReceive((src) => rootSeen.push(addrKey(src)));
  a.send(root.local, enc.encode("x"), 2); // inner -> 1, outer drops
  a.send(root.local, enc.encode("x"), 3);
  sim.clock.runFor(100);
  assert.deepEqual(rootSeen, [addrKey(m)]);
  assert.equal(sim.stats.dropped.ttl, 1);
});

Deno.test("port allocation: preserve keeps the inside port; tiny ranges run out", () => {
  const sim = new Sim(31);
  const nat = sim.nat("198.18.1.1", "port-restricted-cone", { portAllocation: "preserve" });
  const a = nat.host("10.0.0.2").bind(9993), b = nat.host("10.0.0.3").bind(9993);
  const root = reflector(sim, "198.18.0.1");
  assert.equal(discover(sim, a, root).port, 9993);
  assert.notEqual(discover(sim, b, root).port, 9993); // taken by a: falls back to another port
  const small = sim.nat("198.18.2.1", "symmetric", { portRange: [2000, 2001] });
  const c = small.host("10.0.0.2").bind(9993);
  for (const ip of ["198.18.0.1", "198.18.0.2", "198.18.0.3"]) {
    c.send({ ip, port: 1 }, new Uint8Array(1));
  }
  sim.clock.runFor(100);
  assert.equal(sim.stats.dropped["nat-ports-exhausted"], 1);
  assert.deepEqual(small.mappings().map((m) => m.external.port).sort(), [2000, 2001]);
});
