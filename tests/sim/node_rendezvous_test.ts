// RENDEZVOUS naming a peer not yet known: the leaf WHOISes it and punches once the identity arrives (one-way traffic finds a direct path in seconds).
import assert from "node:assert/strict";
import { type NatType, Sim } from "../../src/sim/sim.ts";
import { makeIdentities, makePlanet, SimNode } from "./node_harness.ts";

const IDS = makeIdentities("node-rendezvous", 3);
const ROOT_IP = "80.0.0.1";
const PLANET = makePlanet([{ identity: IDS[0], endpoint: `${ROOT_IP}/9993` }]);

function leaf(sim: Sim, kind: NatType, i: number): SimNode {
  const host = sim.nat(`90.0.${i}.1`, kind, { mappingTimeoutMs: 300_000 }).host("10.0.0.2");
  return new SimNode(sim, host, IDS[i], PLANET);
}

for (const kind of ["port-restricted-cone", "address-restricted-cone"] as const) {
  Deno.test(`one-way ECHO between two ${kind} NATs gets a direct path within seconds`, () => {
    const sim = new Sim(`rendezvous-${kind}`);
    new SimNode(sim, sim.host(ROOT_IP), IDS[0], PLANET);
    const a = leaf(sim, kind, 1);
    const b = leaf(sim, kind, 2);
    assert.ok(sim.clock.runUntilTrue(() => a.node.online() && b.node.online(), 20_000));
    sim.clock.runFor(1000);
    const start = sim.now;
    // Only a sends: b learns of a from the relayed ECHO and the root's RENDEZVOUS at once, so
    // the RENDEZVOUS names a peer b does not know yet.
    const r = a.ping(b);
    assert.ok(sim.clock.runUntilTrue(() => r.rtt !== undefined, 5_000), "first ECHO answered");
    const direct = () => a.hasDirectPath(b) && b.hasDirectPath(a);
    assert.ok(sim.clock.runUntilTrue(direct, 5_000), "direct path both ways within 5 s");
    const took = sim.now - start;
    assert.ok(took < 5_000, `direct after ${took} ms`);
    // and it carries traffic: an ECHO now answers at the direct RTT, well under the relayed one
    const r2 = a.ping(b);
    sim.clock.runFor(1000);
    assert.ok(r2.rtt !== undefined && r2.rtt < r.rtt!, `direct RTT ${r2.rtt} < relayed ${r.rtt}`);
  });
}
