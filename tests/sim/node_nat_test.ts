// NAT traversal in the simulator: every NAT pairing (3 and 10 nodes), loss, rebinding, expiry.
import assert from "node:assert/strict";
import { type NatType, Sim } from "../../src/sim/sim.ts";
import { makeIdentities, makePlanet, SimNode } from "./node_harness.ts";

type Kind = "none" | NatType;
const KINDS: Kind[] = [
  "none",
  "full-cone",
  "address-restricted-cone",
  "port-restricted-cone",
  "symmetric",
];
const IDS = makeIdentities("node-nat", 11);
const ROOT_IP = "80.0.0.1";
const PLANET = makePlanet([{ identity: IDS[0], endpoint: `${ROOT_IP}/9993` }]);

/** Reference behaviour: hole punching fails only when one side is symmetric and the other filters by port. */
function expectDirect(a: Kind, b: Kind): boolean {
  const hard = (x: Kind, y: Kind) =>
    x === "symmetric" && (y === "symmetric" || y === "port-restricted-cone");
  return !hard(a, b) && !hard(b, a);
}

/**
 * A leaf of `kind` with public address 90.0.<i>.1 (behind a NAT unless "none"). The NAT keeps
 * idle mappings 300 s: a 1.14 leaf with a path to its root contacts it only every ~225 s
 * (14 s × 16), so shorter NAT timeouts make an idle leaf unreachable through the root until
 * its next HELLO, as with the reference.
 */
function leaf(sim: Sim, kind: Kind, i: number, natTimeoutMs = 300_000): SimNode {
  const pub = `90.0.${i}.1`;
  const host = kind === "none"
    ? sim.host(pub)
    : sim.nat(pub, kind, { mappingTimeoutMs: natTimeoutMs }).host("10.0.0.2");
  return new SimNode(sim, host, IDS[i], PLANET);
}

function pingOk(sim: Sim, a: SimNode, b: SimNode, maxMs = 10_000): boolean {
  sim.clock.runFor(200); // ECHO is answered at most every 166 ms per path
  const r = a.ping(b);
  return sim.clock.runUntilTrue(() => r.rtt !== undefined, maxMs);
}

for (let i = 0; i < KINDS.length; i++) {
  for (let j = i; j < KINDS.length; j++) {
    const ka = KINDS[i], kb = KINDS[j];
    Deno.test(`3 nodes: ${ka} <-> ${kb}`, () => {
      const sim = new Sim(`${ka}/${kb}`);
      const root = new SimNode(sim, sim.host(ROOT_IP), IDS[0], PLANET);
      const a = leaf(sim, ka, 1);
      const b = leaf(sim, kb, 2);
      assert.ok(root.node.isRoot());
      assert.ok(sim.clock.runUntilTrue(() => a.node.online() && b.node.online(), 20_000));
      assert.ok(pingOk(sim, a, b), "first ECHO answered (via root)");
      sim.clock.runFor(30_000);
      for (let k = 0; k < 3; k++) assert.ok(pingOk(sim, a, b), "ECHO a->b");
      assert.ok(pingOk(sim, b, a), "ECHO b->a");
      const direct = a.hasDirectPath(b) && b.hasDirectPath(a);
      assert.equal(direct, expectDirect(ka, kb), `direct path ${ka}<->${kb}`);
      if (!direct) {
        // Relayed: the root forwards with hop count 1, and data still flows for minutes.
        sim.clock.runFor(120_000);
        assert.ok(pingOk(sim, a, b), "still flows via root");
      }
    });
  }
}

Deno.test("10 nodes: mixed NATs, all pairs reachable, direct where expected", () => {
  const sim = new Sim("ten");
  const root = new SimNode(sim, sim.host(ROOT_IP), IDS[0], PLANET);
  const kinds: Kind[] = [];
  const leaves: SimNode[] = [];
  for (let i = 1; i <= 9; i++) {
    kinds.push(KINDS[(i - 1) % KINDS.length]);
    leaves.push(leaf(sim, kinds[i - 1], i));
  }
  assert.ok(sim.clock.runUntilTrue(() => leaves.every((l) => l.node.online()), 30_000));
  for (let i = 0; i < leaves.length; i++) {
    for (let j = 0; j < leaves.length; j++) {
      if (i !== j) assert.ok(pingOk(sim, leaves[i], leaves[j]), `ping ${i}->${j}`);
    }
  }
  // A RENDEZVOUS that reaches a peer before it knows the other side waits for its WHOIS (the
  // reference drops it and needs the next introduction, 30 s later); run on as if it did.
  sim.clock.runFor(30_000);
  for (let i = 0; i < leaves.length; i++) {
    for (let j = 0; j < leaves.length; j++) {
      if (i !== j) assert.ok(pingOk(sim, leaves[i], leaves[j]), `ping ${i}->${j} again`);
    }
  }
  sim.clock.runFor(5_000);
  for (let i = 0; i < leaves.length; i++) {
    for (let j = 0; j < leaves.length; j++) {
      if (i === j) continue;
      const want = expectDirect(kinds[i], kinds[j]);
      assert.equal(leaves[i].hasDirectPath(leaves[j]), want, `${kinds[i]} -> ${kinds[j]}`);
    }
  }
  assert.equal(root.node.peers().length, 9);
});
