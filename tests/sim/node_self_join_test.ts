// A controller's node joins its own network: answered in process, authorized by push, then pings a member.
import assert from "node:assert/strict";
import { Sim } from "../../src/sim/sim.ts";
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ethSrc, ethType } from "../../src/vl2/ethernet.ts";
import { arpRequest, echo, Member } from "./frame_member.ts";
import {
  attachController,
  makeIdentities,
  makePlanet,
  managedNetworkBody,
  SimNode,
} from "./node_harness.ts";

const IDS = makeIdentities("node-self-join", 3);
const ROOT_IP = "80.0.0.1";
const PLANET = makePlanet([{ identity: IDS[0], endpoint: `${ROOT_IP}/9993` }]);

Deno.test("sim: the controller's node joins its own network, gets OK and an IP, pings a member", () => {
  const sim = new Sim(47);
  const root = new SimNode(sim, sim.host(ROOT_IP), IDS[0], PLANET);
  const ctlNode = new SimNode(sim, sim.host("81.0.0.1"), IDS[1], PLANET);
  const bNode = new SimNode(sim, sim.host("82.0.0.1"), IDS[2], PLANET);
  assert.ok(sim.clock.runUntilTrue(() => ctlNode.node.online() && bNode.node.online(), 20_000));

  // the root keeps the multicast directory (its core's Networks + Frames); the controller's
  // core answers requests from others and, in process, its own member side
  assert.ok(root.core.frames);
  const { ctl, resp } = attachController(ctlNode, IDS[1]);
  const self = new Member(sim, ctlNode);
  const b = new Member(sim, bNode);

  const created = ctl.postNetwork(`${ctlNode.addr}______`, managedNetworkBody("self-net"));
  assert.ok(created.ok);
  const nwidHex = String(created.value.id);
  const nwid = BigInt("0x" + nwidHex);
  self.nwid = nwid;
  b.nwid = nwid;

  // private network: the controller's own node is refused like anyone else, at once
  const sent = resp.stats;
  self.networks.join(sim.now, nwid);
  assert.equal(self.networks.get(nwid)!.status, "ACCESS_DENIED");
  assert.equal(ctl.getMember(nwidHex, ctlNode.addr)?.authorized, false, "recorded as a member");
  // authorizing it pushes the config to itself (no packet on the wire)
  assert.ok(ctl.postMember(nwidHex, ctlNode.addr, { authorized: true }).ok);
  assert.equal(self.networks.get(nwid)!.status, "OK");
  assert.notEqual(self.ip, 0, "an address from the pool");
  assert.deepEqual(
    [resp.stats.configsSent, resp.stats.errorsSent],
    [sent.configsSent, sent.errorsSent],
    "nothing sent to ourselves",
  );

  // a member joins; the controller's node and the member ping each other
  assert.ok(ctl.postMember(nwidHex, bNode.addr, { authorized: true }).ok);
  b.networks.join(sim.now, nwid);
  assert.ok(sim.clock.runUntilTrue(() => b.ip !== 0, 15_000), "member configured");
  assert.notEqual(b.ip, self.ip);
  sim.clock.runFor(1000); // LIKEs reach the root
  assert.ok(self.send(arpRequest(self, b.ip)));
  const isArpReply = (f: Uint8Array) => ethType(f, 0) === ETHERTYPE_ARP && f[21] === 2;
  assert.ok(sim.clock.runUntilTrue(() => self.received(isArpReply).length > 0, 5_000), "ARP");
  const req = echo(self, b.mac, b.ip, 7);
  assert.ok(self.send(req));
  const isReply = (f: Uint8Array) =>
    ethType(f, 0) === ETHERTYPE_IPV4 && f.length === req.length && f[14 + 20] === 0;
  assert.ok(sim.clock.runUntilTrue(() => self.received(isReply).length > 0, 5_000), "echo reply");
  assert.equal(ethSrc(self.received(isReply)[0], 0), b.mac);
  // and the other way round
  const back = echo(b, self.mac, self.ip, 9);
  assert.ok(b.send(back));
  assert.ok(
    sim.clock.runUntilTrue(
      () => b.received((f) => f.length === back.length && f[14 + 20] === 0).length > 0,
      5_000,
    ),
    "echo reply from the controller's node",
  );

  // the periodic re-request after 60 s is answered locally too; deauthorizing revokes locally
  sim.clock.runFor(65_000);
  assert.equal(self.networks.get(nwid)!.status, "OK");
  assert.ok(ctl.postMember(nwidHex, ctlNode.addr, { authorized: false }).ok);
  assert.equal(self.networks.get(nwid)!.status, "ACCESS_DENIED");
  ctlNode.core.detachController();
});
