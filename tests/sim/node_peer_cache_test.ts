// Peer cache upkeep: every 30 s housekeeping writes the records of peers whose versions or paths changed, and only those.
import assert from "node:assert/strict";
import { Sim } from "../../src/sim/sim.ts";
import { decodePeerCache } from "../../src/vl1/peer_cache.ts";
import { makeIdentities, makePlanet, SimNode } from "./node_harness.ts";

const IDS = makeIdentities("node-peer-cache", 4);
const ROOT_IP = "80.0.0.1";
const PLANET = makePlanet([{ identity: IDS[0], endpoint: `${ROOT_IP}/9993` }]);

/** Counts writes per store key. */
function countWrites(n: SimNode): Map<string, number> {
  const writes = new Map<string, number>();
  const set = n.store.set.bind(n.store);
  n.store.set = (k: string, v: Uint8Array) => {
    writes.set(k, (writes.get(k) ?? 0) + 1);
    return set(k, v);
  };
  return writes;
}

Deno.test("peer cache: changed peers are written at the 30 s housekeeping, unchanged ones not again", () => {
  const sim = new Sim("peer-cache");
  new SimNode(sim, sim.host(ROOT_IP), IDS[0], PLANET);
  const a = new SimNode(sim, sim.host("81.0.0.1"), IDS[1], PLANET);
  const b = new SimNode(sim, sim.host("82.0.0.1"), IDS[2], PLANET);
  const c = new SimNode(sim, sim.host("83.0.0.1"), IDS[3], PLANET);
  const writes = countWrites(a);
  assert.ok(sim.clock.runUntilTrue(() => a.node.online() && b.node.online(), 20_000));
  const r = a.ping(b);
  assert.ok(sim.clock.runUntilTrue(() => r.rtt !== undefined && a.hasDirectPath(b), 10_000));
  assert.equal(writes.get(`peer/${b.addr}`), undefined, "not before housekeeping");
  sim.clock.runFor(31_000);
  assert.equal(writes.get(`peer/${b.addr}`), 1, "written at housekeeping");
  const rec = decodePeerCache(a.store.get(`peer/${b.addr}`)!)!;
  assert.ok(rec.identity.equals(b.node.identity));
  assert.deepEqual(rec.paths.map(String), ["82.0.0.1/9993"]);
  assert.equal(rec.vMajor, 1);
  assert.equal(
    [...writes.keys()].filter((k) => k.startsWith("peer/")).length,
    1,
    "root not cached",
  );
  // nothing changed: not written again over the next passes
  a.ping(b);
  sim.clock.runFor(61_000);
  assert.equal(writes.get(`peer/${b.addr}`), 1);
  // a new peer is written at the next pass
  const r2 = a.ping(c);
  assert.ok(sim.clock.runUntilTrue(() => r2.rtt !== undefined, 10_000));
  sim.clock.runFor(31_000);
  assert.equal(writes.get(`peer/${c.addr}`), 1);
  assert.equal(writes.get(`peer/${b.addr}`), 1);
});
