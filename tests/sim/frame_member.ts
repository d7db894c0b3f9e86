// A simulated member with a data plane and a tiny IP stack behind its tap (ARP + ICMP echo), for sim tests.
import assert from "node:assert/strict";
import { Sim } from "../../src/sim/sim.ts";
import type { CoreOptions } from "../../src/core/core.ts";
import type { Identity } from "../../src/vl1/identity.ts";
import type { World } from "../../src/vl1/world.ts";
import { Verb } from "../../src/vl1/packet.ts";
import { encodeFrame } from "../../src/vl1/verbs/frame.ts";
import {
  arpRequestTarget,
  ethDst,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ethSrc,
  ethType,
} from "../../src/vl2/ethernet.ts";
import type { Frames } from "../../src/vl2/frames.ts";
import { BROADCAST_MAC, macFromAddress } from "../../src/vl2/mac.ts";
import type { Networks, NetworksHost } from "../../src/vl2/networks.ts";
import { ethFrame } from "../vl2/data_plane_helpers.ts";
import { attachController, attachDataPlane, managedNetworkBody, SimNode } from "./node_harness.ts";

/** A Networks host that stores nothing. */
export const HOST: NetworksHost = { saveConfig() {}, saveLocalConf() {} };

/** A member: a core's Networks + Frames, with a tiny "IP stack" behind its tap (ARP + echo). */
export class Member {
  readonly networks: Networks;
  readonly frames: Frames;
  /** Every frame written to our tap. */
  readonly tap: Uint8Array[] = [];
  nwid = 0n;
  constructor(readonly sim: Sim, readonly sn: SimNode) {
    ({ networks: this.networks, frames: this.frames } = attachDataPlane(
      sim,
      sn,
      (f) => this.#onTap(f),
    ));
  }

  get mac(): number {
    return macFromAddress(this.sn.node.address.value, this.nwid);
  }

  /** Our managed IPv4 as a u32 (0 until configured). */
  get ip(): number {
    const a = this.networks.get(this.nwid)?.info().assignedAddresses.find((x) => x.family === 4);
    if (!a) return 0;
    return ((a.ip[0] << 24) | (a.ip[1] << 16) | (a.ip[2] << 8) | a.ip[3]) >>> 0;
  }

  /** A frame from our port, through the core (as a port's frames go). */
  send(frame: Uint8Array): boolean {
    return this.sn.core.tapFrame(this.sim.now, this.nwid, frame, 0, frame.length);
  }

  /**
   * Sends Ethernet frame `frame` to member `to` as a FRAME on network `nwid` straight through our
   * node (past our own data plane: no rules, no gate, any network ID).
   */
  sendFrameTo(to: Member, nwid: bigint, frame: Uint8Array): void {
    this.sn.node.sendPacket(
      this.sim.now,
      to.sn.node.address,
      Verb.FRAME,
      encodeFrame({ networkId: nwid, etherType: ethType(frame, 0), payload: frame.subarray(14) }),
    );
  }

  received(pred: (f: Uint8Array) => boolean): Uint8Array[] {
    return this.tap.filter(pred);
  }

  #onTap(f: Uint8Array): void {
    this.tap.push(f);
    const et = ethType(f, 0);
    // answer ARP requests for our IP and IPv4 "echo requests" (proto 1, type 8) — deferred,
    // as a kernel would, so the node finishes the packet first
    if (et === ETHERTYPE_ARP && arpRequestTarget(f, 14, f.length) === this.ip && this.ip) {
      const reply = f.slice(14, 42);
      reply[7] = 2;
      reply.set(f.subarray(22, 32), 18); // target = requester (MAC + IP)
      writeMac(reply, 8, this.mac);
      writeU32(reply, 14, this.ip);
      const frame = ethFrame(ethSrc(f, 0), this.mac, ETHERTYPE_ARP, reply);
      this.sim.clock.after(1, () => this.send(frame));
    } else if (et === ETHERTYPE_IPV4 && ethDst(f, 0) === this.mac && f[14 + 9] === 1) {
      const ip = f.slice(14);
      if (ip[20] !== 8) return;
      ip[20] = 0; // echo reply
      const src = ip.slice(12, 16);
      ip.copyWithin(12, 16, 20);
      ip.set(src, 16);
      const frame = ethFrame(ethSrc(f, 0), this.mac, ETHERTYPE_IPV4, ip);
      this.sim.clock.after(1, () => this.send(frame));
    }
  }
}

/** Writes a 48-bit MAC at `o`. */
export function writeMac(b: Uint8Array, o: number, mac: number): void {
  let v = mac;
  for (let i = 5; i >= 0; i--) {
    b[o + i] = v % 256;
    v = Math.floor(v / 256);
  }
}

/** Writes a big-endian u32 at `o`. */
export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}

/** An ARP request from `from` for `targetIp`, broadcast. */
export function arpRequest(from: Member, targetIp: number): Uint8Array {
  const arp = new Uint8Array(28);
  arp.set([0, 1, 8, 0, 6, 4, 0, 1]);
  writeMac(arp, 8, from.mac);
  writeU32(arp, 14, from.ip);
  writeU32(arp, 24, targetIp);
  return ethFrame(BROADCAST_MAC, from.mac, ETHERTYPE_ARP, arp);
}

/** An IPv4 ICMP echo request from `from` to (`toMac`, `toIp`), sequence `seq`. */
export function echo(
  from: Member,
  toMac: number,
  toIp: number,
  seq: number,
  size = 64,
): Uint8Array {
  const ip = new Uint8Array(20 + 8 + size);
  ip[0] = 0x45;
  ip[2] = ip.length >> 8;
  ip[3] = ip.length & 255;
  ip[8] = 64;
  ip[9] = 1;
  writeU32(ip, 12, from.ip);
  writeU32(ip, 16, toIp);
  ip[20] = 8;
  ip[26] = seq >> 8;
  ip[27] = seq & 255;
  for (let i = 28; i < ip.length; i++) ip[i] = (i * 7 + seq) & 255;
  return ethFrame(toMac, from.mac, ETHERTYPE_IPV4, ip);
}

/** Options of {@link privateNetworkLab}. */
export interface PrivateNetworkLabOptions {
  /** Sim seed. */
  seed: number;
  /** Identities: [0] the root, [1] the controller, [2..] the members. */
  ids: Identity[];
  /** The planet naming ids[0] at `rootIp`. */
  planet: World;
  /** Network name. */
  name: string;
  /** Members (ids[2], ids[3], ...), each at 8<i>.0.0.1. */
  members: number;
  /** How many of them (the first ones) are authorized (default all). */
  authorized?: number;
  /** The network's rules (default the controller's accept-all). */
  rules?: unknown[];
  /** Extra core options of the members' nodes. */
  coreOptions?: Pick<CoreOptions, "rehearsal" | "deferSettle">;
  /** Sim time run once the authorized members are configured, ms (default 1000). */
  settleMs?: number;
  /** Root address (default 80.0.0.1). */
  rootIp?: string;
}

/**
 * A root, a controller and `members` members with a data plane, all online; the controller's
 * private network joined by every member and configured on the authorized ones.
 */
export function privateNetworkLab(
  o: PrivateNetworkLabOptions,
): { sim: Sim; nwid: bigint; members: Member[] } {
  const sim = new Sim(o.seed);
  new SimNode(sim, sim.host(o.rootIp ?? "80.0.0.1"), o.ids[0], o.planet);
  const ctlNode = new SimNode(sim, sim.host("81.0.0.1"), o.ids[1], o.planet);
  const nodes = Array.from(
    { length: o.members },
    (_, k) =>
      new SimNode(
        sim,
        sim.host(`8${k + 2}.0.0.1`),
        o.ids[k + 2],
        o.planet,
        9993,
        undefined,
        o.coreOptions,
      ),
  );
  assert.ok(sim.clock.runUntilTrue(() => nodes.every((n) => n.node.online()), 20_000));
  const { ctl } = attachController(ctlNode, o.ids[1]);
  const body = managedNetworkBody(o.name);
  const created = ctl.postNetwork(
    `${ctlNode.addr}______`,
    o.rules ? { ...body, rules: o.rules } : body,
  );
  assert.ok(created.ok);
  const nwidHex = String(created.value.id);
  const nwid = BigInt("0x" + nwidHex);
  const members = nodes.map((n) => new Member(sim, n));
  const authorized = members.slice(0, o.authorized ?? members.length);
  for (const m of authorized) {
    assert.ok(ctl.postMember(nwidHex, m.sn.addr, { authorized: true }).ok);
  }
  for (const m of members) {
    m.nwid = nwid;
    m.networks.join(sim.now, nwid);
  }
  assert.ok(
    sim.clock.runUntilTrue(() => authorized.every((m) => m.ip !== 0), 15_000),
    "configured",
  );
  sim.clock.runFor(o.settleMs ?? 1000);
  return { sim, nwid, members };
}
