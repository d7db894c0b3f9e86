// Rules enforced on both ends in the simulator with a real controller: base drop/accept, a capability, tag-equal, TEE and REDIRECT copies.
import assert from "node:assert/strict";
import { Sim } from "../../src/sim/sim.ts";
import type { Address } from "../../src/vl1/address.ts";
import { Verb } from "../../src/vl1/packet.ts";
import { encodeFrame } from "../../src/vl1/verbs/frame.ts";
import { ethDst, ETHERTYPE_IPV4, ethSrc, ethType } from "../../src/vl2/ethernet.ts";
import type { Frames, PacketInfo } from "../../src/vl2/frames.ts";
import { macFromAddress } from "../../src/vl2/mac.ts";
import type { Networks } from "../../src/vl2/networks.ts";
import { RulesFilter } from "../../src/vl2/rules_filter.ts";
import { ethFrame } from "../vl2/data_plane_helpers.ts";
import {
  attachController,
  attachDataPlane,
  makeIdentities,
  makePlanet,
  managedNetworkBody,
  SimNode,
} from "./node_harness.ts";

const IDS = makeIdentities("node-rules", 7);
const ROOT_IP = "80.0.0.1";
const PLANET = makePlanet([{ identity: IDS[0], endpoint: `${ROOT_IP}/9993` }]);

const TEAM = 200;
const SSH_CAP = 1000;

/** The network's rules: d is the TEE / REDIRECT target. */
function rulesSource(d: string): string {
  return `
tag team
  id ${TEAM}
;
cap ssh
  id ${SSH_CAP}
  accept ipprotocol 6 dport 22;
;
drop not ethertype ipv4 and not ethertype arp;
drop ipprotocol 6 dport 23;
tee 0 ${d} ipprotocol 17 dport 7000;
redirect ${d} ipprotocol 17 dport 7001;
accept ipprotocol 17 dport 7000-7001;
accept ipprotocol 1;
accept ethertype arp;
accept ipprotocol 6 chr tcp_ack;
accept ipprotocol 17 dport 5000 tdiff team 0;
`;
}

/** One EXT_FRAME a member received: sender, flags, destination MAC. */
interface ExtSeen {
  from: number;
  flags: number;
  to: number;
}

/** A member: node + Networks + Frames (rules filter by default) + a tap that answers pings. */
class Member {
  readonly networks: Networks;
  readonly frames: Frames;
  readonly tap: Uint8Array[] = [];
  readonly ext: ExtSeen[] = [];
  nwid = 0n;
  constructor(readonly sim: Sim, readonly sn: SimNode) {
    ({ networks: this.networks, frames: this.frames } = attachDataPlane(
      sim,
      sn,
      (f) => this.#onTap(f),
    ));
    const frames = this.frames;
    this.networks.frameHandler = {
      handle: (now: number, src: Address, verb: Verb, payload: Uint8Array, info: PacketInfo) => {
        if (verb === Verb.EXT_FRAME && payload.length >= 23) {
          this.ext.push({ from: src.value, flags: payload[8], to: mac48(payload, 9) });
        }
        return frames.handle(now, src, verb, payload, info);
      },
      tick: (now: number) => frames.tick(now),
      retryHeld: (now: number) => frames.retryHeld(now),
    };
  }

  get addr(): number {
    return this.sn.node.address.value;
  }

  get mac(): number {
    return macFromAddress(this.addr, this.nwid);
  }

  get ip(): number {
    const a = this.networks.get(this.nwid)?.info().assignedAddresses.find((x) => x.family === 4);
    if (!a) return 0;
    return ((a.ip[0] << 24) | (a.ip[1] << 16) | (a.ip[2] << 8) | a.ip[3]) >>> 0;
  }

  get rules(): RulesFilter {
    assert.ok(this.frames.filter instanceof RulesFilter, "rules filter is the default");
    return this.frames.filter;
  }

  send(frame: Uint8Array): boolean {
    return this.frames.tapFrame(this.sim.now, this.nwid, frame, 0, frame.length);
  }

  /** Sends a FRAME straight through VL1, bypassing our own outbound rules (a rogue peer). */
  sendRaw(to: Member, frame: Uint8Array): void {
    this.sn.node.sendPacket(
      this.sim.now,
      to.sn.node.address,
      Verb.FRAME,
      encodeFrame({ networkId: this.nwid, etherType: ethType(frame, 0), payload: frame.slice(14) }),
    );
  }

  got(pred: (f: Uint8Array) => boolean): number {
    return this.tap.filter(pred).length;
  }

  #onTap(f: Uint8Array): void {
    this.tap.push(f);
    // answer IPv4 echo requests addressed to us, deferred as a kernel would
    if (ethType(f, 0) === ETHERTYPE_IPV4 && ethDst(f, 0) === this.mac && f[23] === 1) {
      const ip = f.slice(14);
      if (ip[20] !== 8) return;
      ip[20] = 0;
      const src = ip.slice(12, 16);
      ip.copyWithin(12, 16, 20);
      ip.set(src, 16);
      const frame = ethFrame(ethSrc(f, 0), this.mac, ETHERTYPE_IPV4, ip);
      this.sim.clock.after(1, () => this.send(frame));
    }
  }
}

function mac48(b: Uint8Array, o: number): number {
  let v = 0;
  for (let i = 0; i < 6; i++) v = v * 256 + b[o + i];
  return v;
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}

/** An IPv4 packet from `a` to `b` with protocol `proto` and L4 bytes `l4`, as an Ethernet frame. */
function ipv4(a: Member, b: Member, proto: number, l4: Uint8Array, mark: number): Uint8Array {
  const ip = new Uint8Array(20 + l4.length);
  ip[0] = 0x45;
  ip[2] = ip.length >> 8;
  ip[3] = ip.length & 255;
  ip[4] = mark; // identification: tells test packets apart
  ip[8] = 64;
  ip[9] = proto;
  writeU32(ip, 12, a.ip);
  writeU32(ip, 16, b.ip);
  ip.set(l4, 20);
  return ethFrame(b.mac, a.mac, ETHERTYPE_IPV4, ip);
}

/** TCP segment to `dport` with the given flags byte (0x02 SYN, 0x10 ACK). */
function tcp(a: Member, b: Member, dport: number, flags: number, mark: number): Uint8Array {
  const t = new Uint8Array(20);
  t[0] = 0xc3;
  t[1] = 0x50;
  t[2] = dport >> 8;
  t[3] = dport & 255;
  t[12] = 0x50;
  t[13] = flags;
  return ipv4(a, b, 6, t, mark);
}

function udp(a: Member, b: Member, dport: number, mark: number): Uint8Array {
  const u = new Uint8Array(8 + 16);
  u[0] = 0x13;
  u[1] = 0x88;
  u[2] = dport >> 8;
  u[3] = dport & 255;
  u[5] = u.length;
  u.fill(mark, 8);
  return ipv4(a, b, 17, u, mark);
}

function icmpEcho(a: Member, b: Member, mark: number): Uint8Array {
  const e = new Uint8Array(8 + 32);
  e[0] = 8;
  e[7] = mark;
  return ipv4(a, b, 1, e, mark);
}

const marked = (mark: number) => (f: Uint8Array) =>
  ethType(f, 0) === ETHERTYPE_IPV4 && f[14 + 4] === mark;

Deno.test("sim rules: base drop/accept both ends, capability ssh, tag-equal, TEE and REDIRECT copies, counters", () => {
  const sim = new Sim(77);
  const root = new SimNode(sim, sim.host(ROOT_IP), IDS[0], PLANET);
  const ctlNode = new SimNode(sim, sim.host("81.0.0.1"), IDS[1], PLANET);
  const nodes = [2, 3, 4, 5].map((i) => new SimNode(sim, sim.host(`8${i}.0.0.1`), IDS[i], PLANET));
  assert.ok(sim.clock.runUntilTrue(() => nodes.every((n) => n.node.online()), 20_000));

  // the root keeps the multicast directory through its core's Networks + Frames
  assert.ok(root.core.frames);
  const { ctl } = attachController(ctlNode, IDS[1]);

  const [a, b, c, d] = nodes.map((n) => new Member(sim, n));
  const created = ctl.postNetwork(`${ctlNode.addr}______`, {
    ...managedNetworkBody("rules-net", 20),
    rulesSource: rulesSource(d.sn.addr),
  });
  assert.ok(created.ok, JSON.stringify(created));
  const net = created.value as Record<string, unknown>;
  assert.ok(Array.isArray(net.rules) && net.rules.length > 10, "rulesSource compiled");
  const nwidHex = String(net.id);
  const nwid = BigInt("0x" + nwidHex);
  const member = (m: Member, body: Record<string, unknown>) =>
    assert.ok(ctl.postMember(nwidHex, m.sn.addr, { authorized: true, ...body }).ok);
  member(a, { capabilities: [SSH_CAP], tags: [[TEAM, 1]] });
  member(b, { tags: [[TEAM, 1]] });
  member(c, { tags: [[TEAM, 2]] });
  member(d, {});
  for (const m of [a, b, c, d]) {
    m.nwid = nwid;
    m.networks.join(sim.now, nwid);
  }
  assert.ok(
    sim.clock.runUntilTrue(() => [a, b, c, d].every((m) => m.ip !== 0), 15_000),
    "members configured",
  );
  const cfgA = a.networks.get(nwid)!.config!;
  assert.deepEqual(cfgA.capabilities.map((x) => x.id), [SSH_CAP], "a holds the ssh capability");
  assert.deepEqual(cfgA.tags.map((t) => [t.id, t.value]), [[TEAM, 1]]);
  assert.equal(c.networks.get(nwid)!.config!.capabilities.length, 0);
  sim.clock.runFor(1000);

  // ---- (a) ICMP allowed both ways; telnet dropped at the sender and, from a rogue, at the receiver
  let mark = 1;
  for (const [x, y] of [[a, b], [b, c], [c, a], [d, a]] as const) {
    const m = mark++;
    assert.ok(x.send(icmpEcho(x, y, m)), "ping sent");
    assert.ok(
      sim.clock.runUntilTrue(() => x.got((f) => marked(m)(f) && f[34] === 0) === 1, 5_000),
      "echo reply",
    );
  }
  const txDropA = a.rules.counters.get(nwid).txDropped;
  const m23 = mark++;
  assert.equal(a.send(tcp(a, b, 23, 0x02, m23)), false, "telnet dropped outbound at a");
  assert.equal(a.rules.counters.get(nwid).txDropped, txDropA + 1);
  assert.equal(a.rules.last?.result?.decidedBy.rule?.kind, "drop");
  const rxDropB = b.rules.counters.get(nwid).rxDropped;
  const filterDropsB = b.frames.counters.drops.filter;
  a.sendRaw(b, tcp(a, b, 23, 0x02, m23));
  sim.clock.runFor(500);
  assert.equal(b.got(marked(m23)), 0, "telnet from a rogue sender dropped inbound at b");
  assert.equal(b.rules.counters.get(nwid).rxDropped, rxDropB + 1);
  assert.equal(b.frames.counters.drops.filter, filterDropsB + 1);
  // the same raw path delivers what the rules allow (the drop above is the rules, not the path)
  const mIcmp = mark++;
  a.sendRaw(b, icmpEcho(a, b, mIcmp));
  sim.clock.runFor(500);
  assert.equal(b.got(marked(mIcmp)), 1);

  // ---- (b) ssh (tcp/22) only with the capability: a can, c cannot (outbound or rogue)
  const mSshA = mark++;
  assert.ok(a.send(tcp(a, b, 22, 0x02, mSshA)), "a's SYN to 22 leaves through its capability");
  assert.equal(a.rules.last?.result?.decidedBy.list, "capability");
  sim.clock.runFor(500);
  assert.equal(b.got(marked(mSshA)), 1, "b accepts a's SYN by the capability a presented");
  assert.equal(b.rules.last?.result?.decidedBy.capabilityId, SSH_CAP);
  const mAck = mark++;
  assert.ok(b.send(tcp(b, a, 40000, 0x12, mAck)), "SYN-ACK back (chr tcp_ack)");
  sim.clock.runFor(500);
  assert.equal(a.got(marked(mAck)), 1);
  const mSshC = mark++;
  assert.equal(c.send(tcp(c, b, 22, 0x02, mSshC)), false, "c has no capability: dropped at c");
  c.sendRaw(b, tcp(c, b, 22, 0x02, mSshC));
  sim.clock.runFor(500);
  assert.equal(b.got(marked(mSshC)), 0, "c's raw SYN dropped at b");
  assert.equal(b.rules.last?.result?.action, "drop");

  // ---- (c) tag-equal: a and b (team 1) exchange udp/5000; c (team 2) and d (no tag) cannot
  const mAB = mark++;
  assert.ok(a.send(udp(a, b, 5000, mAB)));
  sim.clock.runFor(500);
  assert.equal(b.got(marked(mAB)), 1, "same team delivered");
  const mBA = mark++;
  assert.ok(b.send(udp(b, a, 5000, mBA)));
  sim.clock.runFor(500);
  assert.equal(a.got(marked(mBA)), 1);
  const mCB = mark++;
  // b's team is known to c (b talked to c above): c's own rules drop it; a rogue c is dropped at b
  assert.equal(c.send(udp(c, b, 5000, mCB)), false, "team 2 → team 1 dropped at c");
  c.sendRaw(b, udp(c, b, 5000, mCB));
  const mDA = mark++;
  assert.equal(d.send(udp(d, a, 5000, mDA)), false, "d has no team tag: hard no at d");
  d.sendRaw(a, udp(d, a, 5000, mDA));
  sim.clock.runFor(500);
  assert.equal(b.got(marked(mCB)), 0, "other team dropped at b");
  assert.equal(a.got(marked(mDA)), 0, "untagged sender dropped at a");

  // ---- (d) TEE: b gets the frame, d gets copies from a (outbound, 0x02) and b (inbound, 0x08)
  const mTee = mark++;
  const extBefore = d.ext.length;
  assert.ok(a.send(udp(a, b, 7000, mTee)));
  sim.clock.runFor(500);
  assert.equal(b.got(marked(mTee)), 1, "tee'd frame still delivered to b");
  const teeCopies = d.ext.slice(extBefore).filter((e) => e.to === b.mac);
  assert.deepEqual(
    teeCopies.map((e) => [e.from, e.flags]).sort((x, y) => x[1] - y[1]),
    [[a.addr, 0x02], [b.addr, 0x08]],
    "TEE copies at d",
  );
  const atD = d.tap.filter(marked(mTee));
  assert.equal(atD.length, 2, "d's inbound rules super-accept copies addressed to it");
  for (const f of atD) {
    assert.equal(ethDst(f, 0), b.mac);
    assert.equal(ethSrc(f, 0), a.mac);
    assert.equal(f.length, udp(a, b, 7000, mTee).length, "whole frame (tee length 0)");
  }

  // REDIRECT: only d gets it (flags 0x04); b never does
  const mRed = mark++;
  const ext2 = d.ext.length;
  assert.equal(a.send(udp(a, b, 7001, mRed)), false, "redirected: the original is not sent");
  assert.equal(a.rules.last?.result?.action, "redirect");
  sim.clock.runFor(500);
  assert.equal(b.got(marked(mRed)), 0, "the original destination does not get it");
  assert.deepEqual(d.ext.slice(ext2).map((e) => [e.from, e.flags, e.to]), [[a.addr, 0x04, b.mac]]);
  assert.equal(d.got(marked(mRed)), 1, "d delivers the redirected frame");

  // counters saw both directions
  const ca = a.rules.counters.get(nwid);
  assert.ok(ca.txAccepted > 0 && ca.rxAccepted > 0 && ca.txDropped >= 1, JSON.stringify(ca));
  for (const n of [root, ctlNode, ...nodes]) n.stop();
});
