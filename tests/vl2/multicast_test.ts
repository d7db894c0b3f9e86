// Tests multicast against the recorded session (LIKE groups, ARP GATHER → OK → MULTICAST_FRAME, OK(MULTICAST_FRAME) byte-exact) and replication, LIKE timing, expiry.
import assert from "node:assert/strict";
import { toHex } from "../../src/util/hex.ts";
import { Address } from "../../src/vl1/address.ts";
import { Verb } from "../../src/vl1/packet.ts";
import {
  decodeMulticastFrame,
  decodeMulticastGather,
  decodeMulticastLike,
  decodeOkMulticastGather,
  encodeMulticastGather,
  encodeMulticastLike,
} from "../../src/vl1/verbs/multicast.ts";
import { comSerialize } from "../../src/vl2/credentials/com.ts";
import { Frames } from "../../src/vl2/frames.ts";
import { macFromAddress } from "../../src/vl2/mac.ts";
import { deriveGroups, MULTICAST_LIKE_EXPIRE } from "../../src/vl2/multicast.ts";
import {
  makeSpecialist,
  type NetworkConfig,
  SPECIALIST_ACTIVE_BRIDGE,
  SPECIALIST_MULTICAST_REPLICATOR,
} from "../../src/vl2/network_config.ts";
import {
  A,
  B,
  C,
  ethFrame,
  FakeNet,
  FakeNets,
  FakeNode,
  info,
  labConfig,
  NWID,
  R,
  recordedAt,
  seededRandom,
} from "./data_plane_helpers.ts";

const BCAST = 0xffffffffffff;
const MAC_A = macFromAddress(A, NWID);

function setup(me: number, config: NetworkConfig | undefined, seed = 1) {
  const node = new FakeNode(me);
  const nets = new FakeNets();
  const net = nets.add(new FakeNet(NWID, me, config));
  const tapped: Uint8Array[] = [];
  const frames = new Frames({
    node,
    networks: nets,
    random: seededRandom(seed),
    tapWrite: (_n, f, s, e) => tapped.push(f.slice(s, e)),
  });
  return { node, net, nets, frames, tapped };
}

const key = (g: { mac: number; adi: number }) => `${g.mac.toString(16)}/${g.adi}`;

Deno.test("multicast: our derived groups are among those the reference announced (recorded LIKE #158)", () => {
  const like = recordedAt(158);
  assert.equal(like.verb, Verb.MULTICAST_LIKE);
  const recorded = decodeMulticastLike(like.payload)!.groups.filter((g) => g.networkId === NWID)
    .map(key);
  const ours = deriveGroups(labConfig("b"), []).map(key);
  assert.deepEqual(ours, [
    "3333ff000001/0", // 6PLANE ...::1 (ND)
    "3333fff08a89/0", // RFC4193 (ND)
    "ffffffffffff/0", // broadcast (flag 0x02)
    "ffffffffffff/3323134051", // ARP for 198.19.0.99
  ]);
  for (const g of ours) assert.ok(recorded.includes(g), `${g} announced by the reference`);
  // the rest came from the kernel (tap) and are merged in, sorted and deduplicated
  const extra = decodeMulticastLike(like.payload)!.groups.map((g) => ({ mac: g.mac, adi: g.adi }));
  assert.deepEqual(deriveGroups(labConfig("b"), extra).map(key), [...new Set(recorded)].sort());
});

Deno.test("multicast: a's ARP with no known members → GATHER(33, COM) to root and controller; OK(GATHER) → recorded MULTICAST_FRAME", () => {
  const conf = labConfig("a");
  const { node, frames } = setup(A, conf);
  const mf = recordedAt(142); // a → b
  const arp = decodeMulticastFrame(mf.payload)!;
  const tap = ethFrame(BCAST, MAC_A, 0x0806, mf.payload.subarray(arp.payloadStart));
  assert.ok(frames.tapFrame(1000, NWID, tap, 0, tap.length));
  assert.equal(node.of(Verb.MULTICAST_FRAME).length, 0, "nobody known yet");
  const gathers = node.of(Verb.MULTICAST_GATHER);
  assert.deepEqual(gathers.map((g) => g.dest).sort(), [R, C].sort());
  const rec = recordedAt(107); // a → r, the recorded GATHER for this group
  const g = decodeMulticastGather(gathers[0].payload)!;
  const rg = decodeMulticastGather(rec.payload)!;
  assert.deepEqual(
    { ...g, com: undefined },
    { ...rg, com: undefined },
    "same group, flags 0x01 and limit 33 as recorded",
  );
  assert.equal(toHex(g.com!), toHex(comSerialize(conf.com!)), "our COM attached");
  // a second ARP within 60 s while still nobody is known gathers again (none known)
  frames.tapFrame(1100, NWID, tap, 0, tap.length);
  assert.equal(node.of(Verb.MULTICAST_GATHER).length, 4);

  // the root's recorded answer names b → the queued frame goes to b, byte-exact as recorded
  const ok = recordedAt(137);
  assert.equal(ok.source, R);
  assert.equal(decodeOkMulticastGather(ok.payload)!.members[0].value, B);
  assert.ok(frames.handle(1200, new Address(R), Verb.OK, ok.payload, info(ok.packetId)));
  const sent = node.of(Verb.MULTICAST_FRAME, B);
  assert.equal(sent.length, 2, "both queued ARPs reach b (the reference sent several too)");
  for (const x of sent) assert.equal(toHex(x.payload), toHex(mf.payload));
  assert.deepEqual(frames.multicast.members(NWID, BCAST, 0xc6130063), [B]);
  // a later ARP now goes straight to b with a fresh gather ask
  frames.tapFrame(2000, NWID, tap, 0, tap.length);
  assert.equal(node.of(Verb.MULTICAST_FRAME, B).length, 3);
});

Deno.test("multicast: b delivers the recorded ARP MULTICAST_FRAME and answers the recorded OK(MULTICAST_FRAME)", () => {
  const { node, net, frames, tapped } = setup(B, labConfig("b"));
  net.allowed.add(A);
  const mf = recordedAt(142);
  const okRec = recordedAt(164); // b → a
  const inRe = BigInt("0x" + toHex(okRec.payload.subarray(1, 9)));
  frames.handle(0, new Address(A), Verb.MULTICAST_FRAME, mf.payload, info(inRe));
  const arp = decodeMulticastFrame(mf.payload)!;
  assert.equal(tapped.length, 1);
  assert.equal(
    toHex(tapped[0]),
    toHex(ethFrame(BCAST, MAC_A, 0x0806, mf.payload.subarray(arp.payloadStart))),
  );
  const oks = node.of(Verb.OK, A);
  assert.equal(oks.length, 1);
  assert.equal(toHex(oks[0].payload), toHex(okRec.payload), "byte-exact OK(MULTICAST_FRAME)");
  assert.deepEqual(node.trust, [A]);
});

Deno.test("multicast: gate failure on MULTICAST_FRAME is answered and held like FRAME", () => {
  const { node, net, frames, tapped } = setup(B, labConfig("b"));
  const mf = recordedAt(142);
  frames.handle(0, new Address(A), Verb.MULTICAST_FRAME, mf.payload, info(5n));
  assert.equal(node.of(Verb.ERROR, A).length, 1);
  assert.equal(frames.heldCount, 1);
  net.allowed.add(A);
  frames.tick(500);
  assert.equal(tapped.length, 1);
});

Deno.test("multicast: replication picks bridges first then a seeded random subset up to the limit", () => {
  const members = Array.from({ length: 20 }, (_, i) => 0x1100000000 + i);
  const bridge = 0x2200000000;
  const pick = (seed: number) => {
    const conf: NetworkConfig = {
      ...labConfig("a"),
      multicastLimit: 5,
      specialists: [makeSpecialist(bridge, SPECIALIST_ACTIVE_BRIDGE)],
    };
    const { node, net, frames } = setup(A, conf, seed);
    for (const m of members) net.allowed.add(m);
    const like = encodeMulticastLike({ groups: [{ networkId: NWID, mac: BCAST, adi: 0 }] });
    for (const m of members) frames.handle(0, new Address(m), Verb.MULTICAST_LIKE, like, info(1n));
    node.sent.length = 0;
    const f = ethFrame(BCAST, MAC_A, 0x0800, new Uint8Array(60));
    assert.ok(frames.tapFrame(10, NWID, f, 0, f.length));
    const to = node.of(Verb.MULTICAST_FRAME).map((s) => s.dest);
    const mfs = node.of(Verb.MULTICAST_FRAME).map((s) => decodeMulticastFrame(s.payload)!);
    assert.ok(mfs.every((m) => m.gatherLimit === 1 && m.source === undefined && m.mac === BCAST));
    assert.equal(node.of(Verb.MULTICAST_GATHER).length, 0, "enough members known");
    return to;
  };
  const a = pick(1);
  assert.equal(a.length, 5);
  assert.equal(a[0], bridge);
  assert.equal(new Set(a).size, 5);
  assert.deepEqual(pick(1), a, "same seed, same recipients");
  const others = [2, 3, 4, 5, 6].map((s) => pick(s).slice(1).join());
  assert.ok(new Set([a.slice(1).join(), ...others]).size > 1, "seeds permute the members");
});

Deno.test("multicast: a designated replicator gets one frame with flags 0x0c; it re-multicasts to the others", () => {
  const rep = 0x3300000000;
  const conf: NetworkConfig = {
    ...labConfig("a"),
    specialists: [makeSpecialist(rep, SPECIALIST_MULTICAST_REPLICATOR)],
  };
  const { node, frames } = setup(A, conf);
  const f = ethFrame(BCAST, MAC_A, 0x0800, new Uint8Array(40));
  frames.tapFrame(0, NWID, f, 0, f.length);
  const s = node.of(Verb.MULTICAST_FRAME);
  assert.deepEqual(s.map((x) => x.dest), [rep]);
  const m = decodeMulticastFrame(s[0].payload)!;
  assert.equal(m.flags, 0x0c);
  assert.equal(m.source, MAC_A);

  // the replicator's side: it re-sends to known members but never back to a
  const r = setup(rep, { ...conf, issuedTo: rep });
  r.net.allowed.add(A);
  r.net.allowed.add(B);
  const like = encodeMulticastLike({ groups: [{ networkId: NWID, mac: BCAST, adi: 0 }] });
  r.frames.handle(0, new Address(A), Verb.MULTICAST_LIKE, like, info(1n));
  r.frames.handle(0, new Address(B), Verb.MULTICAST_LIKE, like, info(2n));
  r.node.sent.length = 0;
  r.frames.handle(1, new Address(A), Verb.MULTICAST_FRAME, s[0].payload, info(3n));
  const out = r.node.of(Verb.MULTICAST_FRAME);
  assert.deepEqual(out.map((x) => x.dest), [B]);
  assert.equal(decodeMulticastFrame(out[0].payload)!.source, MAC_A, "origin's MAC kept");
  assert.equal(r.tapped.length, 1);
  // and b accepts a frame relayed by the replicator with a's MAC
  const b = setup(B, labConfig("b"));
  b.net.config = { ...b.net.config!, specialists: conf.specialists };
  b.net.allowed.add(rep);
  b.frames.handle(2, new Address(rep), Verb.MULTICAST_FRAME, out[0].payload, info(4n));
  assert.equal(b.tapped.length, 1);
  assert.equal(
    toHex(b.tapped[0].subarray(6, 12)),
    toHex(ethFrame(0, MAC_A, 0, new Uint8Array()).subarray(6, 12)),
  );
});

Deno.test("multicast: LIKEs go to controller and root at once, then every 60 s; tap groups announced on change", () => {
  const { node, frames } = setup(A, labConfig("a"));
  frames.tick(0);
  const first = node.of(Verb.MULTICAST_LIKE);
  assert.deepEqual(first.map((s) => s.dest).sort(), [R, C].sort());
  assert.ok(first.every((s) => s.compress));
  const groups = decodeMulticastLike(first[0].payload)!.groups.map(key);
  assert.deepEqual(groups, deriveGroups(labConfig("a"), []).map(key));
  frames.tick(30_000);
  assert.equal(node.of(Verb.MULTICAST_LIKE).length, 2);
  frames.multicastGroupsChanged(NWID, [{ mac: 0x01005e000001, adi: 0 }]);
  frames.tick(31_000);
  const third = node.of(Verb.MULTICAST_LIKE);
  assert.equal(third.length, 4, "new group → announced at once");
  assert.ok(decodeMulticastLike(third[3].payload)!.groups.some((g) => g.mac === 0x01005e000001));
  frames.tick(60_000);
  assert.equal(node.of(Verb.MULTICAST_LIKE).length, 4);
  frames.tick(91_000);
  assert.equal(node.of(Verb.MULTICAST_LIKE).length, 6);
});

Deno.test("multicast: LIKE needs the gate (or us being a root); members expire after 600 s; GATHER answered", () => {
  const { node, net, frames } = setup(B, labConfig("b"));
  const like = encodeMulticastLike({ groups: [{ networkId: NWID, mac: BCAST, adi: 7 }] });
  frames.handle(0, new Address(A), Verb.MULTICAST_LIKE, like, info(1n));
  assert.deepEqual(frames.multicast.members(NWID, BCAST, 7), []);
  net.allowed.add(A);
  frames.handle(0, new Address(A), Verb.MULTICAST_LIKE, like, info(2n));
  assert.deepEqual(frames.multicast.members(NWID, BCAST, 7), [A]);
  assert.equal(node.of(Verb.MULTICAST_LIKE, A).length, 1, "gate passed → our LIKEs to a");
  // GATHER from a third member for that group: we answer with a (not the requester)
  const X = 0x4400000000;
  net.allowed.add(X);
  const gather = encodeMulticastGather({
    networkId: NWID,
    flags: 0,
    mac: BCAST,
    adi: 7,
    gatherLimit: 10,
  });
  frames.handle(1, new Address(X), Verb.MULTICAST_GATHER, gather, info(99n));
  const ok = decodeOkMulticastGather(node.of(Verb.OK, X)[0].payload)!;
  assert.equal(ok.inRePacketId, 99n);
  assert.deepEqual(ok.members.map((m) => m.value), [A]);
  assert.equal(ok.totalKnown, 1);
  // our own ARP group includes ourselves
  const g2 = encodeMulticastGather({
    networkId: NWID,
    flags: 0,
    mac: BCAST,
    adi: 0xc6130063,
    gatherLimit: 10,
  });
  frames.handle(1, new Address(X), Verb.MULTICAST_GATHER, g2, info(100n));
  assert.deepEqual(
    decodeOkMulticastGather(node.of(Verb.OK, X)[1].payload)!.members.map((m) => m.value),
    [B],
  );
  // nothing known and not subscribed → no answer; limit 0 → no answer
  const g3 = encodeMulticastGather({
    networkId: NWID,
    flags: 0,
    mac: BCAST,
    adi: 1,
    gatherLimit: 10,
  });
  frames.handle(1, new Address(X), Verb.MULTICAST_GATHER, g3, info(101n));
  const g0 = encodeMulticastGather({
    networkId: NWID,
    flags: 0,
    mac: BCAST,
    adi: 7,
    gatherLimit: 0,
  });
  frames.handle(1, new Address(X), Verb.MULTICAST_GATHER, g0, info(102n));
  assert.equal(node.of(Verb.OK, X).length, 2);
  // expiry
  frames.tick(MULTICAST_LIKE_EXPIRE - 1);
  assert.deepEqual(frames.multicast.members(NWID, BCAST, 7), [A]);
  frames.tick(MULTICAST_LIKE_EXPIRE + 60_001);
  assert.deepEqual(frames.multicast.members(NWID, BCAST, 7), []);
  // a root accepts LIKEs for networks it is not in
  const root = setup(R, undefined);
  root.nets.map.clear();
  root.node.root = true;
  root.frames.handle(0, new Address(A), Verb.MULTICAST_LIKE, like, info(3n));
  assert.deepEqual(root.frames.multicast.members(NWID, BCAST, 7), [A]);
});

Deno.test("multicast: a queued multicast reaches members learned within 5 s, not after", () => {
  const { node, net, frames } = setup(A, labConfig("a"));
  const f = ethFrame(BCAST, MAC_A, 0x0800, new Uint8Array(30));
  frames.tapFrame(0, NWID, f, 0, f.length);
  const like = encodeMulticastLike({ groups: [{ networkId: NWID, mac: BCAST, adi: 0 }] });
  net.allowed.add(B);
  frames.handle(4000, new Address(B), Verb.MULTICAST_LIKE, like, info(1n));
  assert.equal(node.of(Verb.MULTICAST_FRAME, B).length, 1);
  frames.tick(5001);
  const X = 0x4400000000;
  net.allowed.add(X);
  frames.handle(5002, new Address(X), Verb.MULTICAST_LIKE, like, info(2n));
  assert.equal(node.of(Verb.MULTICAST_FRAME, X).length, 0);
  assert.equal(frames.multicast.stats().pending, 0);
  // multicast off (limit 0) and broadcast off drop at the tap; ARP still works without broadcast
  net.config = { ...labConfig("a"), flags: 0 };
  assert.ok(!frames.tapFrame(6000, NWID, f, 0, f.length));
  assert.equal(frames.counters.drops.broadcastDisabled, 1);
  const arp = recordedAt(142);
  const arpTap = ethFrame(
    BCAST,
    MAC_A,
    0x0806,
    arp.payload.subarray(decodeMulticastFrame(arp.payload)!.payloadStart),
  );
  assert.ok(frames.tapFrame(6000, NWID, arpTap, 0, arpTap.length));
  net.config = { ...labConfig("a"), multicastLimit: 0 };
  assert.ok(!frames.tapFrame(6000, NWID, arpTap, 0, arpTap.length));
  assert.equal(frames.counters.drops.multicastDisabled, 1);
});
