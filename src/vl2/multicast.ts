// Multicast (spec §4.9, §4.13, §4.14, §5.3, §9.9): our groups, LIKE announcements, member DB, GATHER, sender-side replication.
import { Address } from "../vl1/address.ts";
import { MAX_PACKET_LENGTH, Verb } from "../vl1/packet.ts";
import { comDeserialize, comSerialize } from "./credentials/com.ts";
import {
  decodeMulticastGather,
  decodeMulticastLike,
  decodeOkMulticastFrame,
  decodeOkMulticastGather,
  encodeMulticastGather,
  encodeOkMulticastGather,
  type GatherResults,
  MULTICAST_FRAME_FLAG_GATHER,
  MULTICAST_FRAME_FLAG_REPLICATE,
  MULTICAST_FRAME_FLAG_SOURCE_MAC,
  MULTICAST_LIKE_ENTRY_LENGTH,
} from "../vl1/verbs/multicast.ts";
import { writeMac, writeU16, writeU32, writeU64 } from "../vl1/verbs/wire.ts";
import type {
  DataPlaneNetwork,
  DataPlaneNetworks,
  DataPlaneNode,
  FilterFrame,
  PacketInfo,
} from "./frames.ts";
import { BROADCAST_MAC, ndMulticastMac } from "./mac.ts";
import { SubscriptionLedger, type SubscriptionLimits } from "./multicast_ledger.ts";
import {
  NETCONF_FLAG_DISABLE_COMPRESSION,
  NETCONF_FLAG_ENABLE_BROADCAST,
  type NetworkConfig,
  SPECIALIST_ACTIVE_BRIDGE,
  SPECIALIST_ANCHOR,
  SPECIALIST_MULTICAST_REPLICATOR,
  specialistAddress,
} from "./network_config.ts";
import { LastHitMap } from "../util/last_hit_map.ts";

/** A multicast group (spec §5.3): group MAC (48-bit) and ADI (32-bit). */
export interface MulticastGroup {
  /** Group MAC. */
  mac: number;
  /** Additional distinguishing information (an IPv4 address as u32 for ARP groups, else 0). */
  adi: number;
}

/** LIKE lifetime (ZT_MULTICAST_LIKE_EXPIRE). */
export const MULTICAST_LIKE_EXPIRE = 600_000;
/** Re-announce period (ZT_MULTICAST_ANNOUNCE_PERIOD), also the per-member LIKE spacing. */
export const MULTICAST_ANNOUNCE_PERIOD = 60_000;
/** Minimum spacing of explicit GATHERs per group (ZT_MULTICAST_EXPLICIT_GATHER_DELAY). */
export const MULTICAST_EXPLICIT_GATHER_DELAY = 60_000;
/** How long an outbound multicast waits for more members (ZT_MULTICAST_TRANSMIT_TIMEOUT). */
export const MULTICAST_TRANSMIT_TIMEOUT = 5_000;
/** A member that passed the gate this recently still gets our periodic LIKEs. */
export const MULTICAST_MEMBER_ACTIVITY = 500_000;
/** Most anchors/replicators an explicit GATHER goes to. */
export const MULTICAST_GATHER_MAX_SPECIALISTS = 16;
/** LIKE entries per packet: split before the maximum packet length. */
export const MULTICAST_LIKES_PER_PACKET = Math.floor(
  (MAX_PACKET_LENGTH - 28) /
    MULTICAST_LIKE_ENTRY_LENGTH,
);
/** Most addresses in one gather reply (the 16-bit count and the packet size both bound it). */
export const MULTICAST_GATHER_MAX_RESULTS = Math.min(
  0xffff,
  Math.floor((MAX_PACKET_LENGTH - 28 - 9 - 8 - 6 - 4 - 1 - 4 - 2) / 5),
);
/**
 * Most members remembered per group. Learned subscriptions as a whole are bounded by the
 * {@link SubscriptionLedger} caps (per member and in total), which also bound the groups and
 * networks they create: a group or network with no member left is dropped.
 */
export const MULTICAST_MAX_MEMBERS_PER_GROUP = 16_384;
/** Most outbound multicasts waiting per group. */
export const MULTICAST_MAX_PENDING_PER_GROUP = 8;

/** Outbound filter used per recipient (the rules engine hook; see frames.ts). */
export type MulticastOutboundFilter = (f: FilterFrame) => boolean;

/** Construction options of a {@link Multicaster}. */
export interface MulticasterOptions {
  /** The VL1 node. */
  node: DataPlaneNode;
  /** Joined networks. */
  networks: DataPlaneNetworks;
  /** Random source (recipient permutations, gather subsets). */
  random: (n: number) => Uint8Array;
  /** Per-recipient outbound filter (default accept). */
  filterOutbound?: MulticastOutboundFilter;
  /** Whether our in-process controller recently authorized `peer` on `nwid` (optional). */
  controllerAuthorized?: (now: number, nwid: bigint, peer: number) => boolean;
  /** Caps of the learned subscriptions (defaults: 1,024 per member, 65,536 in total). */
  limits?: SubscriptionLimits;
}

interface PendingMulticast {
  /** Encoded MULTICAST_FRAME payload (a copy). */
  packet: Uint8Array;
  /** Offsets of the Ethernet payload inside `packet`. */
  payloadStart: number;
  srcMac: number;
  etherType: number;
  sentTo: Set<number>;
  exclude: number;
  limit: number;
  expires: number;
}

/**
 * Shared empty lists for state made on demand (a root tracks many networks it never joined):
 * never mutated, replaced by a fresh array before the first push.
 */
const NO_PENDING: PendingMulticast[] = [];
const NO_GROUPS: MulticastGroup[] = [];

interface GroupState {
  /** Where it lives (to drop it once empty). */
  nwid: bigint;
  mac: number;
  adi: number;
  /** member address -> last LIKE / gather time. */
  members: Map<number, number>;
  lastExplicitGather: number;
  pending: PendingMulticast[];
}

interface NetState {
  /** group MAC -> ADI -> state. */
  groups: Map<number, Map<number, GroupState>>;
  groupCount: number;
  /** Extra groups reported by the tap. */
  extra: MulticastGroup[];
  /** Our groups as last announced (sorted, deduplicated). */
  announced: MulticastGroup[];
  announcedConfig: NetworkConfig | undefined;
  extraChanged: boolean;
  lastUpstreamAnnounce: number;
  /**
   * member address -> when it last passed our gate and when we last sent it our LIKEs (made on
   * first use: networks we only relay LIKEs for never need it).
   */
  gated: Map<number, { passed: number; liked: number }> | undefined;
}

/** Our groups on a network (spec §5.3, §9.9): broadcast if enabled, ARP/ND groups of our IPs, the tap's. */
export function deriveGroups(
  config: NetworkConfig | undefined,
  extra: readonly MulticastGroup[],
): MulticastGroup[] {
  const out: MulticastGroup[] = [];
  if (config) {
    if (config.flags & NETCONF_FLAG_ENABLE_BROADCAST) out.push({ mac: BROADCAST_MAC, adi: 0 });
    for (const ip of config.staticIps) {
      const b = ip.ip;
      if (ip.family === 4) {
        out.push({
          mac: BROADCAST_MAC,
          adi: ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0,
        });
      } else out.push({ mac: ndMulticastMac(b), adi: 0 });
    }
  }
  for (const g of extra) out.push({ mac: g.mac, adi: g.adi >>> 0 });
  out.sort((a, b) => a.mac - b.mac || a.adi - b.adi);
  const dedup: MulticastGroup[] = [];
  for (const g of out) {
    const last = dedup[dedup.length - 1];
    if (!last || last.mac !== g.mac || last.adi !== g.adi) dedup.push(g);
  }
  return dedup;
}

/** Addresses of the specialists in `config` holding `role` (excluding `except`). */
export function specialistsWith(
  config: NetworkConfig | undefined,
  role: bigint,
  except = -1,
): number[] {
  const out: number[] = [];
  if (!config) return out;
  for (const s of config.specialists) {
    if ((s & role) === 0n) continue;
    const a = specialistAddress(s);
    if (a !== except && !out.includes(a)) out.push(a);
  }
  return out;
}

/** Whether `address` holds `role` in `config`'s specialist list. */
export function isSpecialist(
  config: NetworkConfig | undefined,
  address: number,
  role: bigint,
): boolean {
  if (!config) return false;
  for (const s of config.specialists) {
    if ((s & role) !== 0n && specialistAddress(s) === address) return true;
  }
  return false;
}

/**
 * Multicast state of a node: our subscriptions and their announcement, the learned member
 * database, GATHER handling and sender-side replication of MULTICAST_FRAMEs. Pure state driven
 * by the frame layer ({@link Frames}); no I/O beyond `node.sendPacket`.
 */
export class Multicaster {
  readonly #node: DataPlaneNode;
  readonly #networks: DataPlaneNetworks;
  readonly #random: (n: number) => Uint8Array;
  readonly #filter: MulticastOutboundFilter;
  readonly #authorized: (now: number, nwid: bigint, peer: number) => boolean;
  readonly #state = new LastHitMap<bigint, NetState>();
  readonly #ledger: SubscriptionLedger<GroupState>;
  readonly #addrs = new Map<number, Address>();
  /** Reused buffer for building MULTICAST_FRAME payloads. */
  readonly #buf = new Uint8Array(MAX_PACKET_LENGTH);
  #lastExpire = -Infinity;

  /** A multicaster over `opts.node` and `opts.networks`. */
  constructor(opts: MulticasterOptions) {
    this.#node = opts.node;
    this.#networks = opts.networks;
    this.#random = opts.random;
    this.#filter = opts.filterOutbound ?? (() => true);
    this.#authorized = opts.controllerAuthorized ?? (() => false);
    this.#ledger = new SubscriptionLedger(opts.limits);
  }

  // ---- subscriptions ---------------------------------------------------------------------------

  /** The tap's current multicast groups for `nwid` (replaces the previous set; announced next tick). */
  groupsChanged(nwid: bigint, groups: readonly MulticastGroup[]): void {
    const st = this.#net(nwid);
    if (!st) return;
    st.extra = groups.map((g) => ({ mac: g.mac, adi: g.adi >>> 0 }));
    st.extraChanged = true;
  }

  /** Our groups on `net` now (derived from its config plus the tap's). */
  ourGroups(net: DataPlaneNetwork): MulticastGroup[] {
    const st = this.#state.get(net.id);
    return deriveGroups(net.config, st ? st.extra : []);
  }

  /** Whether we are subscribed to (mac, adi) on `net`. */
  subscribed(net: DataPlaneNetwork, mac: number, adi: number): boolean {
    const st = this.#state.get(net.id);
    const list = st && st.announcedConfig === net.config && !st.extraChanged
      ? st.announced
      : this.ourGroups(net);
    for (const g of list) if (g.mac === mac && g.adi === adi) return true;
    return false;
  }

  // ---- member database -------------------------------------------------------------------------

  /**
   * Records `member` as subscribed to (mac, adi) on `nwid` at `now` (LIKE, gather results).
   * Pending outbound multicasts of that group are sent to it. Ourselves are never recorded.
   */
  add(now: number, nwid: bigint, mac: number, adi: number, member: number): void {
    if (member === this.#node.address.value || member === 0) return;
    let g = this.#group(nwid, mac, adi, false);
    if (g?.members.has(member)) {
      g.members.set(member, now);
      this.#ledger.touch(member, g);
      return;
    }
    if (g && g.members.size >= MULTICAST_MAX_MEMBERS_PER_GROUP) return;
    const v = this.#ledger.victim(member);
    if (v) this.#drop(v.group, v.peer);
    g = this.#group(nwid, mac, adi, true); // again: dropping may have removed it
    if (!g) return;
    g.members.set(member, now);
    this.#ledger.added(member, g);
    if (g.pending.length > 0) this.#sendPendingTo(now, nwid, g, member);
  }

  /** Known members of (mac, adi) on `nwid` (unexpired as of the last expiry pass). */
  members(nwid: bigint, mac: number, adi: number): number[] {
    const g = this.#group(nwid, mac, adi, false);
    return g ? [...g.members.keys()] : [];
  }

  /**
   * Up to `limit` members of the group as gather results (spec §4.13): a random subset of the
   * known members plus ourselves if subscribed, never `exclude`. Undefined if nothing to report.
   */
  gather(
    nwid: bigint,
    mac: number,
    adi: number,
    exclude: number,
    limit: number,
  ): GatherResults | undefined {
    limit = Math.min(limit, MULTICAST_GATHER_MAX_RESULTS);
    if (limit <= 0) return undefined;
    const g = this.#group(nwid, mac, adi, false);
    const cands: number[] = [];
    if (g) { for (const a of g.members.keys()) if (a !== exclude) cands.push(a); }
    const net = this.#networks.get(nwid);
    const me = this.#node.address.value;
    if (net && me !== exclude && this.subscribed(net, mac, adi)) cands.push(me);
    if (cands.length === 0) return undefined;
    this.#shuffle(cands);
    const n = Math.min(limit, cands.length);
    const members: Address[] = [];
    for (let i = 0; i < n; i++) members.push(this.#addr(cands[i]));
    return { totalKnown: cands.length, members };
  }

  // ---- inbound verbs ---------------------------------------------------------------------------

  /** MULTICAST_LIKE (spec §4.9): learn subscriptions the sender may announce. */
  handleLike(now: number, source: Address, payload: Uint8Array): void {
    const like = decodeMulticastLike(payload);
    if (!like) return;
    let lastNwid: bigint | undefined;
    let allowed = false;
    for (const e of like.groups) {
      if (e.networkId !== lastNwid) {
        lastNwid = e.networkId;
        const net = this.#networks.get(e.networkId);
        const gated = net !== undefined && net.gate(now, source.value);
        if (gated) this.gatePassed(now, net!, source.value);
        allowed = gated || this.#node.isRoot() ||
          this.#authorized(now, e.networkId, source.value);
      }
      if (allowed) this.add(now, e.networkId, e.mac, e.adi >>> 0, source.value);
    }
  }

  /** MULTICAST_GATHER (spec §4.13): answer with a random subset of the group's members. */
  handleGather(now: number, source: Address, payload: Uint8Array, info: PacketInfo): void {
    const g = decodeMulticastGather(payload);
    if (!g || g.gatherLimit === 0) return;
    const net = this.#networks.get(g.networkId);
    if (net && g.com && net.addCom) {
      const c = comDeserialize(g.com)?.com;
      if (c) net.addCom(now, c);
    }
    const gated = net !== undefined && net.gate(now, source.value);
    if (gated) this.gatePassed(now, net!, source.value);
    if (!gated && !this.#node.isRoot() && !this.#authorized(now, g.networkId, source.value)) {
      return;
    }
    const r = this.gather(g.networkId, g.mac, g.adi, source.value, g.gatherLimit);
    if (!r) return;
    const ok = encodeOkMulticastGather({
      inRePacketId: info.packetId,
      networkId: g.networkId,
      mac: g.mac,
      adi: g.adi,
      ...r,
    });
    this.#node.sendPacket(now, source, Verb.OK, ok, { compress: true, encrypt: true });
  }

  /** OK(MULTICAST_GATHER) or OK(MULTICAST_FRAME): learn the gathered members. True if one. */
  handleOk(now: number, inReVerb: number, payload: Uint8Array): boolean {
    if (inReVerb === Verb.MULTICAST_GATHER) {
      const o = decodeOkMulticastGather(payload);
      if (!o) return true;
      for (const a of o.members) this.add(now, o.networkId, o.mac, o.adi, a.value);
      return true;
    }
    if (inReVerb === Verb.MULTICAST_FRAME) {
      const o = decodeOkMulticastFrame(payload);
      if (!o) return true;
      const net = this.#networks.get(o.networkId);
      if (net && o.com && net.addCom) {
        const c = comDeserialize(o.com)?.com;
        if (c) net.addCom(now, c);
      }
      if (o.gather) {
        for (const a of o.gather.members) this.add(now, o.networkId, o.mac, o.adi, a.value);
      }
      return true;
    }
    return false;
  }

  // ---- announcements ---------------------------------------------------------------------------

  /**
   * `peer` passed our gate on `net` (spec §8.6): it gets our LIKEs now if we have not sent
   * them to it within the announce period.
   */
  gatePassed(now: number, net: DataPlaneNetwork, peer: number): void {
    const st = this.#net(net.id);
    if (!st) return;
    const gated = st.gated ??= new Map();
    let e = gated.get(peer);
    if (!e) {
      if (gated.size >= MULTICAST_MAX_MEMBERS_PER_GROUP) return;
      e = { passed: now, liked: -Infinity };
      gated.set(peer, e);
    }
    e.passed = now;
    if (now - e.liked >= MULTICAST_ANNOUNCE_PERIOD) {
      e.liked = now;
      this.#sendLikes(now, net, peer, this.ourGroups(net));
    }
  }

  /** The addresses our LIKEs always go to: controller, roots, anchors and replicators. */
  upstreamTargets(net: DataPlaneNetwork): number[] {
    const me = this.#node.address.value;
    const out: number[] = [];
    const add = (a: number) => {
      if (a !== me && a !== 0 && !out.includes(a)) out.push(a);
    };
    add(net.controller);
    for (const a of this.#roots()) add(a);
    for (const a of specialistsWith(net.config, SPECIALIST_ANCHOR)) add(a);
    for (const a of specialistsWith(net.config, SPECIALIST_MULTICAST_REPLICATOR)) add(a);
    return out;
  }

  // ---- sending ---------------------------------------------------------------------------------

  /**
   * Sends an Ethernet multicast (spec §9.9) on `net` to group (mac, adi): via a designated
   * replicator if there is one (and we are neither one nor an active bridge), else to the
   * active bridges and a random permutation of known members up to the multicast limit,
   * gathering more members if too few are known and keeping the frame 5 s for them. The frame
   * carries an implicit gather limit: (limit - known + 1) when too few are known, else 1.
   * `origin` (non-zero when re-multicasting for a replicated frame) is never a recipient.
   * Returns the number of recipients sent to now.
   */
  send(
    now: number,
    net: DataPlaneNetwork,
    mac: number,
    adi: number,
    srcMac: number,
    etherType: number,
    payload: Uint8Array,
    start: number,
    end: number,
    origin = 0,
  ): number {
    const nc = net.config;
    if (!nc || nc.multicastLimit <= 0) return 0;
    const len = end - start;
    if (len < 0 || len > MAX_PACKET_LENGTH - 28 - 40) return 0;
    const me = this.#node.address.value;
    const limit = nc.multicastLimit;
    const ourMac = net.mac;
    const amBridge = isSpecialist(nc, me, SPECIALIST_ACTIVE_BRIDGE);
    const replicators = specialistsWith(nc, SPECIALIST_MULTICAST_REPLICATOR, me);
    const amReplicator = isSpecialist(nc, me, SPECIALIST_MULTICAST_REPLICATOR);
    const buf = this.#buf;
    const compress = (nc.flags & NETCONF_FLAG_DISABLE_COMPRESSION) === 0;

    if (replicators.length > 0 && !amReplicator && !amBridge && origin === 0) {
      const r = this.#bestOf(replicators);
      const off = this.#encode(
        buf,
        net.id,
        MULTICAST_FRAME_FLAG_REPLICATE,
        undefined,
        srcMac,
        mac,
        adi,
        etherType,
      );
      buf.set(payload.subarray(start, end), off);
      const f = { net, peer: r, srcMac, dstMac: mac, etherType, payload, start, end, now };
      if (!this.#filter(f)) return 0;
      net.pushCredentials(now, r);
      this.#node.sendPacket(now, this.#addr(r), Verb.MULTICAST_FRAME, buf.subarray(0, off + len), {
        compress,
        encrypt: true,
      });
      return 1;
    }

    const g = this.#group(net.id, mac, adi, true);
    const known = g ? g.members.size : 0;
    const wantGather = known < limit;
    // too few known: ask recipients for the missing ones (+1); else still a little, to stay fresh
    const gatherLimit = wantGather ? limit - known + 1 : 1;
    // receivers imply MAC(sender); anything else (bridged, re-multicast) is sent explicitly
    const explicitSrc = srcMac !== ourMac ? srcMac : undefined;
    const off = this.#encode(buf, net.id, 0, gatherLimit, explicitSrc, mac, adi, etherType);
    buf.set(payload.subarray(start, end), off);
    const pkt = buf.subarray(0, off + len);
    const sentTo = new Set<number>();
    const sendTo = (a: number) => {
      if (a === me || a === origin || sentTo.has(a) || sentTo.size >= limit) return;
      sentTo.add(a);
      const f = { net, peer: a, srcMac, dstMac: mac, etherType, payload, start, end, now };
      if (!this.#filter(f)) return;
      net.pushCredentials(now, a);
      this.#node.sendPacket(now, this.#addr(a), Verb.MULTICAST_FRAME, pkt, {
        compress,
        encrypt: true,
      });
    };
    for (const b of specialistsWith(nc, SPECIALIST_ACTIVE_BRIDGE, me)) sendTo(b);
    if (g && g.members.size > 0) {
      const list = [...g.members.keys()];
      this.#shuffle(list);
      for (const a of list) {
        if (sentTo.size >= limit) break;
        sendTo(a);
      }
    }
    if (wantGather && g) {
      if (known === 0 || now - g.lastExplicitGather >= MULTICAST_EXPLICIT_GATHER_DELAY) {
        g.lastExplicitGather = now;
        this.#explicitGather(now, net, mac, adi, limit - known + 1);
      }
      if (g.pending === NO_PENDING) g.pending = [];
      if (g.pending.length >= MULTICAST_MAX_PENDING_PER_GROUP) g.pending.shift();
      g.pending.push({
        packet: pkt.slice(),
        payloadStart: off,
        srcMac,
        etherType,
        sentTo,
        exclude: origin,
        limit,
        expires: now + MULTICAST_TRANSMIT_TIMEOUT,
      });
    }
    return sentTo.size;
  }

  // ---- periodic --------------------------------------------------------------------------------

  /**
   * Periodic work: announce our groups to upstreams (controller, roots, anchors, replicators)
   * every 60 s or when they change, and to recently gated members every 60 s; expire LIKEs
   * (600 s) and pending multicasts (5 s).
   */
  tick(now: number): void {
    for (const net of this.#networks.list()) this.#announce(now, net);
    this.#expire(now);
  }

  /**
   * Announces `net`'s groups now if they changed (config applied, tap groups), instead of at
   * the next tick; the member side or service calls it when a network's config changes.
   */
  networkChanged(now: number, net: DataPlaneNetwork): void {
    this.#announce(now, net);
  }

  #announce(now: number, net: DataPlaneNetwork): void {
    if (!net.config) return;
    const st = this.#net(net.id);
    if (!st) return;
    const changed = st.extraChanged || st.announcedConfig !== net.config;
    let groups = st.announced;
    let added = false;
    if (changed) {
      groups = deriveGroups(net.config, st.extra);
      added = groups.some((g) => !st.announced.some((o) => o.mac === g.mac && o.adi === g.adi));
      st.announced = groups;
      st.announcedConfig = net.config;
      st.extraChanged = false;
    }
    if (added || now - st.lastUpstreamAnnounce >= MULTICAST_ANNOUNCE_PERIOD) {
      st.lastUpstreamAnnounce = now;
      for (const a of this.upstreamTargets(net)) this.#sendLikes(now, net, a, groups);
    }
    if (!st.gated) return;
    for (const [peer, e] of st.gated) {
      if (now - e.passed > MULTICAST_MEMBER_ACTIVITY) {
        st.gated.delete(peer);
        continue;
      }
      if (added || now - e.liked >= MULTICAST_ANNOUNCE_PERIOD) {
        e.liked = now;
        this.#sendLikes(now, net, peer, groups);
      }
    }
  }

  /** Counts for memory-bound checks: networks, groups, members, pending multicasts. */
  stats(): { networks: number; groups: number; members: number; pending: number } {
    let groups = 0, members = 0, pending = 0;
    for (const st of this.#state.values()) {
      for (const m of st.groups.values()) {
        for (const g of m.values()) {
          groups++;
          members += g.members.size;
          pending += g.pending.length;
        }
      }
    }
    return { networks: this.#state.size, groups, members, pending };
  }

  /**
   * Table sizes without a walk (for metrics): learned subscriptions, members holding some,
   * the most one member holds, subscriptions evicted to stay within the caps, networks tracked.
   */
  tableStats(): {
    subscriptions: number;
    subscribers: number;
    largest: number;
    evicted: number;
    networks: number;
  } {
    const l = this.#ledger;
    return {
      subscriptions: l.size,
      subscribers: l.peers,
      largest: l.largest,
      evicted: l.evicted,
      networks: this.#state.size,
    };
  }

  // ---- private ---------------------------------------------------------------------------------

  #net(nwid: bigint): NetState | undefined {
    let st = this.#state.get(nwid);
    if (st) return st;
    st = {
      groups: new Map(),
      groupCount: 0,
      extra: NO_GROUPS,
      announced: NO_GROUPS,
      announcedConfig: undefined,
      extraChanged: false,
      lastUpstreamAnnounce: -Infinity,
      gated: undefined,
    };
    this.#state.set(nwid, st);
    return st;
  }

  #group(nwid: bigint, mac: number, adi: number, create: boolean): GroupState | undefined {
    const st = create ? this.#net(nwid) : this.#state.get(nwid);
    if (!st) return undefined;
    let byAdi = st.groups.get(mac);
    let g = byAdi?.get(adi);
    if (g || !create) return g;
    if (!byAdi) {
      byAdi = new Map();
      st.groups.set(mac, byAdi);
    }
    g = { nwid, mac, adi, members: new Map(), lastExplicitGather: -Infinity, pending: NO_PENDING };
    byAdi.set(adi, g);
    st.groupCount++;
    return g;
  }

  /** Forgets `member` in `g`; drops `g` once unused, and its network's state once empty. */
  #drop(g: GroupState, member: number): void {
    if (g.members.delete(member)) this.#ledger.removed(member, g);
    if (g.members.size > 0 || g.pending.length > 0) return;
    const st = this.#state.get(g.nwid);
    const byAdi = st?.groups.get(g.mac);
    if (!st || !byAdi || byAdi.get(g.adi) !== g) return;
    byAdi.delete(g.adi);
    st.groupCount--;
    if (byAdi.size === 0) st.groups.delete(g.mac);
    this.#dropNetIfIdle(g.nwid, st);
  }

  /** Drops the state of a network we have not joined once nothing in it is left. */
  #dropNetIfIdle(nwid: bigint, st: NetState): void {
    if (st.groups.size > 0 || (st.gated?.size ?? 0) > 0 || st.extra.length > 0) return;
    if (this.#networks.get(nwid)) return;
    this.#state.delete(nwid);
  }

  #addr(a: number): Address {
    let x = this.#addrs.get(a);
    if (!x) {
      if (this.#addrs.size >= 65_536) this.#addrs.clear();
      x = new Address(a);
      this.#addrs.set(a, x);
    }
    return x;
  }

  /** Fisher-Yates shuffle driven by the node's random source. */
  #shuffle(a: number[]): void {
    const n = a.length;
    if (n < 2) return;
    const r = this.#random(4 * n);
    for (let i = n - 1; i > 0; i--) {
      const v = ((r[4 * i] << 24) | (r[4 * i + 1] << 16) | (r[4 * i + 2] << 8) | r[4 * i + 3]) >>>
        0;
      const j = v % (i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  #roots(): number[] {
    const me = this.#node.address.value;
    const out: number[] = [];
    for (const w of [this.#node.planet(), ...this.#node.moons()]) {
      for (const r of w.roots) {
        const a = r.identity.address.value;
        if (a !== me && !out.includes(a)) out.push(a);
      }
    }
    return out;
  }

  /** The candidate with the lowest known latency (unknown latency sorts last; first wins ties). */
  #bestOf(cands: number[]): number {
    let best = cands[0];
    let bestLat = Infinity;
    for (const a of cands) {
      const p = this.#node.peer(this.#addr(a));
      const lat = p && p.latency >= 0 ? p.latency : Infinity;
      if (lat < bestLat) {
        bestLat = lat;
        best = a;
      }
    }
    return best;
  }

  #encode(
    b: Uint8Array,
    nwid: bigint,
    flags: number,
    gatherLimit: number | undefined,
    src: number | undefined,
    mac: number,
    adi: number,
    etherType: number,
  ): number {
    if (gatherLimit !== undefined) flags |= MULTICAST_FRAME_FLAG_GATHER;
    if (src !== undefined) flags |= MULTICAST_FRAME_FLAG_SOURCE_MAC;
    writeU64(b, 0, nwid);
    b[8] = flags;
    let p = 9;
    if (gatherLimit !== undefined) {
      writeU32(b, p, gatherLimit);
      p += 4;
    }
    if (src !== undefined) {
      writeMac(b, p, src);
      p += 6;
    }
    writeMac(b, p, mac);
    writeU32(b, p + 6, adi);
    writeU16(b, p + 10, etherType);
    return p + 12;
  }

  #explicitGather(now: number, net: DataPlaneNetwork, mac: number, adi: number, limit: number) {
    const nc = net.config;
    const me = this.#node.address.value;
    const payload = encodeMulticastGather({
      networkId: net.id,
      flags: 0,
      mac,
      adi,
      gatherLimit: limit,
      com: nc?.com ? comSerialize(nc.com) : undefined,
    });
    const targets: number[] = [];
    const add = (a: number) => {
      if (a !== me && a !== 0 && !targets.includes(a)) targets.push(a);
    };
    const roots = this.#roots();
    if (roots.length > 0) add(this.#bestOf(roots));
    add(net.controller);
    const specs = [
      ...specialistsWith(nc, SPECIALIST_ANCHOR, me),
      ...specialistsWith(nc, SPECIALIST_MULTICAST_REPLICATOR, me),
    ];
    for (let i = 0; i < specs.length && i < MULTICAST_GATHER_MAX_SPECIALISTS; i++) add(specs[i]);
    for (const a of targets) {
      this.#node.sendPacket(now, this.#addr(a), Verb.MULTICAST_GATHER, payload, {
        compress: true,
        encrypt: true,
      });
    }
  }

  #sendPendingTo(now: number, nwid: bigint, g: GroupState, member: number): void {
    const net = this.#networks.get(nwid);
    if (!net) return;
    for (const p of g.pending) {
      if (p.expires < now || p.sentTo.has(member) || p.sentTo.size >= p.limit) continue;
      if (member === p.exclude) continue;
      p.sentTo.add(member);
      const dstMac = macOf(p.packet, p.payloadStart);
      if (
        !this.#filter({
          net,
          peer: member,
          srcMac: p.srcMac,
          dstMac,
          etherType: p.etherType,
          payload: p.packet,
          start: p.payloadStart,
          end: p.packet.length,
          now,
        })
      ) continue;
      net.pushCredentials(now, member);
      this.#node.sendPacket(now, this.#addr(member), Verb.MULTICAST_FRAME, p.packet, {
        compress: ((net.config?.flags ?? 0) & NETCONF_FLAG_DISABLE_COMPRESSION) === 0,
        encrypt: true,
      });
    }
  }

  #sendLikes(now: number, net: DataPlaneNetwork, to: number, groups: MulticastGroup[]): void {
    if (groups.length === 0 || to === this.#node.address.value) return;
    for (let i = 0; i < groups.length; i += MULTICAST_LIKES_PER_PACKET) {
      const n = Math.min(MULTICAST_LIKES_PER_PACKET, groups.length - i);
      const b = new Uint8Array(n * MULTICAST_LIKE_ENTRY_LENGTH);
      for (let k = 0; k < n; k++) {
        const o = k * MULTICAST_LIKE_ENTRY_LENGTH;
        writeU64(b, o, net.id);
        writeMac(b, o + 8, groups[i + k].mac);
        writeU32(b, o + 14, groups[i + k].adi);
      }
      this.#node.sendPacket(now, this.#addr(to), Verb.MULTICAST_LIKE, b, {
        compress: true,
        encrypt: true,
      });
    }
  }

  #expire(now: number): void {
    const fullPass = now - this.#lastExpire >= MULTICAST_ANNOUNCE_PERIOD;
    if (fullPass) this.#lastExpire = now;
    for (const [nwid, st] of this.#state) {
      for (const [mac, byAdi] of st.groups) {
        for (const [adi, g] of byAdi) {
          if (g.pending.length > 0) g.pending = g.pending.filter((p) => p.expires >= now);
          if (fullPass) {
            for (const [a, t] of g.members) {
              if (now - t > MULTICAST_LIKE_EXPIRE) {
                g.members.delete(a);
                this.#ledger.removed(a, g);
              }
            }
          }
          if (
            g.members.size === 0 && g.pending.length === 0 &&
            now - g.lastExplicitGather >= MULTICAST_EXPLICIT_GATHER_DELAY
          ) {
            byAdi.delete(adi);
            st.groupCount--;
          }
        }
        if (byAdi.size === 0) st.groups.delete(mac);
      }
      if (fullPass) this.#dropNetIfIdle(nwid, st);
    }
  }
}

/** The group MAC of an encoded MULTICAST_FRAME whose header ends at `payloadStart`. */
function macOf(packet: Uint8Array, payloadStart: number): number {
  const p = payloadStart - 12;
  return ((packet[p] << 8) | packet[p + 1]) * 0x1_0000_0000 +
    (((packet[p + 2] << 24) | (packet[p + 3] << 16) | (packet[p + 4] << 8) | packet[p + 5]) >>>
      0);
}
