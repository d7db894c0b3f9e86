// Simulated topologies: a root and leaves come online, exchange ECHO and find direct paths.
import assert from "node:assert/strict";
import { Sim } from "../../src/sim/sim.ts";
import { makeIdentities, makePlanet, SimNode } from "./node_harness.ts";

const IDS = makeIdentities("node-topology", 3);
const ROOT_IP = "80.0.0.1";
const PLANET = makePlanet([{ identity: IDS[0], endpoint: `${ROOT_IP}/9993` }]);

Deno.test("root + two public leaves: online, ECHO, direct path", () => {
  const sim = new Sim(1);
  const root = new SimNode(sim, sim.host(ROOT_IP), IDS[0], PLANET);
  const a = new SimNode(sim, sim.host("81.0.0.1"), IDS[1], PLANET);
  const b = new SimNode(sim, sim.host("82.0.0.1"), IDS[2], PLANET);
  assert.ok(root.node.isRoot());
  assert.ok(!a.node.isRoot());
  assert.ok(sim.clock.runUntilTrue(() => a.node.online() && b.node.online(), 20_000));
  const rootInfo = a.node.peer(root.node.address)!;
  assert.equal(rootInfo.role, "PLANET");
  assert.ok(rootInfo.latency >= 0, "root latency known");
  assert.deepEqual(a.events.map((e) => e.type), ["online"]);
  const r = a.ping(b);
  assert.ok(sim.clock.runUntilTrue(() => r.rtt !== undefined, 10_000), "OK(ECHO) arrives");
  assert.ok(
    sim.clock.runUntilTrue(() => a.hasDirectPath(b) && b.hasDirectPath(a), 30_000),
    "direct path both ways",
  );
  const pa = a.node.peer(b.node.address)!;
  assert.equal(pa.paths[0].address.toString(), "82.0.0.1/9993");
  const r2 = a.ping(b);
  sim.clock.runFor(1000);
  assert.equal(r2.rtt, 20, "direct RTT = 2 × (5 + 5) ms");
});
