// Cores with the production wiring through the role doubles: SimTransport, MemFramePort and FakeNetConfig; a controller's network with rules; frames in at one port and out at another.
import assert from "node:assert/strict";
import { Sim } from "../../src/sim/sim.ts";
import { ETHERTYPE_IPV4 } from "../../src/vl2/ethernet.ts";
import { macFromAddress } from "../../src/vl2/mac.ts";
import { ruleCountersOf } from "../../src/vl2/rules_filter.ts";
import { ethFrame } from "../vl2/data_plane_helpers.ts";
import {
  attachController,
  makeIdentities,
  makePlanet,
  managedNetworkBody,
  SimNode,
} from "./node_harness.ts";

const IDS = makeIdentities("core-ports", 4);
const ROOT_IP = "80.0.0.1";
const PLANET = makePlanet([{ identity: IDS[0], endpoint: `${ROOT_IP}/9993` }]);

/** An IPv4 packet (protocol `proto`, destination port `dport`) whose payload byte 0 is `mark`. */
function ipv4(src: number[], dst: number[], proto: number, dport: number, mark: number) {
  const ip = new Uint8Array(20 + 8 + 16);
  ip[0] = 0x45;
  ip[2] = ip.length >> 8;
  ip[3] = ip.length & 255;
  ip[8] = 64;
  ip[9] = proto;
  ip.set(src, 12);
  ip.set(dst, 16);
  ip[20] = 0x30;
  ip[21] = 0x39;
  ip[22] = dport >> 8;
  ip[23] = dport & 255;
  ip[28] = mark;
  return ip;
}

Deno.test("sim core: join through the transport double, ports opened with MAC/MTU and managed addresses, frames cross between ports under the network's rules", () => {
  const sim = new Sim(91);
  const root = new SimNode(sim, sim.host(ROOT_IP), IDS[0], PLANET);
  const ctlNode = new SimNode(sim, sim.host("81.0.0.1"), IDS[1], PLANET);
  const a = new SimNode(sim, sim.host("82.0.0.1"), IDS[2], PLANET);
  const b = new SimNode(sim, sim.host("83.0.0.1"), IDS[3], PLANET);
  for (const n of [a, b]) n.usePorts();
  assert.ok(sim.clock.runUntilTrue(() => [ctlNode, a, b].every((n) => n.core.online()), 20_000));

  // the controller runs in its node's core, as the service attaches it
  const { ctl } = attachController(ctlNode, IDS[1]);
  const created = ctl.postNetwork(`${ctlNode.addr}______`, {
    ...managedNetworkBody("ports-net", 30),
    rulesSource: "drop not ethertype ipv4 and not ethertype arp;\n" +
      "drop ipprotocol 6 dport 23;\naccept;\n",
  });
  assert.ok(created.ok);
  const nwidHex = String(created.value.id);
  const nwid = BigInt("0x" + nwidHex);
  for (const n of [a, b]) assert.ok(ctl.postMember(nwidHex, n.addr, { authorized: true }).ok);
  for (const n of [a, b]) n.core.join(sim.now, nwid);
  assert.ok(
    sim.clock.runUntilTrue(
      () => [a, b].every((n) => n.core.network(nwid)?.status === "OK"),
      10_000,
    ),
    "both members configured",
  );

  // each member has a port opened as the data plane opens a TAP, and its managed address applied
  const macA = macFromAddress(a.node.address.value, nwid);
  const macB = macFromAddress(b.node.address.value, nwid);
  for (const [n, mac] of [[a, macA], [b, macB]] as const) {
    const port = n.ports.get(nwid)!;
    assert.ok(port, "port opened");
    assert.equal(port.mac, mac);
    assert.equal(port.mtu, n.core.network(nwid)!.info().mtu);
    const last = n.netConfigs.get(nwid)!.last!;
    assert.deepEqual(
      last.assigned.map(String),
      n.core.network(nwid)!.info().assignedAddresses.map(String),
    );
    assert.equal(last.assigned.length, 1, "one pool address");
    assert.ok(last.assigned[0].toString().startsWith("10.147.30."));
    assert.deepEqual(last.routes.map((r) => r.target.toString()), ["10.147.30.0/24"]);
  }
  assert.equal(ctlNode.ports.size, 0, "no ports without usePorts");

  const ipA = [...a.netConfigs.get(nwid)!.last!.assigned[0].ip];
  const ipB = [...b.netConfigs.get(nwid)!.last!.assigned[0].ip];
  const portA = a.ports.get(nwid)!, portB = b.ports.get(nwid)!;
  const got = (mark: number) =>
    portB.written.filter((f) => f.length >= 14 + 29 && f[14 + 28] === mark && f[12] === 0x08);

  // UDP to b: accepted at both ends, out of b's port byte for byte
  const udp = ethFrame(macB, macA, ETHERTYPE_IPV4, ipv4(ipA, ipB, 17, 5000, 1));
  assert.ok(portA.inject(udp));
  assert.ok(sim.clock.runUntilTrue(() => got(1).length === 1, 5_000), "UDP frame delivered");
  assert.deepEqual(got(1)[0], udp);

  // telnet: dropped by the rules at a (never sent)
  const rcA = ruleCountersOf(a.core.frames!.filter)!;
  const txDropped = rcA.get(nwid).txDropped;
  assert.ok(portA.inject(ethFrame(macB, macA, ETHERTYPE_IPV4, ipv4(ipA, ipB, 6, 23, 2))));
  sim.clock.runFor(1000);
  assert.equal(got(2).length, 0, "telnet dropped");
  assert.equal(rcA.get(nwid).txDropped, txDropped + 1);

  // an ethertype the rules refuse: dropped too; IPv4 again: delivered
  const other = ethFrame(macB, macA, 0x88b5, new Uint8Array(46).fill(3));
  assert.ok(portA.inject(other));
  sim.clock.runFor(1000);
  assert.equal(portB.written.filter((f) => f[12] === 0x88 && f[13] === 0xb5).length, 0);
  assert.equal(rcA.get(nwid).txDropped, txDropped + 2);
  assert.ok(portA.inject(ethFrame(macB, macA, ETHERTYPE_IPV4, ipv4(ipA, ipB, 6, 22, 4))));
  assert.ok(
    sim.clock.runUntilTrue(() => got(4).length === 1, 5_000),
    "TCP 22 is accepted",
  );
  assert.ok(ruleCountersOf(b.core.frames!.filter)!.get(nwid).rxAccepted >= 2);
  assert.ok(a.transport.stats.sent > 0 && b.transport.stats.received > 0);

  // leaving closes the member's port
  b.core.leave(sim.now, nwid);
  assert.equal(portB.closed, true);
  assert.equal(b.ports.size, 0);
  for (const n of [root, ctlNode, a, b]) n.stop();
});
