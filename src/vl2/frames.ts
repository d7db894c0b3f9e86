// The VL2 data plane: tap frames out as FRAME/EXT_FRAME/multicast, inbound frames gated, checked and written to the tap (spec §4.6, §4.7, §4.14, §8.6).
import type { SubscriptionLimits } from "./multicast_ledger.ts";
import { Address } from "../vl1/address.ts";
import type { InetAddress } from "../vl1/inet_address.ts";
import type { PeerInfo } from "../vl1/node.ts";
import { ErrorCode, MAX_PACKET_LENGTH, Verb } from "../vl1/packet.ts";
import { encodeError } from "../vl1/verbs/error.ts";
import {
  decodeExtFrame,
  encodeOkExtFrame,
  EXT_FRAME_FLAG_ACK,
  FRAME_HEADER_LENGTH,
  writeExtFrameHeader,
  writeFrameHeader,
} from "../vl1/verbs/frame.ts";
import {
  decodeMulticastFrame,
  encodeOkMulticastFrame,
  MULTICAST_FRAME_FLAG_REPLICATE,
} from "../vl1/verbs/multicast.ts";
import { decodeOk } from "../vl1/verbs/ok.ts";
import type { World } from "../vl1/world.ts";
import { type CertificateOfMembership, comDeserialize } from "./credentials/com.ts";
import {
  arpRequestTarget,
  ethDst,
  ETHERNET_HEADER_LENGTH,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV6,
  ethSrc,
  ethType,
  writeEthernetHeader,
} from "./ethernet.ts";
import {
  BROADCAST_MAC,
  firstOctetForNetwork,
  isMulticastMac,
  macFromAddress,
  macXorMask,
} from "./mac.ts";
import { isSpecialist, Multicaster, type MulticastGroup, specialistsWith } from "./multicast.ts";
import type { Membership } from "./membership.ts";
import { ndpEmulate } from "./ndp_emulation.ts";
import {
  NETCONF_FLAG_ENABLE_BROADCAST,
  NETCONF_FLAG_ENABLE_IPV6_NDP_EMULATION,
  type NetworkConfig,
  SPECIALIST_ACTIVE_BRIDGE,
  SPECIALIST_MULTICAST_REPLICATOR,
} from "./network_config.ts";
import type { FrameHandler, PacketInfo } from "./networks.ts";
import { RulesFilter } from "./rules_filter.ts";
import { LastHitMap } from "../util/last_hit_map.ts";

export type { PacketInfo };

/** How often a packet held for missing credentials is re-run (ZT_WHOIS_RETRY_DELAY). */
export const FRAME_RETRY_INTERVAL = 500;
/** How long such a packet is held (ZT_RECEIVE_QUEUE_TIMEOUT). */
export const FRAME_RETRY_TIMEOUT = 5_000;
/** Most packets held for retry (ZT_RX_QUEUE_SIZE); the oldest is dropped beyond this. */
export const FRAME_RETRY_QUEUE_SIZE = 32;
/** Largest Ethernet payload accepted on receive (MULTICAST_FRAME's bound; also the max MTU). */
export const MAX_FRAME_PAYLOAD = 10_000;
/** Most MAC -> bridge routes learned per network. */
export const MAX_BRIDGE_ROUTES = 4_096;

/** What the data plane needs of one joined network (`src/vl2/network.ts` `Network` fits). */
export interface DataPlaneNetwork {
  /** Network ID. */
  readonly id: bigint;
  /** The controller's address. */
  readonly controller: number;
  /** The applied config (undefined while requesting: nothing is sent or delivered). */
  readonly config: NetworkConfig | undefined;
  /** Our MAC on this network. */
  readonly mac: number;
  /** The network gate (spec §8.6). */
  gate(now: number, peer: number): boolean;
  /** Pushes our credentials to `to` if due (spec §7.9). */
  pushCredentials(now: number, to: number, onNeedCertificate?: boolean): boolean;
  /** Offers a (legacy, inline) COM received with a frame or gather. Optional. */
  addCom?(now: number, com: CertificateOfMembership): unknown;
  /** What we know of member `address` (tags, capabilities, COOs for the rules). Optional. */
  membership?(address: number, create?: boolean): Membership | undefined;
}

/** Network lookup (`src/vl2/networks.ts` `Networks` fits). */
export interface DataPlaneNetworks {
  /** A joined network. */
  get(nwid: bigint): DataPlaneNetwork | undefined;
  /** All joined networks. */
  list(): Iterable<DataPlaneNetwork>;
}

/** What the data plane needs of the VL1 node (a `Node` fits; tests may fake it). */
export interface DataPlaneNode {
  /** Our address. */
  readonly address: Address;
  /** See `Node.sendPacket` (the payload is copied before it returns). */
  sendPacket(
    now: number,
    dest: Address,
    verb: Verb,
    payload: Uint8Array,
    opts?: { compress?: boolean; encrypt?: boolean; packetId?: boolean },
  ): bigint | undefined;
  /**
   * See `Node.sendFrame`: FRAME straight to a known peer's direct path; false (nothing sent) to
   * use {@link sendPacket}. Optional.
   */
  sendFrame?(
    now: number,
    dest: number,
    nwid: bigint,
    etherType: number,
    frame: Uint8Array,
    start: number,
    end: number,
  ): boolean;
  /** See `Node.rehearsing`: frames are handled without effects now. Optional (false). */
  readonly rehearsing?: boolean;
  /** See `Node.noteTrustEstablished`. */
  noteTrustEstablished(
    now: number,
    source: Address,
    localSocket: number,
    remote: InetAddress,
  ): void;
  /** Whether we are a root (roots answer LIKE/GATHER for networks they are not in). */
  isRoot(): boolean;
  /** The planet (its roots get our LIKEs and GATHERs). */
  planet(): World;
  /** Orbited moons (their roots too). */
  moons(): World[];
  /** A known peer (for latency when choosing a root or replicator). */
  peer(addr: Address): Pick<PeerInfo, "latency"> | undefined;
  /** See `Node.internalError`: counts and reports an exception that is a bug, not bad input. */
  internalError(where: string, e: unknown): void;
}

/**
 * Writes one Ethernet frame `frame[start..end)` to the network's tap. The buffer is reused for
 * the next frame: consume or copy it before returning.
 */
export type TapWrite = (nwid: bigint, frame: Uint8Array, start: number, end: number) => void;

/** One frame put to the rules filter (see {@link FrameFilter}); the filter must not keep it. */
export interface FilterFrame {
  /** The network. */
  net: DataPlaneNetwork;
  /**
   * The other ZeroTier node: outbound the destination (0 for the pre-check of a multicast, then
   * each recipient is checked), inbound the sender.
   */
  peer: number;
  /** Ethernet source MAC. */
  srcMac: number;
  /** Ethernet destination MAC. */
  dstMac: number;
  /** Ethernet type. */
  etherType: number;
  /** Holds the Ethernet payload at `[start, end)`. */
  payload: Uint8Array;
  /** Start of the Ethernet payload in `payload`. */
  start: number;
  /** End of the Ethernet payload in `payload`. */
  end: number;
  /** The current time, for copies the filter sends itself. */
  now: number;
}

/**
 * The rules-engine hook (spec §8.3-8.5), one place for both directions. The default is the
 * rules engine ({@link RulesFilter}); {@link ACCEPT_ALL_FILTER} accepts everything. The
 * {@link FilterFrame} passed in is reused for the next frame: read it during the call only.
 */
export interface FrameFilter {
  /** Outbound (spec §8.4): may this frame go to ZeroTier node `f.peer`? True = send. */
  filterOutbound(f: FilterFrame): boolean;
  /**
   * Inbound (spec §8.5) from `f.peer`: 0 drop, 1 accept (bridging checks apply), 2 super-accept
   * (no bridging checks).
   */
  filterInbound(f: FilterFrame): 0 | 1 | 2;
}

/** The default filter: accept everything (inbound result 1, so bridging checks still apply). */
export const ACCEPT_ALL_FILTER: FrameFilter = {
  filterOutbound: () => true,
  filterInbound: () => 1,
};

/** Why a frame was dropped (indexes {@link FrameCounters.drops}). */
export type FrameDropReason =
  | "malformed"
  | "noNetwork"
  | "noConfig"
  | "mtu"
  | "bridging"
  | "toSelf"
  | "multicastDisabled"
  | "broadcastDisabled"
  | "filter"
  | "badMac"
  | "gate"
  | "retryExpired";

/** Traffic counters of the data plane. */
export interface FrameCounters {
  /** FRAMEs sent. */
  sentFrames: number;
  /** EXT_FRAMEs sent (bridged). */
  sentExtFrames: number;
  /** Multicasts sent (each may go to many recipients). */
  sentMulticasts: number;
  /** Frames written to the tap (including synthetic NDP answers). */
  delivered: number;
  /** Synthetic neighbor advertisements written. */
  ndpEmulated: number;
  /** FRAMEs delivered by the fast path (part of `delivered`; see {@link Frames.fastFrame}). */
  fastIn: number;
  /** FRAMEs sent by the node's fast path (part of `sentFrames`; see `Node.sendFrame`). */
  fastOut: number;
  /** Packets re-run from the retry queue. */
  retries: number;
  /** Drops by reason. */
  drops: Record<FrameDropReason, number>;
}

/** Construction options of {@link Frames}. */
export interface FramesOptions {
  /** The VL1 node. */
  node: DataPlaneNode;
  /** Joined networks. */
  networks: DataPlaneNetworks;
  /** Random source (multicast recipient permutations, gather subsets). */
  random: (n: number) => Uint8Array;
  /** Inbound frames to the tap (may be set later; default: dropped). */
  tapWrite?: TapWrite;
  /** A rehearsal's inbound frame: the port's write path without the write (optional). */
  tapRehearse?: TapWrite;
  /** Rules hook (default: a {@link RulesFilter} sending copies through `node`). */
  filter?: FrameFilter;
  /** Whether our in-process controller recently authorized `peer` on `nwid` (LIKE/GATHER). */
  controllerAuthorized?: (now: number, nwid: bigint, peer: number) => boolean;
  /** Caps of learned multicast subscriptions (per member, total); defaults if absent. */
  multicastLimits?: SubscriptionLimits;
}

interface Held {
  verb: Verb;
  source: Address;
  payload: Uint8Array;
  info: PacketInfo;
  first: number;
  next: number;
}

interface NetCache {
  first: number;
  mask: number;
  ourMac: number;
  /** MAC behind a bridge -> that bridge's address (learned from bridged EXT_FRAMEs). */
  routes: Map<number, number>;
}

/** Send options of unicast frames and OKs: encrypted, never compressed (spec §3.6). */
const SEND_PLAIN = Object.freeze({ compress: false, encrypt: true, packetId: false });

const TWO32 = 0x1_0000_0000;
const TWO40 = 0x100_0000_0000;

function xor40(a: number, b: number): number {
  const ah = Math.floor(a / TWO32), bh = Math.floor(b / TWO32);
  return ((ah ^ bh) & 0xff) * TWO32 + (((a % TWO32) ^ (b % TWO32)) >>> 0);
}

/** Zeroed {@link FrameCounters}. */
function newFrameCounters(): FrameCounters {
  return {
    sentFrames: 0,
    sentExtFrames: 0,
    sentMulticasts: 0,
    delivered: 0,
    ndpEmulated: 0,
    fastIn: 0,
    fastOut: 0,
    retries: 0,
    drops: {
      malformed: 0,
      noNetwork: 0,
      noConfig: 0,
      mtu: 0,
      bridging: 0,
      toSelf: 0,
      multicastDisabled: 0,
      broadcastDisabled: 0,
      filter: 0,
      badMac: 0,
      gate: 0,
      retryExpired: 0,
    },
  };
}

/**
 * The data plane of a node: the {@link FrameHandler} the member side (`Networks.frameHandler`)
 * calls for FRAME, EXT_FRAME, MULTICAST_* and their OKs, plus the tap-facing entry points
 * {@link tapFrame} and {@link multicastGroupsChanged}. Pure: acts through the node and
 * {@link tapWrite}.
 */
export class Frames implements FrameHandler {
  /** Where inbound frames go. */
  tapWrite: TapWrite;
  /** The rules hook. */
  filter: FrameFilter;
  /** Multicast state (groups, members, replication). */
  readonly multicast: Multicaster;
  /**
   * Traffic counters. During {@link rehearse} a throwaway set stands in (the same code counts,
   * nothing real changes), so keep no reference across calls into this object.
   */
  counters: FrameCounters = newFrameCounters();
  #scratchCounters: FrameCounters | undefined;
  readonly #tapRehearse: TapWrite | undefined;
  readonly #node: DataPlaneNode;
  readonly #networks: DataPlaneNetworks;
  readonly #me: number;
  /** Reused buffer for outbound FRAME / EXT_FRAME payloads. */
  readonly #tx = new Uint8Array(MAX_PACKET_LENGTH);
  /** Reused buffer for frames written to the tap. */
  readonly #rx = new Uint8Array(ETHERNET_HEADER_LENGTH + MAX_PACKET_LENGTH);
  readonly #cache = new LastHitMap<bigint, NetCache>();
  readonly #addrs = new Map<number, Address>();
  /** The one {@link FilterFrame} handed to the filter (no object per frame). */
  #ff: FilterFrame | undefined;
  /** The last network ID read from a FRAME, as u32 halves and as the bigint handed on. */
  #nwHi = -1;
  #nwLo = -1;
  #nwId = 0n;
  #held: Held[] = [];
  /** Bookkeeping the fast path put off: network, sender, frames, bytes, time of the last. */
  #fpNet: DataPlaneNetwork | undefined;
  #fpPeer = 0;
  #fpFrames = 0;
  #fpBytes = 0;
  #fpNow = 0;
  /** The config and filter {@link #fpAcceptsAll} was read from. */
  #fpConfig: NetworkConfig | undefined;
  #fpFilter: FrameFilter | undefined;
  #fpAcceptsAll = false;

  /** A data plane over `opts.node` / `opts.networks`. */
  constructor(opts: FramesOptions) {
    this.#node = opts.node;
    this.#networks = opts.networks;
    this.#me = opts.node.address.value;
    this.tapWrite = opts.tapWrite ?? (() => {});
    this.#tapRehearse = opts.tapRehearse;
    this.filter = opts.filter ?? new RulesFilter({ node: opts.node, random: opts.random });
    this.multicast = new Multicaster({
      node: opts.node,
      networks: opts.networks,
      random: opts.random,
      filterOutbound: (f) => this.filter.filterOutbound(f),
      controllerAuthorized: opts.controllerAuthorized,
      limits: opts.multicastLimits,
    });
  }

  /**
   * Runs `fn` (a rehearsal of the lone-frame paths under `Node.rehearse`) with a throwaway set of
   * {@link counters}. Never throws.
   */
  rehearse(fn: () => void): void {
    const real = this.counters;
    this.counters = this.#scratchCounters ??= newFrameCounters();
    try {
      fn();
    } catch (e) {
      this.#node.internalError("frames_rehearse", e);
    } finally {
      this.counters = real;
    }
  }

  // ---- tap side --------------------------------------------------------------------------------

  /**
   * One Ethernet frame `frame[start..end)` read from network `nwid`'s tap: sent as FRAME to a
   * member's ZeroTier MAC, EXT_FRAME when bridging is involved, or as a multicast; answered
   * locally by NDP emulation when that applies. Returns true if something was sent or written.
   * The frame is not retained. Never throws.
   */
  tapFrame(now: number, nwid: bigint, frame: Uint8Array, start = 0, end = frame.length): boolean {
    try {
      return this.#tapFrame(now, nwid, frame, start, end);
    } catch (e) {
      // the tap path checks every frame before it reads it: an exception here is a bug
      this.#node.internalError("frames_tap", e);
      return false;
    }
  }

  /**
   * The tap's multicast subscriptions of `nwid` changed (kernel groups, polled by the service).
   * Our groups are these plus the derived ones; new groups are announced on the next tick.
   */
  multicastGroupsChanged(nwid: bigint, groups: readonly MulticastGroup[]): void {
    this.multicast.groupsChanged(nwid, groups);
  }

  /**
   * Network `nwid`'s config (or local state) changed: new groups are announced at once rather
   * than at the next tick. Optional - the tick notices changes too.
   */
  networkChanged(now: number, nwid: bigint): void {
    const net = this.#networks.get(nwid);
    if (net) this.multicast.networkChanged(now, net);
  }

  // ---- network side ----------------------------------------------------------------------------

  /**
   * One packet from the member side: FRAME, EXT_FRAME, MULTICAST_LIKE, MULTICAST_GATHER,
   * MULTICAST_FRAME, or OK in reply to MULTICAST_GATHER / MULTICAST_FRAME / EXT_FRAME. A frame
   * whose sender fails the gate is answered ERROR(NEED_MEMBERSHIP_CERTIFICATE) and held for
   * retry (every 500 ms, up to 5 s). Returns true if the packet was ours. Never throws.
   */
  handle(
    now: number,
    source: Address,
    verb: Verb,
    payload: Uint8Array,
    info: PacketInfo,
  ): boolean {
    try {
      switch (verb) {
        case Verb.FRAME:
        case Verb.EXT_FRAME:
        case Verb.MULTICAST_FRAME:
          if (!this.#run(now, source, verb, payload, info)) {
            this.#hold(now, source, verb, payload, info);
          }
          return true;
        case Verb.MULTICAST_LIKE:
          this.multicast.handleLike(now, source, payload);
          return true;
        case Verb.MULTICAST_GATHER:
          this.multicast.handleGather(now, source, payload, info);
          return true;
        case Verb.OK: {
          const ok = decodeOk(payload);
          if (!ok) return false;
          const v = ok.inReVerb & 0x1f;
          if (v === Verb.EXT_FRAME || v === Verb.FRAME) return true;
          return this.multicast.handleOk(now, v, payload);
        }
        default:
          return false;
      }
    } catch (e) {
      // decoders return undefined on malformed input: an exception here is a bug
      this.#node.internalError("frames", e);
      return true;
    }
  }

  /**
   * FRAME fast path: `p[off..)` is a FRAME payload from `source`. Delivers it and returns true
   * when the common case holds (known configured network, gate passes, rules accept all);
   * false (nothing done) sends it down the full path.
   */
  fastFrame(now: number, source: number, p: Uint8Array, off: number): boolean {
    const end = p.length;
    if (end - off < FRAME_HEADER_LENGTH) return false;
    const net = this.#networks.get(this.#nwidAt(p, off));
    const nc = net?.config;
    if (!net || !nc) return false;
    const f = this.filter;
    const rehearsal = this.#node.rehearsing === true;
    if (nc !== this.#fpConfig || f !== this.#fpFilter) {
      if (rehearsal) return false;
      // rules are read once per config object (a new config is a new object) and filter; what
      // is pending was accepted under the previous ones
      this.settle();
      this.#fpConfig = nc;
      this.#fpFilter = f;
      this.#fpAcceptsAll = f instanceof RulesFilter && f.acceptsAll(nc);
    }
    if (!this.#fpAcceptsAll || !net.gate(now, source)) return false;
    const start = off + FRAME_HEADER_LENGTH;
    const len = end - start;
    if (len > MAX_PACKET_LENGTH) return false;
    if (
      !rehearsal && this.#fpNet !== undefined && (this.#fpNet !== net || this.#fpPeer !== source)
    ) this.settle();
    const c = this.#netCache(net.id);
    const etherType = (p[off + 8] << 8) | p[off + 9];
    this.counters.fastIn++;
    this.#deliver(net.id, c.ourMac, this.#macOf(c, source), etherType, p, start, end);
    if (rehearsal) return true;
    this.#fpNet = net;
    this.#fpPeer = source;
    this.#fpFrames++;
    this.#fpBytes += len;
    this.#fpNow = now;
    return true;
  }

  /**
   * Whether the rules accept every frame of `nc`, as the receive fast path last read them; false
   * when `nc` or the filter changed since (a rehearsal then stops short).
   */
  #acceptsAll(nc: NetworkConfig): boolean {
    return nc === this.#fpConfig && this.filter === this.#fpFilter && this.#fpAcceptsAll;
  }

  /** Runs the bookkeeping the fast path put off (rules counters, the multicast gate note). */
  settle(): void {
    const net = this.#fpNet;
    if (net === undefined) return;
    this.#fpNet = undefined;
    const frames = this.#fpFrames, bytes = this.#fpBytes;
    this.#fpFrames = this.#fpBytes = 0;
    try {
      // #fpFilter is the filter these frames were accepted under (fastFrame settles on a change)
      (this.#fpFilter as RulesFilter).counters.record(net.id, true, true, bytes, frames);
      this.multicast.gatePassed(this.#fpNow, net, this.#fpPeer);
    } catch (e) {
      this.#node.internalError("frames_settle", e);
    }
  }

  /** Re-runs held packets now (e.g. right after credentials arrived); expired ones are dropped. */
  retryHeld(now: number): void {
    const list = this.#held;
    if (list.length === 0) return;
    this.#held = [];
    for (const h of list) {
      if (now - h.first > FRAME_RETRY_TIMEOUT) {
        this.counters.drops.retryExpired++;
        continue;
      }
      this.counters.retries++;
      let done = true;
      try {
        done = this.#run(now, h.source, h.verb, h.payload, h.info);
      } catch (e) {
        this.#node.internalError("frames_retry", e);
        done = true;
      }
      if (!done) {
        h.next = now + FRAME_RETRY_INTERVAL;
        this.#held.push(h);
      }
    }
  }

  /** Number of packets held for retry. */
  get heldCount(): number {
    return this.#held.length;
  }

  /**
   * Periodic work: due retries, multicast announcements and expiry. Returns the delay (ms) until
   * the next held packet's retry is due (at most {@link FRAME_RETRY_INTERVAL}) while packets are
   * held, else undefined.
   */
  tick(now: number): number | undefined {
    if (this.#held.length > 0) {
      let due = false;
      for (const h of this.#held) {
        if (now >= h.next || now - h.first > FRAME_RETRY_TIMEOUT) {
          due = true;
          break;
        }
      }
      if (due) this.retryHeld(now);
    }
    this.multicast.tick(now);
    if (this.#held.length === 0) return undefined;
    let next = FRAME_RETRY_INTERVAL;
    for (const h of this.#held) next = Math.min(next, Math.max(0, h.next - now));
    return next;
  }

  // ---- outbound --------------------------------------------------------------------------------

  #tapFrame(now: number, nwid: bigint, frame: Uint8Array, start: number, end: number): boolean {
    const d = this.counters.drops;
    if (start < 0 || end > frame.length || end - start < ETHERNET_HEADER_LENGTH) {
      d.malformed++;
      return false;
    }
    const net = this.#networks.get(nwid);
    if (!net) {
      d.noNetwork++;
      return false;
    }
    const nc = net.config;
    if (!nc) {
      d.noConfig++;
      return false;
    }
    const c = this.#netCache(nwid);
    const me = this.#me;
    const dst = ethDst(frame, start);
    const src = ethSrc(frame, start);
    const et = ethType(frame, start);
    const pStart = start + ETHERNET_HEADER_LENGTH;
    const len = end - pStart;
    if (len > nc.mtu || len > MAX_FRAME_PAYLOAD) {
      d.mtu++;
      return false;
    }
    const amBridge = src !== c.ourMac && isSpecialist(nc, me, SPECIALIST_ACTIVE_BRIDGE);
    if (src !== c.ourMac && !amBridge) {
      d.bridging++;
      return false;
    }
    if ((nc.flags & NETCONF_FLAG_ENABLE_IPV6_NDP_EMULATION) !== 0 && et === ETHERTYPE_IPV6) {
      const n = ndpEmulate(nwid, me, nc.staticIps, frame, start, end, this.#rx);
      if (n > 0) {
        this.counters.ndpEmulated++;
        this.counters.delivered++;
        this.tapWrite(nwid, this.#rx, 0, n);
        return true;
      }
    }
    // a rehearsal (Node.rehearse) goes on only where nothing but the unicast FRAME would leave
    const rehearsal = this.#node.rehearsing === true;
    if (rehearsal && (isMulticastMac(dst) || !this.#acceptsAll(nc))) return false;
    // Plain unicast FRAME / EXT_FRAME go uncompressed (spec §3.6, as the reference since 1.4.8);
    // multicasts and rule-generated copies are compressed unless the network disables it.
    if (isMulticastMac(dst)) {
      if (nc.multicastLimit <= 0) {
        d.multicastDisabled++;
        return false;
      }
      let adi = 0;
      if (dst === BROADCAST_MAC) {
        const target = et === ETHERTYPE_ARP ? arpRequestTarget(frame, pStart, end) : -1;
        if (target >= 0) adi = target;
        else if ((nc.flags & NETCONF_FLAG_ENABLE_BROADCAST) === 0) {
          d.broadcastDisabled++;
          return false;
        }
      }
      const allowed = this.filter.filterOutbound(
        this.#filterFrame(net, 0, src, dst, et, frame, pStart, end, now),
      );
      if (!allowed) {
        d.filter++;
        return false;
      }
      this.counters.sentMulticasts++;
      this.multicast.send(now, net, dst, adi, src, et, frame, pStart, end);
      return true;
    }

    if (dst === c.ourMac) {
      d.toSelf++;
      return false;
    }
    const tx = this.#tx;
    if (Math.floor(dst / TWO40) === c.first) {
      // a member of this network: FRAME, or EXT_FRAME when the source is bridged
      const to = xor40(dst % TWO40, c.mask);
      if (to === me || to === 0) {
        d.toSelf++;
        return false;
      }
      const allowed = rehearsal || this.filter.filterOutbound(
        this.#filterFrame(net, to, src, dst, et, frame, pStart, end, now),
      );
      if (!allowed) {
        d.filter++;
        return false;
      }
      if (rehearsal) {
        if (src !== c.ourMac) return false;
      } else net.pushCredentials(now, to);
      let n: number;
      let verb: Verb;
      if (src === c.ourMac) {
        this.counters.sentFrames++;
        const node = this.#node;
        if (node.sendFrame !== undefined && node.sendFrame(now, to, nwid, et, frame, pStart, end)) {
          this.counters.fastOut++;
          return true;
        }
        if (rehearsal) return false;
        n = writeFrameHeader(tx, 0, nwid, et);
        verb = Verb.FRAME;
      } else {
        n = writeExtFrameHeader(tx, 0, nwid, 0, dst, src, et);
        verb = Verb.EXT_FRAME;
        this.counters.sentExtFrames++;
      }
      tx.set(frame.subarray(pStart, end), n);
      this.#node.sendPacket(now, this.#addr(to), verb, tx.subarray(0, n + len), SEND_PLAIN);
      return true;
    }

    // behind a bridge: the bridge we learned it from, else every active bridge
    const learned = c.routes.get(dst);
    const bridges = learned !== undefined ? [learned] : specialistsWith(
      nc,
      SPECIALIST_ACTIVE_BRIDGE,
      me,
    );
    const n = writeExtFrameHeader(tx, 0, nwid, 0, dst, src, et);
    tx.set(frame.subarray(pStart, end), n);
    let sent = false;
    for (const b of bridges) {
      if (b === me) continue;
      const allowed = this.filter.filterOutbound(
        this.#filterFrame(net, b, src, dst, et, frame, pStart, end, now),
      );
      if (!allowed) {
        d.filter++;
        continue;
      }
      net.pushCredentials(now, b);
      this.counters.sentExtFrames++;
      this.#node.sendPacket(
        now,
        this.#addr(b),
        Verb.EXT_FRAME,
        tx.subarray(0, n + len),
        SEND_PLAIN,
      );
      sent = true;
    }
    if (!sent && bridges.length === 0) d.bridging++;
    return sent;
  }

  // ---- inbound ---------------------------------------------------------------------------------

  /** Runs one frame packet; false = "not finished" (gate failed: hold and retry). */
  #run(
    now: number,
    source: Address,
    verb: Verb,
    payload: Uint8Array,
    info: PacketInfo,
  ): boolean {
    if (verb === Verb.FRAME) return this.#frame(now, source, payload, info);
    if (verb === Verb.EXT_FRAME) return this.#extFrame(now, source, payload, info);
    return this.#multicastFrame(now, source, payload, info);
  }

  #frame(
    now: number,
    source: Address,
    payload: Uint8Array,
    info: PacketInfo,
  ): boolean {
    // read in place: `nwid(8) | ethertype(2) | payload` (no decoded object per frame)
    if (payload.length < FRAME_HEADER_LENGTH) return this.#drop("malformed");
    const etherType = (payload[8] << 8) | payload[9];
    const end = payload.length;
    const net = this.#admit(now, source, Verb.FRAME, info, this.#nwidAt(payload), undefined);
    if (typeof net === "boolean") return net;
    const c = this.#netCache(net.id);
    const from = this.#macOf(c, source.value);
    if (
      this.filter.filterInbound(
        this.#filterFrame(
          net,
          source.value,
          from,
          c.ourMac,
          etherType,
          payload,
          FRAME_HEADER_LENGTH,
          end,
          now,
        ),
      ) === 0
    ) return this.#drop("filter");
    this.#deliver(net.id, c.ourMac, from, etherType, payload, FRAME_HEADER_LENGTH, end);
    return true;
  }

  #extFrame(
    now: number,
    source: Address,
    payload: Uint8Array,
    info: PacketInfo,
  ): boolean {
    const f = decodeExtFrame(payload);
    if (!f) return this.#drop("malformed");
    const net = this.#admit(now, source, Verb.EXT_FRAME, info, f.networkId, f.com);
    if (typeof net === "boolean") return net;
    const nc = net.config!;
    const c = this.#netCache(net.id);
    const senderMac = this.#macOf(c, source.value);
    if (f.from === 0 || f.from === c.ourMac) {
      this.#drop("badMac");
    } else {
      const r = this.filter.filterInbound(
        this.#filterFrame(
          net,
          source.value,
          f.from,
          f.to,
          f.etherType,
          payload,
          f.payloadStart,
          f.payloadEnd,
          now,
        ),
      );
      let ok = r !== 0;
      if (r === 0) this.#drop("filter");
      else if (r === 1) {
        if (f.from !== senderMac) {
          if (!isSpecialist(nc, source.value, SPECIALIST_ACTIVE_BRIDGE)) ok = false;
          else this.#learnRoute(c, f.from, source.value);
        }
        if (ok && f.to !== c.ourMac) {
          if (isMulticastMac(f.to)) ok = nc.multicastLimit > 0;
          else ok = isSpecialist(nc, this.#me, SPECIALIST_ACTIVE_BRIDGE);
        }
        if (!ok) this.#drop("bridging");
      }
      if (ok) {
        this.#deliver(net.id, f.to, f.from, f.etherType, payload, f.payloadStart, f.payloadEnd);
      }
    }
    if ((f.flags & EXT_FRAME_FLAG_ACK) !== 0) {
      this.#node.sendPacket(
        now,
        source,
        Verb.OK,
        encodeOkExtFrame({ inRePacketId: info.packetId, networkId: net.id }),
        { encrypt: true },
      );
    }
    return true;
  }

  #multicastFrame(
    now: number,
    source: Address,
    payload: Uint8Array,
    info: PacketInfo,
  ): boolean {
    const f = decodeMulticastFrame(payload);
    if (!f) return this.#drop("malformed");
    const net = this.#admit(now, source, Verb.MULTICAST_FRAME, info, f.networkId, f.com);
    if (typeof net === "boolean") return net;
    const nc = net.config!;
    if (nc.multicastLimit <= 0) return this.#drop("multicastDisabled");
    const len = f.payloadEnd - f.payloadStart;
    if (len < 1 || len > MAX_FRAME_PAYLOAD) return this.#drop("malformed");
    const c = this.#netCache(net.id);
    const senderMac = this.#macOf(c, source.value);
    const from = f.source ?? senderMac;
    if (!isMulticastMac(f.mac) || from === 0 || isMulticastMac(from) || from === c.ourMac) {
      return this.#drop("badMac");
    }
    let ok = true;
    if (from !== senderMac) {
      // a bridged source: the sender must be an active bridge (or a designated replicator
      // re-multicasting someone else's frame)
      ok = isSpecialist(nc, source.value, SPECIALIST_ACTIVE_BRIDGE) ||
        isSpecialist(nc, source.value, SPECIALIST_MULTICAST_REPLICATOR);
      if (!ok) this.#drop("bridging");
    }
    if (
      ok && (f.flags & MULTICAST_FRAME_FLAG_REPLICATE) !== 0 &&
      isSpecialist(nc, this.#me, SPECIALIST_MULTICAST_REPLICATOR)
    ) {
      this.multicast.send(
        now,
        net,
        f.mac,
        f.adi,
        from,
        f.etherType,
        payload,
        f.payloadStart,
        f.payloadEnd,
        source.value,
      );
    }
    if (ok) {
      const r = this.filter.filterInbound(
        this.#filterFrame(
          net,
          source.value,
          from,
          f.mac,
          f.etherType,
          payload,
          f.payloadStart,
          f.payloadEnd,
          now,
        ),
      );
      if (r === 0) this.#drop("filter");
      else this.#deliver(net.id, f.mac, from, f.etherType, payload, f.payloadStart, f.payloadEnd);
    }
    if (f.gatherLimit !== undefined && f.gatherLimit > 0) {
      const g = this.multicast.gather(net.id, f.mac, f.adi, source.value, f.gatherLimit);
      if (g) {
        const okp = encodeOkMulticastFrame({
          inRePacketId: info.packetId,
          networkId: net.id,
          mac: f.mac,
          adi: f.adi,
          flags: 0,
          gather: g,
        });
        this.#node.sendPacket(now, source, Verb.OK, okp, SEND_PLAIN);
      }
    }
    return true;
  }

  /**
   * The gate (spec §8.6): passing establishes trust and triggers our LIKEs to the sender;
   * failing answers ERROR(NEED_MEMBERSHIP_CERTIFICATE, nwid) in re the packet.
   */
  /**
   * The shared start of the inbound frame verbs: find the network, take a legacy inline COM, run
   * the gate. Returns the network, or the handler's result when the frame stops here (true =
   * dropped and counted, false = held for credentials).
   */
  #admit(
    now: number,
    source: Address,
    verb: Verb,
    info: PacketInfo,
    networkId: bigint,
    com: Uint8Array | undefined,
  ): DataPlaneNetwork | boolean {
    const net = this.#networks.get(networkId);
    if (!net) return this.#drop("noNetwork");
    if (com) this.#offerCom(now, net, com);
    return this.#gate(now, net, source, verb, info) ? net : false;
  }

  #gate(
    now: number,
    net: DataPlaneNetwork,
    source: Address,
    verb: Verb,
    info: PacketInfo,
  ): boolean {
    if (net.config && net.gate(now, source.value)) {
      this.#node.noteTrustEstablished(now, source, info.localSocket, info.remote);
      this.multicast.gatePassed(now, net, source.value);
      return true;
    }
    this.counters.drops.gate++;
    this.#node.sendPacket(
      now,
      source,
      Verb.ERROR,
      encodeError({
        inReVerb: verb,
        inRePacketId: info.packetId,
        code: ErrorCode.NEED_MEMBERSHIP_CERTIFICATE,
        networkId: net.id,
      }),
      { encrypt: true },
    );
    return false;
  }

  #hold(
    now: number,
    source: Address,
    verb: Verb,
    payload: Uint8Array,
    info: PacketInfo,
  ): void {
    if (this.#held.length >= FRAME_RETRY_QUEUE_SIZE) {
      this.#held.shift();
      this.counters.drops.retryExpired++;
    }
    this.#held.push({
      verb,
      source,
      payload: payload.slice(),
      info,
      first: now,
      next: now + FRAME_RETRY_INTERVAL,
    });
  }

  #deliver(
    nwid: bigint,
    to: number,
    from: number,
    etherType: number,
    payload: Uint8Array,
    start: number,
    end: number,
  ): void {
    const len = end - start;
    if (len < 0 || len > MAX_PACKET_LENGTH) {
      this.counters.drops.malformed++;
      return;
    }
    const rx = this.#rx;
    writeEthernetHeader(rx, 0, to, from, etherType);
    rx.set(payload.subarray(start, end), ETHERNET_HEADER_LENGTH);
    this.counters.delivered++;
    if (this.#node.rehearsing === true) {
      // Node.rehearse: the port's write path runs, nothing is written
      this.#tapRehearse?.(nwid, rx, 0, ETHERNET_HEADER_LENGTH + len);
      return;
    }
    this.tapWrite(nwid, rx, 0, ETHERNET_HEADER_LENGTH + len);
  }

  /** The network ID at `p[off..off+8)`; the bigint is reused while frames name the same network. */
  #nwidAt(p: Uint8Array, off = 0): bigint {
    const hi = ((p[off] << 24) | (p[off + 1] << 16) | (p[off + 2] << 8) | p[off + 3]) >>> 0;
    const lo = ((p[off + 4] << 24) | (p[off + 5] << 16) | (p[off + 6] << 8) | p[off + 7]) >>> 0;
    if (hi !== this.#nwHi || lo !== this.#nwLo) {
      this.#nwHi = hi;
      this.#nwLo = lo;
      this.#nwId = (BigInt(hi) << 32n) | BigInt(lo);
    }
    return this.#nwId;
  }

  /** The filter's view of one frame, in the reused {@link FilterFrame}. */
  #filterFrame(
    net: DataPlaneNetwork,
    peer: number,
    srcMac: number,
    dstMac: number,
    etherType: number,
    payload: Uint8Array,
    start: number,
    end: number,
    now: number,
  ): FilterFrame {
    const f = this.#ff;
    if (!f) {
      return this.#ff = { net, peer, srcMac, dstMac, etherType, payload, start, end, now };
    }
    f.net = net;
    f.peer = peer;
    f.srcMac = srcMac;
    f.dstMac = dstMac;
    f.etherType = etherType;
    f.payload = payload;
    f.start = start;
    f.end = end;
    f.now = now;
    return f;
  }

  #drop(reason: FrameDropReason): true {
    this.counters.drops[reason]++;
    return true;
  }

  #offerCom(now: number, net: DataPlaneNetwork, b: Uint8Array): void {
    if (!net.addCom) return;
    const c = comDeserialize(b)?.com;
    if (c) net.addCom(now, c);
  }

  #learnRoute(c: NetCache, mac: number, bridge: number): void {
    if (c.routes.get(mac) === bridge) return;
    if (!c.routes.has(mac) && c.routes.size >= MAX_BRIDGE_ROUTES) c.routes.clear();
    c.routes.set(mac, bridge);
  }

  #netCache(nwid: bigint): NetCache {
    let c = this.#cache.get(nwid);
    if (!c) {
      if (this.#cache.size >= 1024) this.#cache.clear();
      c = {
        first: firstOctetForNetwork(nwid),
        mask: macXorMask(nwid),
        ourMac: macFromAddress(this.#me, nwid),
        routes: new Map(),
      };
      this.#cache.set(nwid, c);
    }
    return c;
  }

  #macOf(c: NetCache, address: number): number {
    return c.first * TWO40 + xor40(address, c.mask);
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
}
