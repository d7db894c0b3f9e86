// The sans-I/O VL1 node: receive/tick entry points, peers and roots, online status, VL2 hook (spec §9).
import type { Address } from "./address.ts";
import { isFragment, Reassembler } from "./fragment.ts";
import type { Identity } from "./identity.ts";
import { IdentityChecks } from "./identity_checks.ts";
import type { InetAddress } from "./inet_address.ts";
import { Incoming } from "./incoming.ts";
import { ExpectingReplies } from "./expect_reply.ts";
import {
  type FrameFastPath,
  type NodeHost,
  type NodeOptions,
  type UpperLayer,
  UpperPacketInfo,
} from "./node_host.ts";
import { NodeCounters } from "./node_counters.ts";
import {
  HOUSEKEEPING_PERIOD,
  IDENTITY_VALIDATION_SOURCE_RATE_LIMIT,
  MIN_UNITE_INTERVAL,
  type NodeSettings,
  PEER_ACTIVITY_TIMEOUT,
  PING_CHECK_INTERVAL,
  resolveSettings,
  TIMER_GRANULARITY,
  WHOIS_RETRY_DELAY,
} from "./node_settings.ts";
import {
  getDest,
  getSource,
  IDX_PAYLOAD,
  isFragmented,
  MIN_PACKET_LENGTH,
  Verb,
} from "./packet.ts";
import { isUsableScope, type Path } from "./path.ts";
import type { Peer } from "./peer.ts";
import { IdentityValidationGate, RateGate } from "./rate_limit.ts";
import { SelfAwareness } from "./self_awareness.ts";
import { Switch } from "./switch.ts";
import { Topology } from "./topology.ts";
import { PendingRendezvous } from "./pending_rendezvous.ts";
import { WhoisQueue } from "./whois_queue.ts";
import { type PeerInfo, peerInfo } from "./peer_info.ts";
import { peerReceived, pingAndKeepalive, surfaceReported } from "./node_keepalive.ts";
import { NodePings } from "./node_pings.ts";
import type { NodeTableStats } from "./node_tables.ts";
import { parseWorld, serializeWorld, type World } from "./world.ts";

export type { NodeSettings } from "./node_settings.ts";
export type { NodeTableStats } from "./node_tables.ts";
export type { PathInfo, PeerInfo } from "./peer_info.ts";
export type { NodeOptions, UpperLayer } from "./node_host.ts";

/** Send options by (encrypt ? 1 : 0) | (compress ? 2 : 0), shared by every send. */
const SEND_OPTS = [
  Object.freeze({ encrypt: false, compress: false }),
  Object.freeze({ encrypt: true, compress: false }),
  Object.freeze({ encrypt: false, compress: true }),
  Object.freeze({ encrypt: true, compress: true }),
  Object.freeze({ encrypt: false, compress: false, packetId: false }),
  Object.freeze({ encrypt: true, compress: false, packetId: false }),
  Object.freeze({ encrypt: false, compress: true, packetId: false }),
  Object.freeze({ encrypt: true, compress: true, packetId: false }),
] as const;

/** Most changed peer cache records written per 30 s housekeeping pass (the rest wait a pass). */
const PEER_CACHE_WRITES_PER_HOUSEKEEPING = 256;

/** The VL1 node. Drive it with {@link receive} and {@link tick}; it acts through its host. */
export class Node {
  /** Our identity (with private key). */
  readonly identity: Identity;
  /** Our address. */
  readonly address: Address;
  /** @internal */ readonly host: NodeHost;
  /** @internal */ readonly settings: NodeSettings;
  /** @internal */ readonly topology: Topology;
  /** @internal */ readonly expecting = new ExpectingReplies();
  /** @internal */ readonly whois = new WhoisQueue();
  /** @internal Introductions waiting for the identity of the peer they name. */
  readonly rendezvous = new PendingRendezvous();
  /** @internal */ readonly switch: Switch;
  /** @internal */ readonly incoming: Incoming;
  /** @internal */ readonly selfAwareness = new SelfAwareness();
  /** Traffic counters (read them with `counters.snapshot()`; metrics). */
  readonly counters = new NodeCounters();
  /** @internal */ readonly uniteGate = new RateGate(MIN_UNITE_INTERVAL, 16_384);
  /** @internal */ readonly identityGate = new IdentityValidationGate(
    IDENTITY_VALIDATION_SOURCE_RATE_LIMIT,
  );
  /** @internal Remembered identity checks and their CPU budget. */
  readonly identityChecks: IdentityChecks;
  readonly #reassembler = new Reassembler({ reuseOutput: true });
  #upper: UpperLayer | undefined;
  #fast: FrameFastPath | undefined;
  /** Put fast-path bookkeeping off to a microtask that runs {@link settle}. */
  #deferSettle = false;
  /** Fast-path bookkeeping not done yet: one peer and path, how many packets and bytes. */
  #rxPeer: Peer | undefined;
  #rxSocket = 0;
  #rxRemote: InetAddress | undefined;
  #rxCount = 0;
  #rxBytes = 0;
  #rxNow = 0;
  #settleQueued = false;
  /** A rehearsal runs (see {@link rehearse}); whether its frame took the fast path. */
  #rehearsing = false;
  #rehearsed = false;
  readonly #settleTask = (): void => {
    this.#settleQueued = false;
    this.settle();
  };
  #online = false;
  #lastPingCheck = -Infinity;
  #lastHousekeeping: number;
  #lastQueueTick = -Infinity;
  readonly #pings = new NodePings();
  readonly #worldBytes = new WeakMap<World, Uint8Array>();
  #now: number;

  /** A node; nothing is sent until the first {@link tick}. */
  constructor(opts: NodeOptions) {
    if (!opts.identity.hasPrivate()) throw new Error("Node: identity needs a private key");
    this.identity = opts.identity;
    this.address = opts.identity.address;
    this.host = opts.host;
    this.settings = resolveSettings(opts.settings);
    this.#now = opts.now;
    this.#lastHousekeeping = opts.now;
    this.identityChecks = new IdentityChecks({
      validationCostMs: this.settings.identityValidationCostMs,
      agreementCostMs: this.settings.identityAgreementCostMs,
    });
    this.topology = new Topology(opts.identity, opts.host, opts.planet, this.settings.maxPeers);
    this.switch = new Switch(this);
    this.incoming = new Incoming(this);
    this.topology.validateIdentity = (id) => this.identityChecks.check(this.#now, id) === true;
    this.topology.onCacheLoad = (peer, paths) => {
      for (const a of paths) {
        if (this.shouldUsePath(peer.identity.address.value, -1, a)) {
          this.switch.sendHello(this.#now, peer, -1, a);
        }
      }
    };
  }

  /** One datagram arrived. The node may modify `data` in place. Never throws. */
  receive(now: number, localSocket: number, remote: InetAddress, data: Uint8Array): void {
    try {
      this.#now = now;
      this.counters.receivedBytes(data.length);
      this.#receive(now, localSocket, remote, data);
    } catch (e) {
      this.internalError("receive", e);
    }
  }

  /**
   * Background work; returns ms until the next tick is wanted (60..5000, sooner while WHOIS
   * lookups are pending or the upper layer asks for it). Never throws.
   */
  tick(now: number): number {
    try {
      this.#now = now;
      return this.#tick(now);
    } catch (e) {
      this.internalError("tick", e);
      return PING_CHECK_INTERVAL;
    }
  }

  /** Some upstream heard from within 500 s, or we are a root. */
  online(): boolean {
    return this.#online;
  }

  /** Whether our identity is a root of the planet or a moon. */
  isRoot(): boolean {
    return this.topology.amUpstream;
  }

  /** The current planet. */
  planet(): World {
    return this.topology.planet;
  }

  /** Orbited moons. */
  moons(): World[] {
    return this.topology.moons;
  }

  /** Orbits a moon: loads `moon/<id16>` from the store, else remembers the seed to ask. */
  orbit(now: number, worldId: bigint, seed: Address | undefined): void {
    this.#now = now;
    this.topology.orbit(worldId, seed, parseWorld);
  }

  /** Leaves a moon. */
  deorbit(worldId: bigint): void {
    this.topology.deorbit(worldId);
  }

  /** Known peers. */
  peers(): PeerInfo[] {
    return [...this.topology.peers.values()].map((p) => this.#info(p));
  }

  /** One known peer. */
  peer(addr: Address): PeerInfo | undefined {
    const p = this.topology.peers.get(addr.value);
    return p ? this.#info(p) : undefined;
  }

  /**
   * Changes settings while running (local.conf reloads): `physical` (MTU, trusted paths),
   * `localAddresses` and `cipher` take effect from the next packet; other fields are ignored.
   */
  updateSettings(s: Pick<Partial<NodeSettings>, "physical" | "localAddresses" | "cipher">): void {
    if (s.physical !== undefined) this.settings.physical = s.physical;
    if (s.localAddresses !== undefined) this.settings.localAddresses = s.localAddresses;
    if (s.cipher === "aes" || s.cipher === "salsa2012") this.settings.cipher = s.cipher;
  }

  /** Our externally observed addresses. */
  surfaceAddresses(): InetAddress[] {
    return this.selfAwareness.whoami();
  }

  /**
   * Sends a packet to a node (WHOIS + queue if unknown; direct path, else via an upstream).
   * Returns the post-armor packet ID (with `packetId: false`: 0n, no bigint built per packet),
   * or undefined if queued or failed.
   */
  sendPacket(
    now: number,
    dest: Address,
    verb: Verb,
    payload: Uint8Array,
    opts?: { compress?: boolean; encrypt?: boolean; packetId?: boolean },
  ): bigint | undefined {
    try {
      this.#now = now;
      const o = SEND_OPTS[
        (opts?.encrypt ?? true ? 1 : 0) | (opts?.compress ? 2 : 0) |
        (opts?.packetId === false ? 4 : 0)
      ];
      return this.switch.send(now, dest.value, verb, payload, o);
    } catch (e) {
      this.internalError("send_packet", e);
      return undefined;
    }
  }

  /**
   * FRAME fast path for the data plane (see `Switch.sendFrame`; on while a receive fast path is
   * set): true if sent straight to the peer's direct path; false, with nothing sent, to use
   * {@link sendPacket}. Never throws.
   */
  sendFrame(
    now: number,
    dest: number,
    nwid: bigint,
    etherType: number,
    frame: Uint8Array,
    start: number,
    end: number,
  ): boolean {
    if (this.#fast === undefined) return false; // fast paths off
    try {
      this.#now = now;
      return this.switch.sendFrame(now, dest, nwid, etherType, frame, start, end);
    } catch (e) {
      this.internalError("send_packet", e);
      return true; // not sent twice
    }
  }

  /** Sends an ECHO; `onReply` gets the RTT when the OK(ECHO) arrives. */
  ping(now: number, dest: Address, onReply?: (rtt: number) => void): void {
    const id = this.sendPacket(now, dest, Verb.ECHO, new Uint8Array(0));
    // Queued behind a WHOIS: remembered by destination until the ECHO goes out (peerLearned).
    if (id === undefined) this.#pings.queued(dest.value, now, onReply);
    else this.#pings.sent(id, now, onReply);
  }

  /**
   * Sets the upper layer's FRAME fast path; with `deferSettle`, its bookkeeping (and the
   * node's) runs in a microtask queued after the frame (see {@link settle}), else at once.
   */
  setFrameFastPath(f: FrameFastPath | undefined, deferSettle = false): void {
    this.settle();
    this.#fast = f;
    this.#deferSettle = f !== undefined && deferSettle;
  }

  /** @internal A direct, uncompressed FRAME from `peer` (see {@link FrameFastPath}). */
  fastFrame(
    now: number,
    peer: Peer,
    localSocket: number,
    remote: InetAddress,
    pkt: Uint8Array,
  ): boolean {
    const f = this.#fast;
    if (f === undefined) return false;
    if (this.#rehearsing) {
      // nothing recorded, nothing settled
      this.#rehearsed = f.fastFrame(now, peer.identity.address.value, pkt, IDX_PAYLOAD);
      return true;
    }
    const r = this.#rxRemote;
    if (
      this.#rxPeer !== undefined &&
      (this.#rxPeer !== peer || this.#rxSocket !== localSocket ||
        (r !== remote && !r!.equals(remote)))
    ) this.settle();
    try {
      if (!f.fastFrame(now, peer.identity.address.value, pkt, IDX_PAYLOAD)) return false;
    } catch (e) {
      this.internalError("upper_layer", e);
      return true;
    }
    this.#rxPeer = peer;
    this.#rxSocket = localSocket;
    this.#rxRemote = remote;
    this.#rxCount++;
    this.#rxBytes += pkt.length;
    this.#rxNow = now;
    if (!this.#deferSettle) this.settle();
    else if (!this.#settleQueued) {
      // after the microtasks queued so far: the port's write flush, which also reads and
      // sends the answer to this frame
      this.#settleQueued = true;
      queueMicrotask(this.#settleTask);
    }
    return true;
  }

  /**
   * @internal Whether a rehearsal runs now (see {@link rehearse}): the data plane's code then
   * does its work without effects.
   */
  get rehearsing(): boolean {
    return this.#rehearsing;
  }

  /**
   * Runs `fn` as a rehearsal: the lone-frame path (FRAME receive fast path, `sendFrame`) does
   * all its work except what leaves a trace - no TAP write, no datagram, no counter, no peer,
   * path or replay-filter note, no settle, no WHOIS; what would take the full path stops. It
   * keeps that code and its data in the caches of a CPU that has been idle (see `Core.rehearse`).
   * Exceptions are internal errors. Never throws.
   */
  rehearse(fn: () => void): void {
    if (this.#rehearsing) return;
    this.#rehearsing = true;
    try {
      fn();
    } catch (e) {
      this.internalError("rehearse", e);
    } finally {
      this.#rehearsing = false;
    }
  }

  /**
   * @internal Inside {@link rehearse}: runs the receive path on `pkt` (a whole, armored packet
   * as it came from `remote`). True if it reached the frame fast path's delivery.
   */
  rehearseReceive(now: number, localSocket: number, remote: InetAddress, pkt: Uint8Array): boolean {
    if (!this.#rehearsing) return false;
    this.#rehearsed = false;
    this.incoming.handle(now, localSocket, remote, pkt);
    return this.#rehearsed;
  }

  /** Runs the bookkeeping the frame fast path put off. Never throws. */
  settle(): void {
    const peer = this.#rxPeer;
    if (peer !== undefined) {
      this.#rxPeer = undefined;
      try {
        const now = this.#rxNow;
        this.counters.receivedFrames(peer.identity.address.value, this.#rxCount, this.#rxBytes);
        const path = this.topology.getPath(this.#rxSocket, this.#rxRemote!);
        peerReceived(this, now, peer, path, 0, Verb.FRAME, true);
      } catch (e) {
        this.internalError("settle", e);
      }
      this.#rxCount = this.#rxBytes = 0;
      this.#rxRemote = undefined;
    }
    try {
      this.#fast?.settle();
    } catch (e) {
      this.internalError("settle", e);
    }
  }

  /** Sets the VL2 hook. */
  setUpperLayer(h: UpperLayer): void {
    this.#upper = h;
  }

  /**
   * VL2 tells VL1 that a packet from `source` on (socket, remote) established trust (a
   * credential-gated frame or credentials): enables relaying over that path and path pushes.
   */
  noteTrustEstablished(now: number, source: Address, localSocket: number, remote: InetAddress) {
    const p = this.topology.peers.get(source.value);
    if (!p) return;
    p.lastTrustEstablished = now;
    this.topology.findPath(localSocket, remote)?.received(now, true);
  }

  /** Inbound credential rate gate (1 s per peer) for VL2; true if allowed now. */
  allowCredentials(now: number, source: Address): boolean {
    return this.topology.peers.get(source.value)?.allowCredentials(now) ?? false;
  }

  /**
   * The identity of a known peer, loading it from the peer cache if needed; our own address
   * gives our identity. Undefined if unknown (then {@link requestWhois} asks an upstream).
   */
  identityOf(addr: Address | number): Identity | undefined {
    const a = typeof addr === "number" ? addr : addr.value;
    if (a === this.address.value) return this.identity;
    try {
      return this.topology.getPeer(a)?.identity;
    } catch (e) {
      this.internalError("identity_of", e);
      return undefined;
    }
  }

  /** Sends a WHOIS for `addr` to the best upstream (at most once per 500 ms per address). */
  requestWhois(now: number, addr: Address | number): void {
    try {
      this.#now = now;
      this.switch.requestWhois(now, typeof addr === "number" ? addr : addr.value);
    } catch (e) {
      this.internalError("request_whois", e);
    }
  }

  /** Writes the peer cache record (`peer` state) of every current peer except upstreams. */
  savePeers(now: number): void {
    this.#now = now;
    for (const p of this.topology.peers.values()) {
      try {
        this.topology.savePeer(p);
      } catch (e) {
        this.internalError("save_peers", e);
      }
    }
  }

  /** Counts for memory-bound checks: peers, paths, queued packets. */
  stats(): { peers: number; paths: number; queued: number } {
    return {
      peers: this.topology.peers.size,
      paths: this.topology.pathCount,
      queued: this.whois.size,
    };
  }

  /** Entries of every table keyed by what peers send, and drop counts (metrics, tests). */
  tableStats(): NodeTableStats {
    const t = this.topology;
    const c = this.identityChecks.stats();
    return {
      peers: t.peers.size,
      paths: t.pathCount,
      whoisQueue: this.whois.size,
      whoisRequests: this.whois.gateSize,
      fragments: this.#reassembler.pending(this.#now),
      rendezvous: this.rendezvous.size,
      selfAwareness: this.selfAwareness.size,
      uniteGate: this.uniteGate.size,
      peerCacheMisses: t.cacheMissCount,
      identityNegative: c.negativeEntries,
      identityPositive: c.positiveEntries,
      identityValidations: c.validations,
      identityAgreements: c.agreements,
      identityFailures: c.failures,
      identityReplaysDropped: c.replaysDropped,
      identityBudgetDropped: c.budgetDropped,
      whoisQueueDropped: this.whois.dropped,
      whoisRequestsEvicted: this.whois.gateEvicted,
      selfAwarenessEvicted: this.selfAwareness.evicted,
      pathsRefused: t.pathsRefused,
      peersEvicted: t.peersEvicted,
    };
  }

  // ---- internals used by Switch / Incoming ----

  /** @internal OK(ECHO) matching a ping; true if consumed. */
  pingReply(now: number, inRe: bigint): boolean {
    return this.#pings.reply(now, inRe);
  }

  /** @internal Whether a physical address may carry traffic for `peer` (spec §9.2). */
  shouldUsePath(peer: number, localSocket: number, remote: InetAddress): boolean {
    if (!isUsableScope(remote, this.settings.allowLoopbackPaths)) return false;
    if (this.topology.isProhibitedEndpoint(peer, remote)) return false;
    return this.host.pathCheck ? this.host.pathCheck(peer, localSocket, remote) : true;
  }

  /** @internal Self-awareness report from `peer`; resets paths on a trusted surface change. */
  iam(now: number, peer: Peer, localSocket: number, reporterPhys: InetAddress, mine: InetAddress) {
    const scope = surfaceReported(this, now, peer, localSocket, reporterPhys, mine);
    if (scope !== undefined) {
      this.#trace(`surface changed to ${mine}: reset paths in scope ${scope}`);
    }
  }

  /** @internal Cached serialized world. */
  serializedWorld(w: World): Uint8Array {
    let b = this.#worldBytes.get(w);
    if (!b) {
      b = serializeWorld(w);
      this.#worldBytes.set(w, b);
    }
    return b;
  }

  /** @internal Hands a packet to VL2. */
  toUpper(
    now: number,
    peer: Peer,
    verb: Verb,
    p: Uint8Array,
    hops: number,
    localSocket: number,
    remote: InetAddress,
  ): void {
    if (!this.#upper) return;
    try {
      this.#upper.handle(
        now,
        peer.identity.address,
        verb,
        p.subarray(IDX_PAYLOAD),
        new UpperPacketInfo(hops, p, remote, localSocket),
      );
    } catch (e) {
      this.internalError("upper_layer", e);
    }
  }

  /** @internal A peer became known (OK(WHOIS)): flush queued packets to/from it. */
  peerLearned(now: number, peer: Peer): void {
    const a = peer.identity.address.value;
    for (const e of this.whois.takeTx(a)) {
      const id = this.switch.sendToPeer(now, peer, e.verb, e.payload, {
        encrypt: e.encrypt,
        compress: e.compress,
      });
      if (id !== undefined && e.verb === Verb.ECHO) this.#pings.flushed(a, id);
    }
    for (const e of this.whois.takeRx(a)) {
      this.incoming.handle(now, e.localSocket, e.remote, e.packet);
    }
    for (const e of this.rendezvous.take(now, a)) {
      this.switch.punchAndContact(now, peer, e.endpoint);
    }
  }

  /** @internal Per-packet bookkeeping after a handler (path learning, pushes; spec §9.2, §9.5). */
  peerReceived(
    now: number,
    peer: Peer,
    path: Path,
    hops: number,
    verb: number,
    _inReVerb: number,
    trustEstablished: boolean,
  ): void {
    peerReceived(this, now, peer, path, hops, verb, trustEstablished);
  }

  // ---- private ----

  #receive(now: number, localSocket: number, remote: InetAddress, data: Uint8Array): void {
    const len = data.length;
    if (len === 13) return; // legacy LAN beacon: ignored
    if (isFragment(data, len)) {
      const dest = data[8] * 0x1_0000_0000 +
        (((data[9] << 24) | (data[10] << 16) | (data[11] << 8) | data[12]) >>> 0);
      if (dest !== this.address.value) {
        this.switch.relay(now, localSocket, remote, data, true);
        return;
      }
      const whole = this.#reassembler.addFragment(now, data, len);
      if (whole) this.incoming.handle(now, localSocket, remote, whole);
      return;
    }
    if (len < MIN_PACKET_LENGTH) return;
    const dest = getDest(data);
    const source = getSource(data);
    if (source === this.address.value) return;
    if (dest !== this.address.value) {
      this.switch.relay(now, localSocket, remote, data, false);
      return;
    }
    if (isFragmented(data)) {
      const whole = this.#reassembler.addHead(now, data, len);
      if (whole) this.incoming.handle(now, localSocket, remote, whole);
      return;
    }
    this.incoming.handle(now, localSocket, remote, data);
  }

  #tick(now: number): number {
    let next = PING_CHECK_INTERVAL;
    if (now - this.#lastPingCheck >= PING_CHECK_INTERVAL) {
      this.#lastPingCheck = now;
      this.#pingCheck(now);
    } else {
      next = PING_CHECK_INTERVAL - (now - this.#lastPingCheck);
    }
    if (now - this.#lastQueueTick >= WHOIS_RETRY_DELAY) {
      this.#lastQueueTick = now;
      for (const a of this.whois.expire(now)) this.switch.requestWhois(now, a);
      for (const a of this.rendezvous.expire(now)) this.switch.requestWhois(now, a);
    }
    if (this.whois.size > 0 || this.rendezvous.size > 0) next = Math.min(next, WHOIS_RETRY_DELAY);
    if (now - this.#lastHousekeeping >= HOUSEKEEPING_PERIOD) {
      this.#lastHousekeeping = now;
      this.#housekeeping(now);
    }
    if (this.#upper?.tick) {
      try {
        const want = this.#upper.tick(now);
        if (typeof want === "number" && want >= 0) next = Math.min(next, want);
      } catch (e) {
        this.internalError("upper_tick", e);
      }
    }
    return Math.max(TIMER_GRANULARITY, Math.min(PING_CHECK_INTERVAL, next));
  }

  #pingCheck(now: number): void {
    const lastFromUpstream = pingAndKeepalive(this, now);
    const was = this.#online;
    this.#online = now - lastFromUpstream < PEER_ACTIVITY_TIMEOUT && lastFromUpstream > 0 ||
      this.topology.amUpstream;
    if (was !== this.#online) this.host.event({ type: this.#online ? "online" : "offline" });
  }

  #housekeeping(now: number): void {
    this.topology.evictInactive(now);
    this.topology.saveChangedPeers(PEER_CACHE_WRITES_PER_HOUSEKEEPING);
    this.topology.cleanPaths(now);
    this.selfAwareness.clean(now);
    this.uniteGate.clean(now);
    this.#pings.clean(now);
  }

  #info(p: Peer): PeerInfo {
    return peerInfo(p, this.topology.role(p.identity.address.value), this.#now);
  }

  /**
   * Reports an internal exception `e` (a bug, never bad input) caught at boundary `where`:
   * counted in {@link NodeCounters} (`zt_internal_errors_total{where}`) and raised as an
   * `internalError` event with the stack. VL2 and the controller report theirs here too.
   * Never throws.
   */
  internalError(where: string, e: unknown): void {
    this.counters.internalError(where);
    try {
      this.host.event({
        type: "internalError",
        where,
        message: e instanceof Error ? e.message : String(e),
        stack: e instanceof Error ? e.stack : undefined,
      });
    } catch {
      // the host's problem
    }
  }

  #trace(message: string): void {
    try {
      this.host.event({ type: "trace", message });
    } catch {
      // the host's problem
    }
  }
}
