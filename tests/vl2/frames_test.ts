// Tests the frame layer against recorded FRAMEs (byte-exact out, exact Ethernet in), the gate + retry queue, MAC/bridging rules and the filter hook.
import assert from "node:assert/strict";
import { toHex } from "../../src/util/hex.ts";
import { Address } from "../../src/vl1/address.ts";
import { ErrorCode, Verb } from "../../src/vl1/packet.ts";
import { decodeError } from "../../src/vl1/verbs/error.ts";
import {
  decodeExtFrame,
  decodeOkExtFrame,
  encodeExtFrame,
  encodeFrame,
} from "../../src/vl1/verbs/frame.ts";
import { decodeMulticastLike } from "../../src/vl1/verbs/multicast.ts";
import { readU16 } from "../../src/vl1/verbs/wire.ts";
import { type FrameFilter, Frames } from "../../src/vl2/frames.ts";
import { macFromAddress } from "../../src/vl2/mac.ts";
import {
  makeSpecialist,
  type NetworkConfig,
  SPECIALIST_ACTIVE_BRIDGE,
} from "../../src/vl2/network_config.ts";
import {
  A,
  B,
  ethFrame,
  FakeNet,
  FakeNets,
  FakeNode,
  info,
  labConfig,
  NWID,
  recordedAt,
  seededRandom,
} from "./data_plane_helpers.ts";

const MAC_A = macFromAddress(A, NWID);
const MAC_B = macFromAddress(B, NWID);

interface Tapped {
  nwid: bigint;
  frame: Uint8Array;
}

function setup(me: number, config: NetworkConfig | undefined = labConfig(me === A ? "a" : "b")) {
  const node = new FakeNode(me);
  const nets = new FakeNets();
  const net = nets.add(new FakeNet(NWID, me, config));
  const tapped: Tapped[] = [];
  const frames = new Frames({
    node,
    networks: nets,
    random: seededRandom(7),
    tapWrite: (nwid, f, s, e) => tapped.push({ nwid, frame: f.slice(s, e) }),
  });
  return { node, nets, net, tapped, frames };
}

/** Ethernet payload of a recorded FRAME (after nwid + ethertype). */
function recordedFrame(i: number) {
  const p = recordedAt(i);
  assert.equal(p.verb, Verb.FRAME);
  return { ...p, etherType: readU16(p.payload, 8), eth: p.payload.subarray(10) };
}

Deno.test("frames: tap frames to members become the recorded FRAME payloads byte for byte", () => {
  for (const [i, from, to] of [[162, B, A], [191, A, B], [217, A, B], [224, A, B]] as const) {
    const r = recordedFrame(i);
    assert.equal(r.source, from);
    const { node, frames, net } = setup(from);
    const tap = ethFrame(macFromAddress(to, NWID), macFromAddress(from, NWID), r.etherType, r.eth);
    assert.ok(frames.tapFrame(1000, NWID, tap, 0, tap.length), `#${i} sent`);
    assert.equal(node.sent.length, 1);
    assert.equal(node.sent[0].verb, Verb.FRAME);
    assert.equal(node.sent[0].dest, to);
    assert.equal(toHex(node.sent[0].payload), toHex(r.payload), `#${i} byte-exact`);
    assert.equal(node.sent[0].compress, false, "plain unicast FRAMEs are never compressed");
    assert.deepEqual(net.pushes, [to], "credentials pushed before sending");
  }
});

Deno.test("frames: a recorded FRAME is delivered with the implied MACs, establishes trust and triggers LIKEs", () => {
  const r = recordedFrame(162); // b → a, ARP reply
  const { node, net, frames, tapped } = setup(A);
  net.allowed.add(B);
  assert.ok(frames.handle(5000, new Address(B), Verb.FRAME, r.payload, info(r.packetId)));
  assert.equal(tapped.length, 1);
  assert.equal(tapped[0].nwid, NWID);
  assert.equal(toHex(tapped[0].frame), toHex(ethFrame(MAC_A, MAC_B, 0x0806, r.eth)));
  assert.deepEqual(node.trust, [B]);
  // gate passed → our LIKEs go to b (once per 60 s)
  const likes = node.of(Verb.MULTICAST_LIKE, B);
  assert.equal(likes.length, 1);
  const groups = decodeMulticastLike(likes[0].payload)!.groups;
  assert.ok(groups.some((g) => g.mac === 0xffffffffffff && g.adi === 0xc6130072), "a's ARP group");
  frames.handle(6000, new Address(B), Verb.FRAME, r.payload, info(r.packetId + 1n));
  assert.equal(node.of(Verb.MULTICAST_LIKE, B).length, 1, "not again within 60 s");
  assert.equal(frames.counters.delivered, 2);
  // the network ID is read in place: frames for another network in between, and one too short,
  // do not change what the next frame for ours is taken for
  const other = encodeFrame({ networkId: NWID ^ 1n, etherType: 0x806, payload: r.eth });
  frames.handle(6001, new Address(B), Verb.FRAME, other, info(r.packetId + 2n));
  frames.handle(6002, new Address(B), Verb.FRAME, r.payload.subarray(0, 9), info(r.packetId + 3n));
  assert.equal(frames.counters.drops.noNetwork, 1);
  assert.equal(frames.counters.drops.malformed, 1);
  frames.handle(6003, new Address(B), Verb.FRAME, r.payload, info(r.packetId + 4n));
  assert.equal(frames.counters.delivered, 3);
  assert.equal(toHex(tapped[2].frame), toHex(tapped[0].frame));
});

Deno.test("frames: gate failure → ERROR(NEED_MEMBERSHIP_CERTIFICATE), retried every 500 ms, delivered when credentials arrive", () => {
  const r = recordedFrame(191); // a → b, ICMP echo
  const { node, net, frames, tapped } = setup(B);
  const pid = 0x1122334455667788n;
  frames.handle(10_000, new Address(A), Verb.FRAME, r.payload, info(pid));
  assert.equal(tapped.length, 0);
  const errs = node.of(Verb.ERROR, A);
  assert.equal(errs.length, 1);
  const e = decodeError(errs[0].payload)!;
  assert.equal(e.code, ErrorCode.NEED_MEMBERSHIP_CERTIFICATE);
  assert.equal(e.inReVerb, Verb.FRAME);
  assert.equal(e.inRePacketId, pid);
  assert.equal(e.networkId, NWID);
  assert.equal(frames.heldCount, 1);
  assert.deepEqual(node.trust, []);
  frames.tick(10_200);
  assert.equal(node.of(Verb.ERROR).length, 1, "not before 500 ms");
  frames.tick(10_500);
  assert.equal(node.of(Verb.ERROR).length, 2, "each failed retry answers again");
  net.allowed.add(A); // credentials arrived
  frames.tick(11_000);
  assert.equal(tapped.length, 1);
  assert.equal(toHex(tapped[0].frame), toHex(ethFrame(MAC_B, MAC_A, 0x0800, r.eth)));
  assert.equal(frames.heldCount, 0);
  assert.deepEqual(node.trust, [A]);
});

Deno.test("frames: held packets are dropped after 5 s and the queue is bounded", () => {
  const r = recordedFrame(191);
  const { node, frames, tapped } = setup(B);
  frames.handle(0, new Address(A), Verb.FRAME, r.payload, info(1n));
  for (let t = 100; t <= 6000; t += 100) frames.tick(t);
  assert.equal(frames.heldCount, 0);
  assert.equal(tapped.length, 0);
  const n = node.of(Verb.ERROR).length;
  assert.ok(n >= 10 && n <= 12, `about one ERROR per 500 ms for 5 s (${n})`);
  assert.equal(frames.counters.drops.retryExpired, 1);
  for (let i = 0; i < 100; i++) {
    frames.handle(7000, new Address(A), Verb.FRAME, r.payload, info(BigInt(i)));
  }
  assert.equal(frames.heldCount, 32);
});

Deno.test("frames: outbound drops — no network/config, MTU, foreign source without bridging, to self", () => {
  const { node, net, frames } = setup(A);
  const ip = recordedFrame(191).eth;
  const ok = ethFrame(MAC_B, MAC_A, 0x0800, ip);
  assert.ok(!frames.tapFrame(0, 0x1234n, ok, 0, ok.length));
  assert.equal(frames.counters.drops.noNetwork, 1);
  const big = ethFrame(MAC_B, MAC_A, 0x0800, new Uint8Array(2801));
  assert.ok(!frames.tapFrame(0, NWID, big, 0, big.length));
  assert.equal(frames.counters.drops.mtu, 1);
  const exact = ethFrame(MAC_B, MAC_A, 0x0800, new Uint8Array(2800));
  assert.ok(frames.tapFrame(0, NWID, exact, 0, exact.length), "exactly the MTU is fine");
  const foreign = ethFrame(MAC_B, 0x020000000001, 0x0800, ip);
  assert.ok(!frames.tapFrame(0, NWID, foreign, 0, foreign.length));
  assert.equal(frames.counters.drops.bridging, 1);
  const self = ethFrame(MAC_A, MAC_A, 0x0800, ip);
  assert.ok(!frames.tapFrame(0, NWID, self, 0, self.length));
  assert.ok(!frames.tapFrame(0, NWID, ok, 0, 13), "runt");
  // a frame inside a larger buffer (offsets honoured)
  const buf = new Uint8Array(ok.length + 10);
  buf.set(ok, 5);
  assert.ok(frames.tapFrame(0, NWID, buf, 5, 5 + ok.length));
  assert.equal(toHex(node.sent.at(-1)!.payload), toHex(recordedAt(191).payload));
  net.config = undefined;
  assert.ok(!frames.tapFrame(0, NWID, ok, 0, ok.length));
  assert.equal(frames.counters.drops.noConfig, 1);
});

Deno.test("frames: bridging — an active bridge sends EXT_FRAME, learns routes, others must not", () => {
  const conf: NetworkConfig = {
    ...labConfig("a"),
    specialists: [
      makeSpecialist(A, SPECIALIST_ACTIVE_BRIDGE),
      makeSpecialist(B, SPECIALIST_ACTIVE_BRIDGE),
    ],
  };
  const { node, net, frames, tapped } = setup(A, conf);
  net.allowed.add(B);
  const ip = recordedFrame(191).eth;
  const lanHost = 0x02aabbccddee;
  // bridged source to a member → EXT_FRAME with explicit MACs
  const f1 = ethFrame(MAC_B, lanHost, 0x0800, ip);
  assert.ok(frames.tapFrame(0, NWID, f1, 0, f1.length));
  const x = decodeExtFrame(node.sent.at(-1)!.payload)!;
  assert.equal(node.sent.at(-1)!.verb, Verb.EXT_FRAME);
  assert.deepEqual([x.to, x.from, x.flags, x.etherType], [MAC_B, lanHost, 0, 0x0800]);
  // unknown MAC behind some bridge → to every other active bridge
  const behindB = 0x021111111111;
  const f2 = ethFrame(behindB, MAC_A, 0x0800, ip);
  assert.ok(frames.tapFrame(0, NWID, f2, 0, f2.length));
  assert.deepEqual(node.of(Verb.EXT_FRAME).map((s) => s.dest), [B, B]);
  assert.ok(node.of(Verb.EXT_FRAME).every((s) => !s.compress), "unicast EXT_FRAMEs uncompressed");
  // b bridges a frame from behindB to us (ACK requested): delivered, route learned, OK sent
  const inb = encodeExtFrame({
    networkId: NWID,
    flags: 0x10,
    to: MAC_A,
    from: behindB,
    etherType: 0x0800,
    payload: ip,
  });
  frames.handle(1, new Address(B), Verb.EXT_FRAME, inb, info(77n));
  assert.equal(toHex(tapped.at(-1)!.frame), toHex(ethFrame(MAC_A, behindB, 0x0800, ip)));
  const ok = decodeOkExtFrame(node.of(Verb.OK, B).at(-1)!.payload)!;
  assert.deepEqual(ok, { inRePacketId: 77n, networkId: NWID });
  // from zero / our own MAC: ignored
  const n = tapped.length;
  for (const from of [0, MAC_A]) {
    frames.handle(
      1,
      new Address(B),
      Verb.EXT_FRAME,
      encodeExtFrame({
        networkId: NWID,
        flags: 0,
        to: MAC_A,
        from,
        etherType: 0x0800,
        payload: ip,
      }),
      info(1n),
    );
  }
  assert.equal(tapped.length, n);
  assert.equal(frames.counters.drops.badMac, 2);

  // not a bridge: a bridged frame from a non-bridge member is dropped; to a LAN MAC too
  const plain = setup(B);
  plain.net.allowed.add(A);
  plain.frames.handle(
    1,
    new Address(A),
    Verb.EXT_FRAME,
    encodeExtFrame({
      networkId: NWID,
      flags: 0,
      to: MAC_B,
      from: lanHost,
      etherType: 0x0800,
      payload: ip,
    }),
    info(2n),
  );
  plain.frames.handle(
    1,
    new Address(A),
    Verb.EXT_FRAME,
    encodeExtFrame({
      networkId: NWID,
      flags: 0,
      to: lanHost,
      from: MAC_A,
      etherType: 0x0800,
      payload: ip,
    }),
    info(3n),
  );
  assert.equal(plain.tapped.length, 0);
  assert.equal(plain.frames.counters.drops.bridging, 2);
  // a plain EXT_FRAME between members (from = MAC(sender), to = us) is fine
  plain.frames.handle(
    1,
    new Address(A),
    Verb.EXT_FRAME,
    encodeExtFrame({
      networkId: NWID,
      flags: 0,
      to: MAC_B,
      from: MAC_A,
      etherType: 0x0800,
      payload: ip,
    }),
    info(4n),
  );
  assert.equal(plain.tapped.length, 1);
});

Deno.test("frames: the filter hook sees every frame; 0 drops, 2 bypasses bridging checks", () => {
  const seen: string[] = [];
  let verdict: 0 | 1 | 2 = 0;
  let allowOut = false;
  const filter: FrameFilter = {
    filterOutbound: ({ peer: dest, srcMac: s, dstMac: d, etherType: et }) => {
      seen.push(`out ${dest.toString(16)} ${s.toString(16)}>${d.toString(16)} ${et.toString(16)}`);
      return allowOut;
    },
    filterInbound: ({ peer: src, srcMac: s, dstMac: d, etherType: et }) => {
      seen.push(`in ${src.toString(16)} ${s.toString(16)}>${d.toString(16)} ${et.toString(16)}`);
      return verdict;
    },
  };
  const { node, net, frames, tapped } = setup(B);
  frames.filter = filter;
  net.allowed.add(A);
  const r = recordedFrame(191);
  frames.handle(0, new Address(A), Verb.FRAME, r.payload, info(1n));
  assert.equal(tapped.length, 0);
  assert.equal(frames.counters.drops.filter, 1);
  verdict = 2; // super-accept: even a bridged source from a non-bridge is delivered
  frames.handle(
    0,
    new Address(A),
    Verb.EXT_FRAME,
    encodeExtFrame({
      networkId: NWID,
      flags: 0,
      to: MAC_B,
      from: 0x02aabbccddee,
      etherType: 0x0800,
      payload: r.eth,
    }),
    info(2n),
  );
  assert.equal(tapped.length, 1);
  const out = ethFrame(MAC_A, MAC_B, 0x0800, r.eth);
  assert.ok(!frames.tapFrame(0, NWID, out, 0, out.length));
  allowOut = true;
  assert.ok(frames.tapFrame(0, NWID, out, 0, out.length));
  assert.equal(node.of(Verb.FRAME).length, 1);
  assert.equal(seen[0], `in ${A.toString(16)} ${MAC_A.toString(16)}>${MAC_B.toString(16)} 800`);
  assert.equal(
    seen.at(-1),
    `out ${A.toString(16)} ${MAC_B.toString(16)}>${MAC_A.toString(16)} 800`,
  );
});

Deno.test("frames: NDP emulation answers on the tap and sends nothing; unknown networks are ignored inbound", () => {
  const { node, frames, tapped } = setup(A);
  const ns = new Uint8Array(64);
  ns[0] = 0x60;
  ns[5] = 24;
  ns[6] = 58;
  ns[7] = 255;
  ns.set([
    0xfd,
    0x5b,
    0x1c,
    0x20,
    0xa3,
    0x11,
    0xfc,
    0xa1,
    0xca,
    0x99,
    0x93,
    0x98,
    0xbe,
    0xc7,
    0x16,
    0x08,
  ], 8);
  ns.set([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xf0, 0x8a, 0x89], 24);
  ns[40] = 135;
  ns.set([
    0xfd,
    0x5b,
    0x1c,
    0x20,
    0xa3,
    0x11,
    0xfc,
    0xa1,
    0xca,
    0x99,
    0x93,
    0xbe,
    0xcc,
    0xf0,
    0x8a,
    0x89,
  ], 48);
  const f = ethFrame(0x3333fff08a89, MAC_A, 0x86dd, ns);
  assert.ok(frames.tapFrame(0, NWID, f, 0, f.length));
  assert.equal(node.sent.length, 0);
  assert.equal(tapped.length, 1);
  assert.equal(tapped[0].frame.length, 86);
  assert.equal(frames.counters.ndpEmulated, 1);
  frames.handle(
    0,
    new Address(B),
    Verb.FRAME,
    encodeFrame({ networkId: 0x99n, etherType: 0x800, payload: new Uint8Array(4) }),
    info(1n),
  );
  assert.equal(node.sent.length, 0, "no ERROR for networks we are not in");
  assert.equal(frames.heldCount, 0);
  assert.equal(frames.counters.drops.noNetwork, 1);
  // malformed packets never throw
  for (
    const v of [
      Verb.FRAME,
      Verb.EXT_FRAME,
      Verb.MULTICAST_FRAME,
      Verb.MULTICAST_LIKE,
      Verb.MULTICAST_GATHER,
      Verb.OK,
    ]
  ) {
    for (let n = 0; n < 40; n++) {
      frames.handle(0, new Address(B), v, new Uint8Array(n).fill(0xff), info(1n));
    }
  }
});

Deno.test("frames: compression as the reference — unicast FRAME/EXT_FRAME are never compressed", () => {
  const conf: NetworkConfig = {
    ...labConfig("a"),
    specialists: [makeSpecialist(A, SPECIALIST_ACTIVE_BRIDGE)],
  };
  const { node, frames, net } = setup(A, conf);
  net.allowed.add(B);
  // a compressible payload: a sender that still compressed FRAMEs would flag it
  const zeros = new Uint8Array(1000);
  const f1 = ethFrame(MAC_B, MAC_A, 0x0800, zeros);
  assert.ok(frames.tapFrame(0, NWID, f1, 0, f1.length));
  const f2 = ethFrame(MAC_B, 0x02aabbccddee, 0x0800, zeros); // bridged source → EXT_FRAME
  assert.ok(frames.tapFrame(0, NWID, f2, 0, f2.length));
  const uni = node.sent.filter((s) => s.verb === Verb.FRAME || s.verb === Verb.EXT_FRAME);
  assert.deepEqual(uni.map((s) => [s.verb, s.compress]), [
    [Verb.FRAME, false],
    [Verb.EXT_FRAME, false],
  ]);
});
