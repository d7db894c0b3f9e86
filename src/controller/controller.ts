// The network controller: record CRUD for the API and the decision for each config request (§10).
import { Address } from "../vl1/address.ts";
import { Identity } from "../vl1/identity.ts";
import { InetAddress } from "../vl1/inet_address.ts";
import { rfc4193Address, sixPlaneAddress } from "../vl2/managed_ips.ts";
import { NetworkId } from "../vl2/network_id.ts";
import type {
  ConfigDecision,
  NetconfPlan,
  PlanCapability,
  PlanTag,
  Requester,
  RevocationPlan,
} from "./config_decision.ts";
import {
  NETCONF_FLAG_ENABLE_BROADCAST,
  NETCONF_FLAG_NDP_EMULATION,
  SPECIALIST_ACTIVE_BRIDGE,
} from "./config_decision.ts";
import {
  networkPools,
  networkRoutes,
  pickIpv4,
  pickIpv6,
  staticAssignments,
} from "./ip_assignment.ts";
import type { Json, JsonObject } from "../util/json.ts";
import { isJsonObject } from "../util/json.ts";
import { coerceU64, isScalar, low32 } from "./coerce.ts";
import type { PostResult } from "./model.ts";
import {
  applyMemberPost,
  applyNetworkPost,
  initMember,
  initNetwork,
  MAX_MTU,
  memberForSave,
  MIN_MTU,
  networkForSave,
} from "./model.ts";
import { storedRules } from "./rules_json.ts";
import type { ControllerStore } from "./store.ts";
import { type MemberStatus, type MemberStatusLimits, MemberStatusTable } from "./member_status.ts";

export type { MemberStatus } from "./member_status.ts";

/** Members seen within this many ms count as online (pushes, revocations). */
export const MEMBER_ONLINE_WINDOW = 120_000;
/** Minimum spacing of requests carrying a packet ID, per (network, member) (ms). */
export const MIN_REQUEST_PERIOD = 1000;
/** Default credential time max delta `ctmd` (ms). */
export const DEFAULT_CTMD = 1_800_000;
/** Bounds of a network's `certificateTimeoutWindowSize`. */
const MIN_CTMD = 300_000;
const MAX_CTMD = 7_200_000;
const ALL_ONES = 0xffff_ffff_ffff_ffffn;

/** Controller construction parameters. */
export interface ControllerOptions {
  /** The controller's identity (must hold the private key to answer requests). */
  identity: Identity;
  /** The database. */
  store: ControllerStore;
  /** Random source (network IDs, revocation IDs, IPv6 pool trials). */
  random: (n: number) => Uint8Array;
  /** Clock (ms) for changes made through the API. */
  now: () => number;
  /** Bounds of the in-memory member status (what members last reported); defaults if absent. */
  memberStatusLimits?: MemberStatusLimits;
}

/** A member's live status as the API reports it (see {@link Controller.memberLiveStatus}). */
export interface MemberLiveStatus {
  /** Time of its last config request (ms). */
  lastSeen: number;
  /** Asked within {@link MEMBER_ONLINE_WINDOW}. */
  online: boolean;
  /** `ip/port` it asked from, if known. */
  physicalAddress: string | null;
  /** Software version it reported (`major.minor.revision`), if it did. */
  clientVersion: string | null;
  [key: string]: Json;
}

/** Change notifications, for pushing configs and revocations to members. */
export type ControllerEvent =
  /** A network was created or changed: push new configs to `pushTo` (members seen recently). */
  | { type: "network"; nwid: string; pushTo: string[] }
  /** A member record changed through the API; `online` if it was seen recently. */
  | { type: "member"; nwid: string; address: string; online: boolean }
  /** A member lost authorization: sign `revocation` and send it to `notify` (and the member). */
  | {
    type: "revocation";
    nwid: string;
    address: string;
    revocation: RevocationPlan;
    notify: string[];
  }
  /** A network was deleted. */
  | { type: "networkDeleted"; nwid: string }
  /**
   * A member asked for a config of an existing network (not re-runs for pushes): whether it is
   * authorized now and whether this request created its record.
   */
  | { type: "request"; nwid: string; address: string; authorized: boolean; created: boolean };

/** Result of a network/member POST. */
export type ControllerPostResult =
  | { ok: true; value: JsonObject; created: boolean }
  | { ok: false; status: 400 | 404; error: string };

const HEX16 = /^[0-9a-fA-F]{16}$/;
const HEX10 = /^[0-9a-fA-F]{10}$/;

function nwidText(n: bigint): string {
  return n.toString(16).padStart(16, "0");
}

function num(v: Json | undefined, dflt: number): number {
  return typeof v === "number" && Number.isFinite(v) ? v : dflt;
}

/** A stored integer as the reference's `(unsigned int)jsonInt(v)`: its low 32 bits. */
function uint32(v: Json | undefined, dflt: number): number {
  return isScalar(v) ? low32(coerceU64(v)) : dflt;
}

/** The COM qualifiers the controller issues (spec §7.4). */
function comQualifiers(
  nwid: bigint,
  ts: number,
  ctmd: number,
  who: Identity,
): Array<[bigint, bigint, bigint]> {
  const h = who.publicKeyHash();
  const q: Array<[bigint, bigint, bigint]> = [
    [0n, BigInt(ts), BigInt(ctmd)],
    [1n, nwid, 0n],
    [2n, BigInt(who.address.value), ALL_ONES],
  ];
  const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  for (let i = 0; i < 4; i++) q.push([BigInt(3 + i), dv.getBigUint64(i * 8), ALL_ONES]);
  return q;
}

/**
 * The embedded network controller. It answers config requests for networks whose top 40 bits
 * are its own address, keeps member records in a {@link ControllerStore}, and reports changes
 * through {@link Controller.onChange} so the service can push configs and revocations.
 * It does no I/O itself except through the store.
 */
export class Controller {
  /** Our identity. */
  readonly identity: Identity;
  /** The database. */
  readonly store: ControllerStore;
  private readonly random: (n: number) => Uint8Array;
  /** The clock used for API changes. */
  readonly now: () => number;
  private readonly listeners = new Set<(e: ControllerEvent) => void>();
  /** What members last reported, only for networks we have; bounded (see MemberStatusTable). */
  readonly memberStatusTable: MemberStatusTable;
  private pushing = false;

  /** Creates a controller over `store`. */
  constructor(opts: ControllerOptions) {
    this.identity = opts.identity;
    this.store = opts.store;
    this.random = opts.random;
    this.now = opts.now;
    this.memberStatusTable = new MemberStatusTable(opts.memberStatusLimits);
  }

  /** Our address as 10 hex digits. */
  get address(): string {
    return this.identity.address.toString();
  }

  /** Subscribes to change events; returns an unsubscribe function. */
  onChange(cb: (e: ControllerEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private emit(e: ControllerEvent): void {
    for (const cb of [...this.listeners]) {
      try {
        cb(e);
      } catch {
        // a listener's failure must not break the controller
      }
    }
  }

  // ---- member status -------------------------------------------------------------------------

  /** What member `address` last reported on network `nwid`, if it has asked since start. */
  memberStatus(nwid: string, address: string): MemberStatus | undefined {
    return this.memberStatusTable.get(nwid.toLowerCase(), address.toLowerCase());
  }

  /** Whether member `address` of `nwid` was seen within {@link MEMBER_ONLINE_WINDOW} of `now`. */
  isOnline(nwid: string, address: string, now: number): boolean {
    const s = this.memberStatusTable.get(nwid.toLowerCase(), address.toLowerCase());
    return s !== undefined && now - s.lastSeen <= MEMBER_ONLINE_WINDOW;
  }

  /** Members of `nwid` seen within {@link MEMBER_ONLINE_WINDOW} of `now`, sorted. */
  onlineMembers(nwid: string, now: number): string[] {
    return this.memberStatusTable.seenWithin(nwid.toLowerCase(), now, MEMBER_ONLINE_WINDOW).sort();
  }

  /**
   * What the controller knows of the members of `nwid` from their config requests since it
   * started (a zt extension; the reference's file-backed controller does not expose it): per
   * address the time of the last request, whether that is within {@link MEMBER_ONLINE_WINDOW} of
   * `now`, where it came from and the software version it reported.
   */
  memberLiveStatus(nwid: string, now: number): Record<string, MemberLiveStatus> {
    const out: Record<string, MemberLiveStatus> = {};
    for (const [addr, s] of this.memberStatusTable.entries(nwid.toLowerCase())) {
      const md = s.metadata;
      out[addr] = {
        lastSeen: s.lastSeen,
        online: now - s.lastSeen <= MEMBER_ONLINE_WINDOW,
        physicalAddress: s.physicalAddress?.toString() ?? null,
        clientVersion: md.majorVersion !== undefined && md.minorVersion !== undefined &&
            md.revision !== undefined
          ? `${md.majorVersion}.${md.minorVersion}.${md.revision}`
          : null,
      };
    }
    return out;
  }

  /**
   * Re-runs the config decision for a member that has asked before (for pushes after a
   * change), using its last identity and metadata. Undefined if it never asked.
   */
  pushDecision(now: number, nwid: string, address: string): ConfigDecision | undefined {
    const s = this.memberStatus(nwid, address);
    const id = NetworkId.parse(nwid);
    if (!s || !id) return undefined;
    this.pushing = true;
    try {
      return this.handleConfigRequest(now, {
        identity: s.identity,
        address: s.identity.address,
        metadata: s.metadata,
        physicalAddress: s.physicalAddress,
      }, id.value);
    } finally {
      this.pushing = false;
    }
  }

  // ---- API operations --------------------------------------------------------------------------

  /** All network IDs, sorted. */
  listNetworks(): string[] {
    return this.store.listNetworkIds();
  }

  /** One network record, or undefined. */
  getNetwork(nwid: string): JsonObject | undefined {
    return this.store.getNetwork(nwid);
  }

  /** Member counts of a network. */
  memberCounts(nwid: string): { total: number; authorized: number } {
    const ms = this.store.listMembers(nwid);
    return { total: ms.length, authorized: ms.filter((m) => m.authorized === true).length };
  }

  /** A fresh random network ID `<our address><6 hex>` (never suffix 000000, never in use). */
  private freshNetworkId(): string | undefined {
    for (let i = 0; i < 1024; i++) {
      const r = this.random(3);
      const suffix = (r[0] << 16) | (r[1] << 8) | r[2];
      if (suffix === 0) continue;
      const id = this.address + suffix.toString(16).padStart(6, "0");
      if (!this.store.getNetwork(id)) return id;
    }
    return undefined;
  }

  /**
   * Creates or updates a network from a POST body. `nwid` undefined (or `<our address>______`)
   * creates one with a fresh random ID; a 16-hex ID creates or updates that network.
   */
  postNetwork(nwid: string | undefined, body: unknown): ControllerPostResult {
    let id = nwid;
    if (id === undefined || /^[0-9a-fA-F]{10}_{6}$/.test(id)) {
      if (id !== undefined && id.slice(0, 10).toLowerCase() !== this.address) {
        return { ok: false, status: 400, error: "nwid: controller address does not match ours" };
      }
      id = this.freshNetworkId();
      if (id === undefined) return { ok: false, status: 400, error: "nwid: no free network ID" };
    }
    if (!HEX16.test(id)) return { ok: false, status: 400, error: "nwid: expected 16 hex digits" };
    id = id.toLowerCase();
    const now = this.now();
    const old = this.store.getNetwork(id);
    if (old === undefined && id.slice(0, 10) !== this.address) {
      // (the reference creates any id; members could never reach such a network's controller)
      return {
        ok: false,
        status: 400,
        error: `nwid: ${id} is not under this controller's address ${this.address} ` +
          `(a network id starts with its controller's 10-hex-digit address)`,
      };
    }
    const r: PostResult<JsonObject> = applyNetworkPost(initNetwork(old ?? {}, id, now), body);
    if (!r.ok) return { ok: false, status: 400, error: r.error };
    const saved = this.store.saveNetwork(networkForSave(r.value));
    if (saved.changed) {
      this.emit({ type: "network", nwid: id, pushTo: this.onlineMembers(id, now) });
    }
    return { ok: true, value: saved.record, created: old === undefined };
  }

  /** Deletes a network (and its members); authorized members get COM revocations. */
  deleteNetwork(nwid: string): JsonObject | undefined {
    const id = nwid.toLowerCase();
    const members = this.store.listMembers(id);
    const now = this.now();
    const notify = this.onlineMembers(id, now);
    const old = this.store.deleteNetwork(id);
    if (!old) return undefined;
    for (const m of members) {
      if (m.authorized === true) this.emitRevocation(id, String(m.id), now, notify);
    }
    this.memberStatusTable.deleteNetwork(id);
    this.emit({ type: "networkDeleted", nwid: id });
    return old;
  }

  /** Members of a network, sorted by address (undefined if the network does not exist). */
  listMembers(nwid: string): JsonObject[] | undefined {
    if (!this.store.getNetwork(nwid)) return undefined;
    return this.store.listMembers(nwid);
  }

  /** One member record, or undefined. */
  getMember(nwid: string, address: string): JsonObject | undefined {
    return this.store.getMember(nwid, address);
  }

  /** Creates or updates a member from a POST body (404 if the network does not exist). */
  postMember(nwid: string, address: string, body: unknown): ControllerPostResult {
    if (!HEX16.test(nwid)) return { ok: false, status: 400, error: "nwid: expected 16 hex digits" };
    if (!HEX10.test(address)) {
      return { ok: false, status: 400, error: "address: expected 10 hex digits" };
    }
    const id = nwid.toLowerCase();
    const addr = address.toLowerCase();
    if (Address.parse(addr)!.isReserved()) {
      return {
        ok: false,
        status: 400,
        error:
          `address: ${addr} is reserved (0000000000 and ff.......... are never node addresses)`,
      };
    }
    if (!this.store.getNetwork(id)) return { ok: false, status: 404, error: "network not found" };
    const now = this.now();
    const old = this.store.getMember(id, addr);
    const r = applyMemberPost(initMember(old ?? {}, id, addr, now), body, now);
    if (!r.ok) return { ok: false, status: 400, error: r.error };
    const saved = this.store.saveMember(memberForSave(r.value.member));
    if (saved.changed) {
      if (r.value.change === "deauthorized") {
        this.emitRevocation(id, addr, now, this.onlineMembers(id, now));
      }
      this.emit({
        type: "member",
        nwid: id,
        address: addr,
        online: this.isOnline(id, addr, now),
      });
    }
    return { ok: true, value: saved.record, created: old === undefined };
  }

  /** Deletes a member; if it was authorized its COM is revoked. */
  deleteMember(nwid: string, address: string): JsonObject | undefined {
    const id = nwid.toLowerCase();
    const addr = address.toLowerCase();
    const old = this.store.deleteMember(id, addr);
    if (!old) return undefined;
    const now = this.now();
    if (old.authorized === true) this.emitRevocation(id, addr, now, this.onlineMembers(id, now));
    this.memberStatusTable.delete(id, addr);
    return old;
  }

  /** A COM revocation for `address` (threshold `now`, fast propagate). */
  revocationFor(nwid: string, address: string, now: number): RevocationPlan {
    const r = this.random(4);
    return {
      id: ((r[0] << 24) | (r[1] << 16) | (r[2] << 8) | r[3]) >>> 0,
      networkId: BigInt("0x" + nwid),
      credentialId: 0,
      threshold: now,
      flags: 0x01,
      target: Address.parse(address)!,
      credentialType: 1,
    };
  }

  private emitRevocation(nwid: string, address: string, now: number, notify: string[]): void {
    this.emit({
      type: "revocation",
      nwid,
      address,
      revocation: this.revocationFor(nwid, address, now),
      notify,
    });
  }

  // ---- config requests -------------------------------------------------------------------------

  /**
   * Decides the answer to a NETWORK_CONFIG_REQUEST from `requester` for `nwid` at time `now`
   * (spec §10.5): ignore (not our network / rate-limited), an ERROR code, or a config plan.
   * Records the member's identity, version and authorization changes in the store.
   */
  handleConfigRequest(
    now: number,
    requester: Requester,
    nwid: bigint | NetworkId,
  ): ConfigDecision {
    const d = this.decideConfigRequest(now, requester, nwid);
    if (!this.pushing && d.kind !== "ignore") {
      const id = nwidText(typeof nwid === "bigint" ? nwid : nwid.value);
      const address = requester.address.toString();
      const m = this.store.getMember(id, address);
      if (m) {
        this.emit({
          type: "request",
          nwid: id,
          address,
          authorized: m.authorized === true,
          created: num(m.creationTime, -1) === now,
        });
      }
    }
    return d;
  }

  private decideConfigRequest(
    now: number,
    requester: Requester,
    nwid: bigint | NetworkId,
  ): ConfigDecision {
    const nw = typeof nwid === "bigint" ? nwid : nwid.value;
    if (!this.identity.hasPrivate() || Number(nw >> 24n) !== this.identity.address.value) {
      return { kind: "ignore", reason: "not-our-network" };
    }
    const id = nwidText(nw);
    // Nothing is remembered for networks we do not have (made-up IDs cost no memory).
    const stored = this.store.getNetwork(id);
    if (!stored) return { kind: "error", code: "OBJ_NOT_FOUND", networkId: nw };
    const addr = requester.address.toString();
    const prev = this.memberStatusTable.get(id, addr);
    let lastRequest = prev?.lastRequest;
    if (requester.packetId !== undefined) {
      if (
        lastRequest !== undefined && now >= lastRequest && now - lastRequest < MIN_REQUEST_PERIOD
      ) {
        return { kind: "ignore", reason: "rate-limited" };
      }
      lastRequest = now;
    }
    this.memberStatusTable.set(id, addr, {
      lastSeen: now,
      lastRequest,
      // a relayed request says nothing of where the member is: keep what a direct one said
      physicalAddress: requester.physicalAddress ?? prev?.physicalAddress,
      identity: requester.identity,
      metadata: requester.metadata,
    });

    const network = initNetwork(stored, id, now);
    const existing = this.store.getMember(id, addr);
    const member = initMember(existing ?? {}, id, addr, now);

    if (typeof member.identity === "string" && member.identity !== "") {
      const known = Identity.fromString(member.identity);
      if (!known || !known.equals(requester.identity)) {
        return { kind: "error", code: "ACCESS_DENIED", networkId: nw };
      }
    } else {
      member.identity = requester.identity.toString(false);
    }

    let authorized = member.authorized === true;
    if (!authorized) {
      if (network.private === false) {
        authorized = true;
        member.authorized = true;
        member.lastAuthorizedTime = now;
        member.lastAuthorizedCredentialType = "public";
        member.lastAuthorizedCredential = null;
      } else {
        const a = requester.metadata.auth;
        if (a !== undefined && a.startsWith("token:") && isJsonObject(network.authTokens)) {
          const t = a.slice(6);
          const exp = network.authTokens[t];
          const live = typeof exp === "number"
            ? exp === 0 || exp > now
            : typeof exp === "bigint" && (exp === 0n || exp > BigInt(now));
          if (live) {
            authorized = true;
            member.authorized = true;
            member.lastAuthorizedTime = now;
            member.lastAuthorizedCredentialType = "token";
            member.lastAuthorizedCredential = t;
          }
        }
      }
    }

    if (
      authorized && network.ssoEnabled === true && member.ssoExempt !== true &&
      num(member.authenticationExpiryTime, 0) <= now
    ) {
      this.store.saveMember(memberForSave(member));
      return {
        kind: "error",
        code: "AUTHENTICATION_REQUIRED",
        networkId: nw,
        authInfo: { version: 0, authenticationURL: String(network.authorizationEndpoint ?? "") },
      };
    }
    if (!authorized) {
      this.store.saveMember(memberForSave(member));
      return { kind: "error", code: "ACCESS_DENIED", networkId: nw };
    }

    const md = requester.metadata;
    if (md.majorVersion !== undefined) member.vMajor = md.majorVersion;
    if (md.minorVersion !== undefined) member.vMinor = md.minorVersion;
    if (md.revision !== undefined) member.vRev = md.revision;
    if (md.protocolVersion !== undefined) member.vProto = md.protocolVersion;

    const plan = this.buildPlan(now, nw, network, member, existing === undefined, requester);
    this.store.saveMember(memberForSave(member));
    return { kind: "config", networkId: nw, plan };
  }

  /** Builds the config (step 8); updates `member` (tags, capabilities, assigned IPs). */
  private buildPlan(
    now: number,
    nw: bigint,
    network: JsonObject,
    member: JsonObject,
    isNewMember: boolean,
    requester: Requester,
  ): NetconfPlan {
    const id = String(network.id);
    const addr = String(member.id);
    const ctmd = typeof network.certificateTimeoutWindowSize === "number"
      ? Math.max(MIN_CTMD, Math.min(MAX_CTMD, network.certificateTimeoutWindowSize))
      : DEFAULT_CTMD;
    let flags = network.enableBroadcast === false ? 0 : NETCONF_FLAG_ENABLE_BROADCAST;

    let traceTarget = 0;
    let traceLevel = 0;
    const mt = member.remoteTraceTarget;
    const nt = network.remoteTraceTarget;
    if (typeof mt === "string" && HEX10.test(mt)) {
      traceTarget = parseInt(mt, 16);
      traceLevel = num(member.remoteTraceLevel, 0);
    } else if (typeof nt === "string" && HEX10.test(nt)) {
      traceTarget = parseInt(nt, 16);
      traceLevel = num(network.remoteTraceLevel, 0);
    }

    // Specialists: every active bridge (this member as it is now, others as stored).
    const bridgeSet = new Set(this.store.activeBridges(id));
    if (member.activeBridge === true) bridgeSet.add(addr);
    else bridgeSet.delete(addr);
    const bridges = [...bridgeSet].sort();
    const specialists = bridges.map((a) => SPECIALIST_ACTIVE_BRIDGE | BigInt("0x" + a));

    // Rules, capabilities, tags.
    const rules = requester.metadata.rulesEngineRevision
      ? storedRules(network.rules)
      : [{ type: "ACTION_ACCEPT" }];
    const netCaps = Array.isArray(network.capabilities)
      ? network.capabilities.filter(isJsonObject)
      : [];
    let memberCaps = Array.isArray(member.capabilities)
      ? member.capabilities.filter((c): c is number => typeof c === "number")
      : [];
    if (isNewMember) {
      for (const c of netCaps) {
        if (c.default === true && typeof c.id === "number") memberCaps.push(c.id);
      }
      memberCaps = [...new Set(memberCaps)].sort((a, b) => a - b);
      member.capabilities = memberCaps;
    }
    const capabilities: PlanCapability[] = [];
    for (const cid of memberCaps) {
      const c = netCaps.find((x) => x.id === cid);
      if (c) capabilities.push({ id: cid, rules: storedRules(c.rules) });
    }
    const tagMap = new Map<number, number>();
    if (Array.isArray(member.tags)) {
      for (const t of member.tags) {
        if (Array.isArray(t) && typeof t[0] === "number" && typeof t[1] === "number") {
          tagMap.set(t[0], t[1]);
        }
      }
    }
    let tagsAdded = false;
    if (Array.isArray(network.tags)) {
      for (const t of network.tags) {
        if (isJsonObject(t) && typeof t.id === "number" && typeof t.default === "number") {
          if (!tagMap.has(t.id)) {
            tagMap.set(t.id, t.default);
            tagsAdded = true;
          }
        }
      }
    }
    const tagIds = [...tagMap.keys()].sort((a, b) => a - b);
    if (tagsAdded) member.tags = tagIds.map((t) => [t, tagMap.get(t)!]);
    const tags: PlanTag[] = tagIds.map((t) => ({ id: t, value: tagMap.get(t)! }));

    // Routes and managed addresses.
    const routes = networkRoutes(network.routes);
    const staticIps: InetAddress[] = [];
    const noAuto = member.noAutoAssignIps === true;
    const v4m = isJsonObject(network.v4AssignMode) ? network.v4AssignMode : {};
    const v6m = isJsonObject(network.v6AssignMode) ? network.v6AssignMode : {};
    const address = requester.address.value;
    if (!noAuto) {
      if (v6m.rfc4193 === true) staticIps.push(rfc4193Address(nw, address));
      if (v6m["6plane"] === true) staticIps.push(sixPlaneAddress(nw, address));
      if (v6m.rfc4193 === true || v6m["6plane"] === true) flags |= NETCONF_FLAG_NDP_EMULATION;
    }
    const statics = staticAssignments(member.ipAssignments, routes);
    staticIps.push(...statics);
    const haveV4 = statics.some((a) => a.family === 4);
    const haveV6 = statics.some((a) => a.family === 6);
    if (!noAuto && ((v6m.zt === true && !haveV6) || (v4m.zt === true && !haveV4))) {
      // IPs of the other members, from the store's index (no scan of every member)
      const taken = { has: (k: string) => this.store.ipTaken(id, k, addr) };
      const pools = networkPools(network.ipAssignmentPools);
      const assigned: string[] = [];
      if (v6m.zt === true && !haveV6) {
        const ip = pickIpv6(pools, routes, address, taken, this.random);
        if (ip) {
          staticIps.push(ip);
          assigned.push(ip.toIpString());
        }
      }
      if (v4m.zt === true && !haveV4) {
        const ip = pickIpv4(pools, routes, address, taken);
        if (ip) {
          staticIps.push(ip);
          assigned.push(ip.toIpString());
        }
      }
      if (assigned.length > 0) {
        const cur = Array.isArray(member.ipAssignments) ? member.ipAssignments : [];
        member.ipAssignments = [...cur, ...assigned];
      }
    }
    if (staticIps.length > 32) staticIps.length = 32;

    let dns: NetconfPlan["dns"];
    if (isJsonObject(network.dns)) {
      const servers: InetAddress[] = [];
      if (Array.isArray(network.dns.servers)) {
        for (const s of network.dns.servers) {
          const ip = typeof s === "string" ? InetAddress.fromIp(s) : undefined;
          if (ip && servers.length < 4) servers.push(ip);
        }
      }
      dns = { domain: String(network.dns.domain ?? "").slice(0, 127), servers };
    }

    return {
      networkId: nw,
      timestamp: now,
      credentialTimeMaxDelta: ctmd,
      revision: num(network.revision, 0),
      issuedTo: requester.address,
      issuedToIdentity: requester.identity,
      remoteTraceTarget: traceTarget,
      remoteTraceLevel: traceLevel,
      flags,
      type: network.private === false ? "public" : "private",
      name: String(network.name ?? "").slice(0, 127),
      mtu: Math.max(MIN_MTU, Math.min(MAX_MTU, uint32(network.mtu, 2800))),
      multicastLimit: uint32(network.multicastLimit, 32),
      specialists,
      routes,
      staticIps,
      rules,
      capabilities,
      tags,
      dns,
      comQualifiers: comQualifiers(nw, now, ctmd, requester.identity),
      certificateOfOwnership: staticIps.length > 0 ? { id: 1, ips: staticIps.slice() } : undefined,
      sso: { enabled: network.ssoEnabled === true, version: 0 },
    };
  }
}
