// What the controller decided for one NETWORK_CONFIG_REQUEST: an error or a config plan (plain data).
import type { Address } from "../vl1/address.ts";
import type { Identity } from "../vl1/identity.ts";
import type { InetAddress } from "../vl1/inet_address.ts";
import type { JsonObject } from "../util/json.ts";

/** Request metadata the controller uses (spec §7.2); absent keys stay undefined. */
export interface RequestMetadata {
  /** `v`: netconf version understood. */
  netconfVersion?: number;
  /** `pv`: protocol version. */
  protocolVersion?: number;
  /** `majv`, `minv`, `revv`: software version. */
  majorVersion?: number;
  /** Minor version. */
  minorVersion?: number;
  /** Revision. */
  revision?: number;
  /** `revr`: rules engine revision (0/absent → accept-all rules are sent). */
  rulesEngineRevision?: number;
  /** `mr`, `mc`, `mcr`, `mt`: client limits. */
  maxNetworkRules?: number;
  /** Max capabilities. */
  maxCapabilities?: number;
  /** Max rules per capability. */
  maxCapabilityRules?: number;
  /** Max tags. */
  maxTags?: number;
  /** `o`: "platform/arch". */
  os?: string;
  /** `a`: authentication, e.g. `token:<t>`. */
  auth?: string;
}

/** Hex u64 text (16 digits, any length accepted) → number; undefined if malformed. */
function hexNumber(s: string | undefined): number | undefined {
  if (s === undefined || !/^[0-9a-fA-F]{1,16}$/.test(s)) return undefined;
  return Number(BigInt("0x" + s));
}

/**
 * Builds {@link RequestMetadata} from the metadata dictionary's entries (`get(key)` returns the
 * decoded value text, or undefined).
 */
export function requestMetadataFrom(get: (key: string) => string | undefined): RequestMetadata {
  return {
    netconfVersion: hexNumber(get("v")),
    protocolVersion: hexNumber(get("pv")),
    majorVersion: hexNumber(get("majv")),
    minorVersion: hexNumber(get("minv")),
    revision: hexNumber(get("revv")),
    rulesEngineRevision: hexNumber(get("revr")),
    maxNetworkRules: hexNumber(get("mr")),
    maxCapabilities: hexNumber(get("mc")),
    maxCapabilityRules: hexNumber(get("mcr")),
    maxTags: hexNumber(get("mt")),
    os: get("o"),
    auth: get("a"),
  };
}

/** Who asked for a config. */
export interface Requester {
  /** The requester's identity (public part is enough). */
  identity: Identity;
  /** Its address (equals `identity.address`). */
  address: Address;
  /** Parsed request metadata. */
  metadata: RequestMetadata;
  /** The physical address the request came from, if known. */
  physicalAddress?: InetAddress;
  /** The request packet ID; requests carrying one are rate-limited to one per second. */
  packetId?: bigint;
}

/** Error codes a controller replies with (spec §4.11). */
export type ConfigErrorCode = "OBJ_NOT_FOUND" | "ACCESS_DENIED" | "AUTHENTICATION_REQUIRED";

/** SSO info for AUTHENTICATION_REQUIRED (spec §10.6), version 0 form. */
export interface AuthInfo {
  /** `aV`. */
  version: number;
  /** `aU` (v0). */
  authenticationURL: string;
}

/** A route in a config. */
export interface PlanRoute {
  /** Target network; port = prefix bits. */
  target: InetAddress;
  /** Gateway, undefined = on-link. */
  via: InetAddress | undefined;
  /** Route flags (0). */
  flags: number;
  /** Metric (0). */
  metric: number;
}

/** A capability to issue. */
export interface PlanCapability {
  /** Capability ID. */
  id: number;
  /** Its rules in canonical controller JSON. */
  rules: JsonObject[];
}

/** A tag to issue. */
export interface PlanTag {
  /** Tag ID. */
  id: number;
  /** Value. */
  value: number;
}

/** Specialist role flag: active bridge (spec §7.3 `S`). */
export const SPECIALIST_ACTIVE_BRIDGE = 0x0000020000000000n;

/** Network config flag bits (spec §7.3 `f`). */
export const NETCONF_FLAG_ENABLE_BROADCAST = 0x02;
/** IPv6 NDP emulation flag. */
export const NETCONF_FLAG_NDP_EMULATION = 0x04;

/**
 * The network config to sign and send, as plain data. `netconf_builder.ts` turns it into the
 * wire NetworkConfig; every credential here is issued by the controller at `timestamp`.
 */
export interface NetconfPlan {
  /** Network ID. */
  networkId: bigint;
  /** Controller time of issue (ms). */
  timestamp: number;
  /** Credential time max delta `ctmd` (ms). */
  credentialTimeMaxDelta: number;
  /** Network revision. */
  revision: number;
  /** Member the config is for. */
  issuedTo: Address;
  /** Member identity (COM qualifiers 3..6 hash it). */
  issuedToIdentity: Identity;
  /** Remote trace target address (0 = none) and level. */
  remoteTraceTarget: number;
  /** Remote trace level. */
  remoteTraceLevel: number;
  /** `f` flags. */
  flags: number;
  /** Network type. */
  type: "private" | "public";
  /** Short name. */
  name: string;
  /** MTU (clamped). */
  mtu: number;
  /** Multicast limit. */
  multicastLimit: number;
  /** Specialists: role flags << 40 | address. */
  specialists: bigint[];
  /** Routes. */
  routes: PlanRoute[];
  /** Managed IPs (port = prefix bits), in order: rfc4193, 6plane, static, v6 pool, v4 pool. */
  staticIps: InetAddress[];
  /** Base rules (canonical controller JSON). */
  rules: JsonObject[];
  /** Capabilities to issue (sorted by ID). */
  capabilities: PlanCapability[];
  /** Tags to issue (sorted by ID). */
  tags: PlanTag[];
  /** DNS: search domain and ≤ 4 servers (undefined = none). */
  dns: { domain: string; servers: InetAddress[] } | undefined;
  /** COM qualifiers `[id, value, maxDelta]` (spec §7.4), ready to sign. */
  comQualifiers: Array<[bigint, bigint, bigint]>;
  /** COO (ID 1) listing `staticIps`, if there are any. */
  certificateOfOwnership: { id: number; ips: InetAddress[] } | undefined;
  /** SSO fields (always off with the file database). */
  sso: { enabled: boolean; version: number };
}

/** A COM revocation to sign and send (spec §7.8). */
export interface RevocationPlan {
  /** Random revocation ID (u32). */
  id: number;
  /** Network ID. */
  networkId: bigint;
  /** Credential ID (0 for COM). */
  credentialId: number;
  /** Threshold time (ms): COMs with timestamp ≤ this are void. */
  threshold: number;
  /** Flags (0x01 fast propagate). */
  flags: number;
  /** The member whose credential is revoked. */
  target: Address;
  /** Credential type (1 = COM). */
  credentialType: number;
}

/** The controller's answer to a config request. */
export type ConfigDecision =
  /** Not ours to answer (network of another controller) or rate-limited: send nothing. */
  | { kind: "ignore"; reason: "not-our-network" | "rate-limited" }
  /** Reply ERROR(code) with the network ID (and the auth info for AUTHENTICATION_REQUIRED). */
  | { kind: "error"; code: ConfigErrorCode; networkId: bigint; authInfo?: AuthInfo }
  /** Sign and send this config. */
  | { kind: "config"; networkId: bigint; plan: NetconfPlan };
