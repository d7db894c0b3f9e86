// Core.rehearse runs the lone frame's way through a node each way (dearmor, fast-path delivery up to the port; build, armor) and leaves no trace: no datagram, no frame on a port, no counter, peer or path time; it stops after its window, where rules are evaluated, and on a network that was left.
import assert from "node:assert/strict";
import type { Sim } from "../../src/sim/sim.ts";
import { REHEARSAL_WINDOW_MS } from "../../src/core/rehearsal.ts";
import { ETHERTYPE_IPV4, ethSrc, ethType } from "../../src/vl2/ethernet.ts";
import { ruleCountersOf } from "../../src/vl2/rules_filter.ts";
import { echo, Member, privateNetworkLab } from "./frame_member.ts";
import { makeIdentities, makePlanet } from "./node_harness.ts";

const IDS = makeIdentities("rehearsal", 4);
const ROOT_IP = "80.0.0.1";
const PLANET = makePlanet([{ identity: IDS[0], endpoint: `${ROOT_IP}/9993` }]);

/** A controller's private network with members m1, m2 whose cores keep lone frames. */
function lab(rules?: unknown[]) {
  const { sim, nwid, members: [m1, m2] } = privateNetworkLab({
    seed: 91,
    ids: IDS,
    planet: PLANET,
    name: "rehearsal-net",
    members: 2,
    rules,
    coreOptions: { rehearsal: true, deferSettle: true },
  });
  return { sim, nwid, m1, m2 };
}

/** m1 pings m2 (answered by m2's stack); resolves once m1 got the reply. */
async function ping(sim: Sim, m1: Member, m2: Member, seq: number): Promise<void> {
  assert.ok(m1.send(echo(m1, m2.mac, m2.ip, seq)));
  const isReply = (f: Uint8Array) =>
    ethType(f, 0) === ETHERTYPE_IPV4 && ethSrc(f, 0) === m2.mac && f[14 + 20] === 0 &&
    f[14 + 27] === seq;
  assert.ok(sim.clock.runUntilTrue(() => m1.received(isReply).length === 1, 5_000), `reply ${seq}`);
  await Promise.resolve(); // the round ends: deferred bookkeeping runs
}

/** Three pings 150 ms apart (the first ones may go through the root; then direct paths). */
async function pings(sim: Sim, m1: Member, m2: Member, from = 0): Promise<void> {
  for (let i = from; i < from + 3; i++) {
    await ping(sim, m1, m2, i);
    sim.clock.runFor(150); // past REHEARSAL_REFRESH_MS: the newest frame is kept
  }
}

/** Everything a rehearsal must leave as it is. */
function state(m: Member, other: Member, nwid: bigint) {
  const node = m.sn.core.node;
  const peer = node.topology.peers.get(other.sn.node.address.value)!;
  return {
    sent: m.sn.transport.stats.sent,
    tap: m.tap.length,
    counters: node.counters.snapshot(),
    frames: structuredClone(m.frames.counters),
    rules: ruleCountersOf(m.frames.filter)?.get(nwid),
    bytes: ruleCountersOf(m.frames.filter)?.bytes(nwid),
    lastReceive: peer.lastReceive,
    lastSend: peer.lastSend,
    paths: peer.paths.map((p) =>
      `${p.path.address} ${p.lastReceive} ${p.path.lastIn} ${p.path.lastOut} ${p.path.lastTrustEstablishedIn}`
    ),
  };
}

/** Counts the receive rehearsals that reached delivery and the sends that were built. */
function spy(m: Member) {
  const node = m.sn.core.node;
  const seen = { delivered: 0, received: 0, built: 0, sends: 0 };
  const receive = node.rehearseReceive.bind(node);
  node.rehearseReceive = (...a) => {
    seen.received++;
    const r = receive(...a);
    if (r) seen.delivered++;
    return r;
  };
  const sendFrame = node.switch.sendFrame.bind(node.switch);
  node.switch.sendFrame = (...a) => {
    seen.sends++;
    const r = sendFrame(...a);
    if (r) seen.built++;
    return r;
  };
  return seen;
}

Deno.test("rehearsal: both ways through both members, and not a trace of it", async () => {
  const { sim, nwid, m1, m2 } = lab();
  await pings(sim, m1, m2);
  const before = [state(m1, m2, nwid), state(m2, m1, nwid)];
  const spies = [spy(m1), spy(m2)];
  for (let i = 0; i < 20; i++) {
    for (const m of [m1, m2]) assert.ok(m.sn.core.rehearse(sim.now), "something to rehearse");
    await Promise.resolve();
  }
  for (const [i, s] of spies.entries()) {
    assert.equal(s.received, 20, `m${i + 1} rehearsed its last received frame`);
    assert.equal(s.delivered, 20, `m${i + 1}: dearmored and delivered up to the port each time`);
    assert.equal(s.sends, 20, `m${i + 1} rehearsed its last sent frame`);
    assert.equal(s.built, 20, `m${i + 1}: built and armored each time`);
  }
  assert.deepEqual([state(m1, m2, nwid), state(m2, m1, nwid)], before, "no trace");
  // the adapters are rehearsed with what the real path would give them: the port gets the frame
  // last delivered for real, the transport a datagram that the peer takes as a real one
  const toPort: Uint8Array[] = [];
  const toWire: { remote: string; data: Uint8Array }[] = [];
  m2.sn.onTapRehearse = (n, f) => {
    assert.equal(n, nwid);
    toPort.push(f);
  };
  m1.sn.onRehearseSend = (_s, remote, data) => toWire.push({ remote: `${remote}`, data });
  for (const m of [m1, m2]) m.sn.core.rehearse(sim.now);
  assert.equal(toPort.length, 1);
  assert.deepEqual(toPort[0], m2.tap.at(-1), "the frame of the last echo request m2 received");
  assert.equal(toWire.length, 1);
  const path = m1.sn.node.topology.peers.get(m2.sn.node.address.value)!.bestPath(sim.now)!;
  assert.equal(toWire[0].remote, `${path.address}`, "to m2's direct path");
  const lastRequest = m2.tap.at(-1)!;
  const m1Path = m2.sn.node.topology.peers.get(m1.sn.node.address.value)!.bestPath(sim.now)!;
  m2.sn.core.receive(sim.now, m1Path.localSocket, m1Path.address, toWire[0].data);
  assert.equal(m2.tap.length, before[1].tap + 1, "m2 took the rehearsed datagram as a real FRAME");
  assert.deepEqual(m2.tap.at(-1), lastRequest, "...carrying the last echo request m1 sent");
  m1.sn.onRehearseSend = m2.sn.onTapRehearse = undefined;
  sim.clock.runFor(100); // m2's stack answers that copy

  // the real path goes on as before: the next pings are answered and counted
  await ping(sim, m1, m2, 10);
  await ping(sim, m2, m1, 11);
  assert.equal(m1.frames.counters.fastIn, before[0].frames.fastIn + 3);
  assert.equal(m2.frames.counters.fastIn, before[1].frames.fastIn + 3);
});

Deno.test("rehearsal: stops after its window, on a network that was left, and where rules are evaluated", async () => {
  {
    const { sim, nwid, m1, m2 } = lab();
    await pings(sim, m1, m2);
    assert.ok(m1.sn.core.rehearse(sim.now));
    sim.clock.runFor(REHEARSAL_WINDOW_MS + 200);
    assert.equal(m1.sn.core.rehearse(sim.now), false, "nothing kept recently: no rehearsal");
    await pings(sim, m1, m2, 10);
    // m2 leaves: what m1 kept names a network m2 no longer has; nothing leaves m2 or reaches
    // its port, and m1's send rehearsal is still silent
    const s = spy(m2);
    m2.networks.leave(sim.now, nwid);
    sim.clock.runFor(100);
    const before = [state(m1, m2, nwid), state(m2, m1, nwid)];
    m2.sn.core.rehearse(sim.now);
    m1.sn.core.rehearse(sim.now);
    assert.equal(s.delivered, 0, "not delivered on a network that was left");
    assert.equal(s.sends, 0, "not sent from a network that was left");
    assert.deepEqual([state(m1, m2, nwid), state(m2, m1, nwid)], before);
  }
  {
    // rules other than accept-all: frames take the full path, none is kept
    const { sim, m1, m2 } = lab([
      { type: "MATCH_IP_PROTOCOL", ipProtocol: 17 },
      { type: "ACTION_DROP" },
      { type: "ACTION_ACCEPT" },
    ]);
    await pings(sim, m1, m2);
    assert.equal(m1.frames.counters.fastIn, 0);
    assert.equal(m1.sn.core.rehearse(sim.now), false);
    assert.equal(m2.sn.core.rehearse(sim.now), false);
  }
});
