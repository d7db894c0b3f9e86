// The FRAME fast path gives what the full path gives: the same frames on the taps, the same node, peer, rules and frame counters and peer times, settled at once or after the round (deferSettle); the unusual cases (other network, rules that are not accept-all, a failed gate) still take the full path.
import assert from "node:assert/strict";
import { ETHERTYPE_IPV4, ethSrc, ethType } from "../../src/vl2/ethernet.ts";
import { ruleCountersOf } from "../../src/vl2/rules_filter.ts";
import { toHex } from "../../src/util/hex.ts";
import { echo, Member, privateNetworkLab } from "./frame_member.ts";
import { makeIdentities, makePlanet } from "./node_harness.ts";

const IDS = makeIdentities("node-fast-path", 5);
const ROOT_IP = "80.0.0.1";
const PLANET = makePlanet([{ identity: IDS[0], endpoint: `${ROOT_IP}/9993` }]);
const PINGS = 12;

type Mode = "off" | "inline" | "deferred";

/** A controller's private network with members m1, m2 (authorized) and an outsider. */
function lab(rules?: unknown[]) {
  const { sim, nwid, members: [m1, m2, outsider] } = privateNetworkLab({
    seed: 77,
    ids: IDS,
    planet: PLANET,
    name: "fast-net",
    members: 3,
    authorized: 2,
    rules,
  });
  return { sim, nwid, m1, m2, outsider };
}

function setMode(m: Member, mode: Mode): void {
  const core = m.sn.core;
  core.node.setFrameFastPath(mode === "off" ? undefined : core.frames, mode === "deferred");
}

/**
 * m1 pings m2 PINGS times, `burst` pings at once (each answered by m2's stack), then everything
 * both recorded.
 */
async function exchange(mode: Mode, burst = 1) {
  const { sim, nwid, m1, m2 } = lab();
  for (const m of [m1, m2]) setMode(m, mode);
  for (let i = 0; i < PINGS; i += burst) {
    const seqs = Array.from({ length: Math.min(burst, PINGS - i) }, (_, k) => i + k);
    for (const seq of seqs) assert.ok(m1.send(echo(m1, m2.mac, m2.ip, seq, 40 + seq * 97)));
    for (const seq of seqs) {
      const isReply = (f: Uint8Array) =>
        ethType(f, 0) === ETHERTYPE_IPV4 && ethSrc(f, 0) === m2.mac && f[14 + 20] === 0 &&
        f[14 + 27] === seq;
      assert.ok(
        sim.clock.runUntilTrue(() => m1.received(isReply).length === 1, 5_000),
        `reply ${seq}`,
      );
    }
    await Promise.resolve(); // a host's round ends (deferred bookkeeping runs here)
    sim.clock.runFor(200);
  }
  return [m1, m2].map((m) => {
    const node = m.sn.core.node;
    const other = (m === m1 ? m2 : m1).sn.node.address.value;
    const peer = node.topology.peers.get(other)!;
    const { fastIn, fastOut, ...frames } = m.frames.counters;
    return {
      fastIn,
      fastOut,
      tap: m.tap.map((f) => toHex(f)),
      counters: node.counters.snapshot(),
      frames,
      rules: ruleCountersOf(m.frames.filter)?.get(nwid),
      bytes: ruleCountersOf(m.frames.filter)?.bytes(nwid),
      lastReceive: peer.lastReceive,
      lastTrust: peer.lastTrustEstablished,
      lastSend: peer.lastSend,
      paths: peer.paths.map((p) =>
        `${p.path.address} ${p.lastReceive} ${p.path.lastIn} ${p.path.lastOut} ${p.path.lastTrustEstablishedIn}`
      ),
    };
  });
}

Deno.test("fast path: the same frames, counters and peer times as the full path, settled inline or after the round", async () => {
  const off = await exchange("off");
  const inline = await exchange("inline");
  const deferred = await exchange("deferred");
  for (const [i, m] of off.entries()) {
    assert.equal(m.fastIn + m.fastOut, 0, "no fast path when it is unset");
    assert.ok(inline[i].fastIn >= PINGS - 2, `m${i + 1}: ${inline[i].fastIn} fast in`);
    assert.ok(inline[i].fastOut >= PINGS - 2, `m${i + 1}: ${inline[i].fastOut} fast out`);
    assert.equal(deferred[i].fastIn, inline[i].fastIn);
    assert.equal(deferred[i].fastOut, inline[i].fastOut);
    assert.equal(m.tap.length, i === 0 ? PINGS : PINGS, "every frame delivered once");
    for (const got of [inline[i], deferred[i]]) {
      const { fastIn: _, fastOut: _o, ...rest } = got;
      const { fastIn: __, fastOut: __o, ...want } = m;
      assert.deepEqual(rest, want, `m${i + 1}`);
    }
  }
});

Deno.test("fast path: not taken where rules are to be evaluated (a DROP still drops)", () => {
  // rules other than accept-all: every frame is evaluated (a DROP of UDP works), none fast
  const { sim, nwid, m1, m2 } = lab([
    { type: "MATCH_IP_PROTOCOL", ipProtocol: 17 },
    { type: "ACTION_DROP" },
    { type: "ACTION_ACCEPT" },
  ]);
  for (let i = 0; i < 4; i++) {
    assert.ok(m1.send(echo(m1, m2.mac, m2.ip, i)));
    sim.clock.runFor(300);
  }
  assert.equal(m1.received((f) => ethSrc(f, 0) === m2.mac).length, 4, "echoes answered");
  const udp = echo(m1, m2.mac, m2.ip, 9);
  udp[14 + 9] = 17;
  assert.ok(!m1.send(udp), "dropped on the way out");
  // sent past m1's own filter: m2 evaluates the rules and drops it too
  const drops = m2.frames.counters.drops.filter;
  const tap = m2.tap.length;
  m1.sendFrameTo(m2, nwid, udp);
  sim.clock.runFor(300);
  assert.equal(m2.frames.counters.drops.filter, drops + 1, "UDP dropped by the rule");
  assert.equal(m2.tap.length, tap);
  assert.equal(m2.frames.counters.fastIn, 0);
  assert.equal(m1.frames.counters.fastIn, 0);
});

Deno.test("fast path: a FRAME for another network, or from a sender the gate refuses, runs the full path", () => {
  const { sim, nwid, m1, m2, outsider } = lab();
  for (let i = 0; i < 3; i++) {
    assert.ok(m1.send(echo(m1, m2.mac, m2.ip, i)));
    sim.clock.runFor(300);
  }
  const fast = m2.frames.counters.fastIn;
  assert.ok(fast > 0);
  const noNet = m2.frames.counters.drops.noNetwork;
  m1.sendFrameTo(m2, nwid ^ 1n, echo(m1, m2.mac, m2.ip, 5));
  sim.clock.runFor(300);
  assert.equal(m2.frames.counters.drops.noNetwork, noNet + 1, "not a network of ours: dropped");
  assert.equal(m2.frames.counters.fastIn, fast);

  // an outsider's FRAMEs on the same network: the gate fails, answered and held, never delivered
  const before = m2.tap.length;
  const gate = m2.frames.counters.drops.gate;
  for (let i = 0; i < 3; i++) {
    outsider.sendFrameTo(m2, nwid, echo(outsider, m2.mac, m2.ip, 50 + i));
    sim.clock.runFor(50);
  }
  sim.clock.runFor(6000);
  assert.equal(m2.tap.length, before, "nothing from the outsider delivered");
  assert.ok(m2.frames.counters.drops.gate >= gate + 3, "each gated");
  assert.equal(m2.frames.counters.fastIn, fast);
});

Deno.test("fast path: frames settled together (a burst before the round ends) are each counted", async () => {
  const off = await exchange("off", 3);
  const deferred = await exchange("deferred", 3);
  for (const [i, m] of off.entries()) {
    assert.ok(deferred[i].fastIn >= PINGS - 3, `m${i + 1}: ${deferred[i].fastIn} fast in`);
    const { fastIn: _, fastOut: _o, ...got } = deferred[i];
    const { fastIn: __, fastOut: __o, ...want } = m;
    assert.deepEqual(got, want, `m${i + 1}`);
  }
});
