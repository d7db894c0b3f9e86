// Three members of a real simulated controller's network exchange Ethernet frames: ARP via its multicast group, unicast IPv4, broadcast, the gate against outsiders and revoked members.
import assert from "node:assert/strict";
import { Sim } from "../../src/sim/sim.ts";
import { ethDst, ETHERTYPE_ARP, ETHERTYPE_IPV4, ethSrc, ethType } from "../../src/vl2/ethernet.ts";
import { BROADCAST_MAC } from "../../src/vl2/mac.ts";
import { ethFrame } from "../vl2/data_plane_helpers.ts";
import { arpRequest, echo, Member } from "./frame_member.ts";
import {
  attachController,
  makeIdentities,
  makePlanet,
  managedNetworkBody,
  SimNode,
} from "./node_harness.ts";

const IDS = makeIdentities("node-frames", 6);
const ROOT_IP = "80.0.0.1";
const PLANET = makePlanet([{ identity: IDS[0], endpoint: `${ROOT_IP}/9993` }]);

Deno.test("sim: members exchange ARP (multicast group) and unicast IPv4, broadcast reaches all, outsiders and revoked members are gated", () => {
  const sim = new Sim(31);
  const root = new SimNode(sim, sim.host(ROOT_IP), IDS[0], PLANET);
  const ctlNode = new SimNode(sim, sim.host("81.0.0.1"), IDS[1], PLANET);
  const nodes = [2, 3, 4, 5].map((i) => new SimNode(sim, sim.host(`8${i}.0.0.1`), IDS[i], PLANET));
  assert.ok(sim.clock.runUntilTrue(() => nodes.every((n) => n.node.online()), 20_000));

  // the root keeps the multicast directory (it answers LIKE/GATHER for any network)
  assert.ok(root.core.frames, "the root keeps the multicast directory");

  const { ctl } = attachController(ctlNode, IDS[1]);
  const created = ctl.postNetwork(`${ctlNode.addr}______`, managedNetworkBody("frames-net"));
  assert.ok(created.ok);
  const nwidHex = String(created.value.id);
  const nwid = BigInt("0x" + nwidHex);

  const [m1, m2, m3, outsider] = nodes.map((n) => new Member(sim, n));
  for (const m of [m1, m2, m3]) {
    assert.ok(ctl.postMember(nwidHex, m.sn.addr, { authorized: true }).ok);
  }
  for (const m of [m1, m2, m3, outsider]) {
    m.nwid = nwid;
    m.networks.join(sim.now, nwid);
  }
  assert.ok(
    sim.clock.runUntilTrue(() => [m1, m2, m3].every((m) => m.ip !== 0), 15_000),
    "members configured",
  );
  assert.ok(
    sim.clock.runUntilTrue(() => outsider.networks.get(nwid)!.status === "ACCESS_DENIED", 10_000),
  );
  sim.clock.runFor(1000); // LIKEs reach the root and controller

  // 1. ARP: m1 asks for m2's IP → group (ff:ff:ff:ff:ff:ff, ip(m2)) → only m2 gets it; reply unicast
  assert.ok(m1.send(arpRequest(m1, m2.ip)));
  const isArpReply = (f: Uint8Array) => ethType(f, 0) === ETHERTYPE_ARP && f[21] === 2;
  assert.ok(sim.clock.runUntilTrue(() => m1.received(isArpReply).length > 0, 5_000), "ARP reply");
  const reply = m1.received(isArpReply)[0];
  assert.equal(ethDst(reply, 0), m1.mac);
  assert.equal(ethSrc(reply, 0), m2.mac);
  assert.equal(
    reply.slice(22, 28).join(),
    ethFrame(0, m2.mac, 0, new Uint8Array()).slice(6, 12).join(),
  );
  assert.equal(
    m3.received((f) => ethType(f, 0) === ETHERTYPE_ARP).length,
    0,
    "m3 not in that ARP group",
  );
  assert.equal(m2.received((f) => ethType(f, 0) === ETHERTYPE_ARP).length, 1);

  // 2. unicast IPv4 echo both ways, small and jumbo (2800 = MTU), payload intact
  for (const [a, b] of [[m1, m2], [m2, m3], [m3, m1]] as const) {
    for (const size of [56, 2800 - 28]) {
      const req = echo(a, b.mac, b.ip, size & 0xff, size);
      assert.ok(a.send(req));
      const isReply = (f: Uint8Array) =>
        ethType(f, 0) === ETHERTYPE_IPV4 && f.length === req.length && f[14 + 20] === 0 &&
        f[14 + 27] === (size & 0xff);
      assert.ok(sim.clock.runUntilTrue(() => a.received(isReply).length > 0, 5_000), "echo reply");
      const got = a.received(isReply).at(-1)!;
      assert.equal(ethSrc(got, 0), b.mac);
      assert.deepEqual(got.subarray(14 + 28), req.subarray(14 + 28), "payload intact");
    }
  }
  assert.ok(!m1.send(echo(m1, m2.mac, m2.ip, 1, 2801 - 28)), "over the MTU");

  // 3. broadcast reaches every other member exactly once
  const bc = echo(m2, BROADCAST_MAC, 0xffffffff, 99, 40);
  bc[14 + 20] = 13; // not an echo request: nobody answers
  assert.ok(m2.send(bc));
  const isBc = (f: Uint8Array) =>
    ethDst(f, 0) === BROADCAST_MAC && ethType(f, 0) === ETHERTYPE_IPV4;
  assert.ok(
    sim.clock.runUntilTrue(
      () => m1.received(isBc).length > 0 && m3.received(isBc).length > 0,
      5_000,
    ),
    "broadcast",
  );
  sim.clock.runFor(6000);
  assert.equal(m1.received(isBc).length, 1);
  assert.equal(m3.received(isBc).length, 1);
  assert.equal(m2.received(isBc).length, 0, "not echoed back to the sender");

  // 4. the outsider (never authorized) sends raw FRAMEs to m1: gated, ERRORs, never delivered
  const before = m1.tap.length;
  const drops = m1.frames.counters.drops.gate;
  const raw = echo(outsider, m1.mac, m1.ip, 7);
  outsider.sendFrameTo(m1, nwid, raw);
  assert.ok(!outsider.send(raw), "no config: the outsider's own tap frames go nowhere");
  sim.clock.runFor(11_000); // 5 s of retries, expired at a later node tick (≤ 5 s apart)
  assert.equal(m1.tap.length, before, "nothing from the outsider delivered");
  // answered, then retried at the node's tick cadence (≥ 500 ms apart) until 5 s passed
  assert.ok(m1.frames.counters.drops.gate - drops >= 2, "answered and retried");
  assert.equal(m1.frames.heldCount, 0);

  // 5. m3 is deauthorized: its COM is revoked at m1 and m2; its frames are dropped from then on
  assert.ok(ctl.postMember(nwidHex, m3.sn.addr, { authorized: false }).ok);
  sim.clock.runFor(3000);
  const t3 = m1.tap.length;
  const g3 = m1.frames.counters.drops.gate;
  const req = echo(m3, m1.mac, m1.ip, 42);
  if (!m3.send(req)) m3.sendFrameTo(m1, nwid, req);
  sim.clock.runFor(7000);
  assert.equal(m1.tap.length, t3, "revoked member's frame dropped");
  assert.ok(m1.frames.counters.drops.gate > g3, "it arrived and failed the gate");
  // m1 and m2 still talk
  const ok = echo(m1, m2.mac, m2.ip, 43);
  assert.ok(m1.send(ok));
  assert.ok(
    sim.clock.runUntilTrue(
      () =>
        m1.received((f) => f.length === ok.length && f[14 + 27] === 43 && f[14 + 20] === 0).length >
          0,
      5_000,
    ),
  );
  for (const n of [root, ctlNode, ...nodes]) n.stop();
});
