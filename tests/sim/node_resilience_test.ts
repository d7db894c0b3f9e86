// Simulated loss, NAT rebinding and a vanished peer: convergence, recovery and path expiry/eviction.
import assert from "node:assert/strict";
import { Sim } from "../../src/sim/sim.ts";
import { makeIdentities, makePlanet, SimNode } from "./node_harness.ts";

const IDS = makeIdentities("node-resilience", 3);
const ROOT_IP = "80.0.0.1";
const PLANET = makePlanet([{ identity: IDS[0], endpoint: `${ROOT_IP}/9993` }]);

function pingOk(sim: Sim, a: SimNode, b: SimNode, maxMs = 10_000): boolean {
  sim.clock.runFor(200);
  const r = a.ping(b);
  return sim.clock.runUntilTrue(() => r.rtt !== undefined, maxMs);
}

Deno.test("10% loss on every link still converges to a direct path", () => {
  const sim = new Sim("loss", { internetLink: { latencyMs: 5, loss: 0.1 } });
  new SimNode(sim, sim.host(ROOT_IP), IDS[0], PLANET);
  const a = new SimNode(
    sim,
    sim.nat("90.0.1.1", "port-restricted-cone").host("10.0.0.2"),
    IDS[1],
    PLANET,
  );
  const b = new SimNode(
    sim,
    sim.nat("90.0.2.1", "address-restricted-cone").host("10.0.0.2"),
    IDS[2],
    PLANET,
  );
  assert.ok(sim.clock.runUntilTrue(() => a.node.online() && b.node.online(), 60_000));
  let answered = 0;
  for (let i = 0; i < 40; i++) {
    if (pingOk(sim, a, b, 3000)) answered++;
    sim.clock.runFor(2000);
  }
  assert.ok(answered >= 20, `answered ${answered}/40`);
  assert.ok(
    sim.clock.runUntilTrue(() => a.hasDirectPath(b) && b.hasDirectPath(a), 120_000),
    "direct path despite loss",
  );
});

Deno.test("NAT rebinding to a new public IP recovers within the reference timers", () => {
  const sim = new Sim("rebind");
  const root = new SimNode(sim, sim.host(ROOT_IP), IDS[0], PLANET);
  const nat = sim.nat("90.0.1.1", "port-restricted-cone", { mappingTimeoutMs: 300_000 });
  const a = new SimNode(sim, nat.host("10.0.0.2"), IDS[1], PLANET);
  const b = new SimNode(sim, sim.host("90.0.2.1"), IDS[2], PLANET);
  assert.ok(sim.clock.runUntilTrue(() => a.node.online() && b.node.online(), 20_000));
  assert.ok(pingOk(sim, a, b));
  assert.ok(sim.clock.runUntilTrue(() => a.hasDirectPath(b) && b.hasDirectPath(a), 60_000));
  assert.equal(a.node.surfaceAddresses()[0].toIpString(), "90.0.1.1");
  nat.rebind({ ip: "90.0.9.1" });
  // Keep traffic flowing a -> b; b must learn a's new address and answer there.
  const t0 = sim.now;
  let ok = false;
  while (sim.now - t0 < 300_000 && !ok) {
    sim.clock.runFor(5000);
    ok = pingOk(sim, a, b, 3000) &&
      b.node.peer(a.node.address)!.paths.some((p) =>
        !p.expired && p.address.toIpString() === "90.0.9.1" && sim.now - p.lastReceive < 20_000
      );
  }
  assert.ok(ok, "b reaches a at its new address");
  const took = sim.now - t0;
  assert.ok(took <= 240_000, `recovered after ${took} ms`);
  // The root learns the new address at a's next root contact (every ~225 s when a has a path).
  sim.clock.runFor(240_000);
  const rp = root.node.peer(a.node.address)!;
  assert.ok(rp.paths.some((p) => !p.expired && p.address.toIpString() === "90.0.9.1"));
  assert.ok(a.node.surfaceAddresses().some((x) => x.toIpString() === "90.0.9.1"));
});

Deno.test("a vanished peer: no sends after path expiry (243 s), evicted after 500 s", () => {
  const sim = new Sim("vanish");
  new SimNode(sim, sim.host(ROOT_IP), IDS[0], PLANET);
  const a = new SimNode(sim, sim.host("90.0.1.1"), IDS[1], PLANET);
  const bHost = sim.host("90.0.2.1");
  const b = new SimNode(sim, bHost, IDS[2], PLANET);
  assert.ok(sim.clock.runUntilTrue(() => a.node.online() && b.node.online(), 20_000));
  // Frames make b an "active" peer of a (kept alive by keepalives); ECHO stands in here.
  assert.ok(pingOk(sim, a, b));
  assert.ok(sim.clock.runUntilTrue(() => a.hasDirectPath(b), 30_000));
  a.node.peers(); // smoke
  const peerB = a.node.peer(b.node.address)!;
  assert.equal(peerB.paths.length, 1);
  b.stop();
  const tGone = sim.now;
  let lastSendToB = 0;
  sim.trace = (e) => {
    if (e.kind === "send" && e.dst.ip === "90.0.2.1") lastSendToB = e.t;
  };
  sim.clock.runFor(300_000);
  const p = a.node.peer(b.node.address);
  assert.ok(p === undefined || p.paths.every((x) => x.expired) || p.paths.length === 0);
  assert.ok(lastSendToB - tGone <= 243_000 + 5_000, `last send to b at +${lastSendToB - tGone}`);
  sim.clock.runFor(240_000);
  assert.equal(a.node.peer(b.node.address), undefined, "evicted after 500 s of silence");
  assert.ok(a.store.has(`peer/${b.addr}`), "saved to the peer cache on eviction");
});
