// Members joining a network of a real simulated controller: statuses, addresses, pushes, credentials, revocation, restart from networks.d.
import assert from "node:assert/strict";
import { NodeStateStore } from "../../src/service/node_state_store.ts";
import { Logger } from "../../src/service/logger.ts";
import { NetworkFiles } from "../../src/service/network_store.ts";
import { Sim } from "../../src/sim/sim.ts";
import type { NetworkInfo } from "../../src/vl2/network.ts";
import type { Networks } from "../../src/vl2/networks.ts";
import {
  attachController,
  makeIdentities,
  makePlanet,
  managedNetworkBody,
  SimNode,
} from "./node_harness.ts";

const IDS = makeIdentities("node-join", 4);
const ROOT_IP = "80.0.0.1";
const PLANET = makePlanet([{ identity: IDS[0], endpoint: `${ROOT_IP}/9993` }]);

/** A member: a sim node with Networks persisted under a temp home (as the service does). */
class Member {
  readonly networks: Networks;
  readonly files: NetworkFiles;
  readonly changes: [bigint, NetworkInfo | undefined][] = [];
  constructor(readonly sim: SimNode, readonly home: string) {
    const store = new NodeStateStore(home);
    this.files = new NetworkFiles(home, store, new Logger("error"));
    this.files.listeners.push((n, i) => this.changes.push([n, i]));
    // the core's state in the home (networks.d, as the service keeps it)
    sim.state = store;
    sim.onNetworkChanged = (n, i) => this.files.onNetworkChanged(n, i);
    this.networks = sim.core.networks;
  }
  status(nwid: bigint): string | undefined {
    return this.networks.get(nwid)?.status;
  }
  statuses(nwid: bigint): string[] {
    const out: string[] = [];
    for (const [n, i] of this.changes) {
      if (n === nwid && i && out.at(-1) !== i.status) out.push(i.status);
    }
    return out;
  }
}

Deno.test("sim: join → OK with the pool address; ACCESS_DENIED then authorized; NOT_FOUND; pushes; credentials and revocation; restart rejoins", () => {
  const homes = [0, 1, 2].map(() => Deno.makeTempDirSync({ prefix: "zt-join-" }));
  try {
    const sim = new Sim(21);
    const root = new SimNode(sim, sim.host(ROOT_IP), IDS[0], PLANET);
    const ctlNode = new SimNode(sim, sim.host("81.0.0.1"), IDS[1], PLANET);
    const aNode = new SimNode(sim, sim.host("82.0.0.1"), IDS[2], PLANET);
    const bNode = new SimNode(sim, sim.host("83.0.0.1"), IDS[3], PLANET);
    assert.ok(
      sim.clock.runUntilTrue(
        () => ctlNode.node.online() && aNode.node.online() && bNode.node.online(),
        20_000,
      ),
    );
    const { ctl, resp } = attachController(ctlNode, IDS[1]);
    const created = ctl.postNetwork(`${ctlNode.addr}______`, managedNetworkBody("join-net"));
    assert.ok(created.ok);
    const nwidHex = String(created.value.id);
    const nwid = BigInt("0x" + nwidHex);

    const a = new Member(aNode, homes[0]);
    const b = new Member(bNode, homes[1]);

    // 1. a is pre-authorized: REQUESTING_CONFIGURATION → OK with its pool address
    assert.ok(ctl.postMember(nwidHex, aNode.addr, { authorized: true }).ok);
    a.networks.join(sim.now, nwid);
    assert.equal(a.status(nwid), "REQUESTING_CONFIGURATION");
    assert.ok(sim.clock.runUntilTrue(() => a.status(nwid) === "OK", 10_000), "a configured");
    const ips = ctl.getMember(nwidHex, aNode.addr)!.ipAssignments as string[];
    assert.equal(ips.length, 1);
    const ia = a.networks.get(nwid)!.info();
    assert.deepEqual(ia.assignedAddresses.map(String), [`${ips[0]}/24`]);
    assert.deepEqual(ia.routes.map((r) => r.target.toString()), ["10.147.17.0/24"]);
    assert.equal(ia.name, "join-net");
    assert.deepEqual(a.statuses(nwid), ["REQUESTING_CONFIGURATION", "OK"]);
    const confFile = `${homes[0]}/networks.d/${nwidHex}.conf`;
    assert.equal(
      new TextDecoder().decode(Deno.readFileSync(confFile)).split("\n")[0].slice(0, 2),
      "v=",
    );

    // 2. b is not authorized: ACCESS_DENIED; after authorization the pushed config makes it OK
    b.networks.join(sim.now, nwid);
    assert.ok(sim.clock.runUntilTrue(() => b.status(nwid) === "ACCESS_DENIED", 10_000));
    assert.equal(
      new TextDecoder().decode(Deno.readFileSync(`${homes[1]}/networks.d/${nwidHex}.conf`)),
      "\n",
    );
    assert.ok(ctl.postMember(nwidHex, bNode.addr, { authorized: true }).ok);
    assert.ok(sim.clock.runUntilTrue(() => b.status(nwid) === "OK", 10_000), "b configured");
    assert.deepEqual(b.statuses(nwid), ["REQUESTING_CONFIGURATION", "ACCESS_DENIED", "OK"]);

    // 3. a network the controller does not have: NOT_FOUND
    const missing = nwid ^ 0x1n;
    a.networks.join(sim.now, missing);
    assert.ok(sim.clock.runUntilTrue(() => a.status(missing) === "NOT_FOUND", 10_000));
    assert.equal(a.networks.leave(sim.now, missing), true);

    // 4. a config change on the controller is pushed to the members
    const rev0 = a.networks.get(nwid)!.info().netconfRevision;
    assert.ok(ctl.postNetwork(nwidHex, { name: "join-net-2", mtu: 1500 }).ok);
    assert.ok(
      sim.clock.runUntilTrue(() => a.networks.get(nwid)!.info().name === "join-net-2", 5_000),
    );
    const ia2 = a.networks.get(nwid)!.info();
    assert.equal(ia2.mtu, 1500);
    assert.ok(ia2.netconfRevision > rev0);

    // 5. credentials: each pushes its COM to the other, the gates open both ways
    const na = a.networks.get(nwid)!;
    const nb = b.networks.get(nwid)!;
    assert.equal(na.gate(sim.now, bNode.node.address.value), false);
    assert.ok(na.pushCredentials(sim.now, bNode.node.address.value));
    assert.ok(nb.pushCredentials(sim.now, aNode.node.address.value));
    assert.ok(
      sim.clock.runUntilTrue(
        () =>
          na.gate(sim.now, bNode.node.address.value) && nb.gate(sim.now, aNode.node.address.value),
        5_000,
      ),
      "gates open",
    );

    // 6. b is deauthorized: the controller's revocation reaches a, whose gate shuts for b
    assert.ok(ctl.postMember(nwidHex, bNode.addr, { authorized: false }).ok);
    assert.ok(
      sim.clock.runUntilTrue(() => !na.gate(sim.now, bNode.node.address.value), 5_000),
      "revocation cut b off",
    );
    assert.ok(nb.gate(sim.now, aNode.node.address.value), "a itself is still fine for b");
    // b's own config refresh (60 s) is now refused
    assert.ok(sim.clock.runUntilTrue(() => b.status(nwid) === "ACCESS_DENIED", 70_000));
    assert.equal(a.status(nwid), "OK");

    // 7. a restarts (same identity, same home): networks.d is re-joined and the config reloaded
    aNode.stop();
    const a2Node = new SimNode(sim, sim.host("84.0.0.1"), IDS[2], PLANET);
    const a2 = new Member(a2Node, homes[0]);
    assert.deepEqual(a2.files.rejoinAll(a2Node.core, sim.now), [nwid]);
    assert.equal(a2.status(nwid), "OK", "config loaded from networks.d");
    assert.equal(a2.networks.get(nwid)!.info().name, "join-net-2");
    assert.ok(sim.clock.runUntilTrue(() => a2Node.node.online(), 20_000));
    sim.clock.runFor(10_000);
    assert.equal(a2.status(nwid), "OK");
    const reqs = ctl.memberStatus(nwidHex, aNode.addr);
    assert.ok(reqs && reqs.lastSeen > sim.now - 11_000, "the restarted member asked again");
    assert.equal(a2.networks.get(nwid)!.configBytes!.length, Deno.readFileSync(confFile).length);
    for (const n of [root, ctlNode, bNode, a2Node]) n.stop();
    resp.dispose();
  } finally {
    for (const h of homes) Deno.removeSync(h, { recursive: true });
  }
});
