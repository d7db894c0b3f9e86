// The network configuration object and its netconf dictionary form, every key of spec §7.3.
import { InetAddress } from "../vl1/inet_address.ts";
import { Reader, Writer } from "../vl1/verbs/wire.ts";
import { concatBytes } from "../util/bytes.ts";
import { Dictionary, DictionaryEntry, NETCONF_DICT_CAPACITY } from "./dictionary.ts";
import { CertificateOfMembership, comDeserialize, comSerialize } from "./credentials/com.ts";
import {
  Capability,
  capabilityDeserialize,
  capabilitySerialize,
  decodeRawRules,
  encodeRawRules,
  RawRule,
} from "./credentials/capability.ts";
import { Tag, tagDeserialize, tagSerialize } from "./credentials/tag.ts";
import { CertificateOfOwnership, cooDeserialize, cooSerialize } from "./credentials/coo.ts";

/** Netconf format version written by 1.14. */
export const NETCONF_VERSION = 7;
/** Oldest netconf version a reader accepts. */
export const NETCONF_MIN_VERSION = 6;
/** Flag: broadcast enabled. */
export const NETCONF_FLAG_ENABLE_BROADCAST = 0x02;
/** Flag: IPv6 NDP emulation. */
export const NETCONF_FLAG_ENABLE_IPV6_NDP_EMULATION = 0x04;
/** Flag: result of unsupported MATCH rules. */
export const NETCONF_FLAG_RULES_RESULT_OF_UNSUPPORTED_MATCH = 0x08;
/** Flag: disable compression. */
export const NETCONF_FLAG_DISABLE_COMPRESSION = 0x10;
/** Specialist role: active bridge. */
export const SPECIALIST_ACTIVE_BRIDGE = 0x0000020000000000n;
/** Specialist role: anchor. */
export const SPECIALIST_ANCHOR = 0x0000040000000000n;
/** Specialist role: multicast replicator. */
export const SPECIALIST_MULTICAST_REPLICATOR = 0x0000080000000000n;
/** Default / clamp bounds for the virtual MTU. */
export const NETCONF_DEFAULT_MTU = 2800;
/** Smallest MTU a reader accepts (smaller values are raised). */
export const NETCONF_MIN_MTU = 1280;
/** Largest MTU a reader accepts (larger values are lowered). */
export const NETCONF_MAX_MTU = 10000;
/** Reader limits (further entries are ignored). */
export const NETCONF_MAX_SPECIALISTS = 256;
/** Most routes read. */
export const NETCONF_MAX_ROUTES = 128;
/** Most static IPs read. */
export const NETCONF_MAX_STATIC_IPS = 32;
/** Most base rules read. */
export const NETCONF_MAX_RULES = 1024;
/** Most capabilities read. */
export const NETCONF_MAX_CAPABILITIES = 128;
/** Most tags read. */
export const NETCONF_MAX_TAGS = 128;
/** Most COOs read. */
export const NETCONF_MAX_COOS = 4;
/** Longest network name read (bytes). */
export const NETCONF_MAX_NAME_LENGTH = 127;
/** Size of the NUL-padded DNS search domain field. */
export const DNS_DOMAIN_LENGTH = 128;
/** Number of DNS server slots. */
export const DNS_MAX_SERVERS = 4;

/** Network type (`t`). */
export enum NetworkType {
  PRIVATE = 0,
  PUBLIC = 1,
}

/** A managed route: target network (port = prefix bits), optional gateway, flags, metric. */
export interface Route {
  /** Target network; its port holds the prefix bit count. */
  target: InetAddress;
  /** Gateway, or undefined for on-link (encoded as nil `00`). */
  via?: InetAddress;
  /** Route flags (u16). */
  flags: number;
  /** Route metric (u16). */
  metric: number;
}

/** DNS settings pushed by the controller. */
export interface DnsConfig {
  /** Search domain (<= 127 bytes). */
  domain: string;
  /** Up to 4 servers (port as given by the controller, usually 0). */
  servers: InetAddress[];
}

/** SSO / authentication fields (`ssov`, `ssoe`, and the optional ones). */
export interface SsoConfig {
  /** `ssov`: SSO version (0 or 1). */
  version: number;
  /** `ssoe`: SSO enabled. */
  enabled: boolean;
  /** `aurl`: authentication URL (v0, enabled, non-empty). */
  authenticationUrl?: string;
  /** `aexpt`: authentication expiry time (v0, enabled). */
  authenticationExpiryTime?: bigint;
  /** `iurl`: issuer URL (v1). */
  issuerUrl?: string;
  /** `ssoce`: central endpoint URL (v1). */
  centralEndpointUrl?: string;
  /** `sson`: nonce (v1). */
  nonce?: string;
  /** `ssos`: state (v1). */
  state?: string;
  /** `ssocid`: client ID (v1). */
  clientId?: string;
  /** `ssop`: provider (v1; readers default it to `default`). */
  provider?: string;
}

/**
 * A network configuration (spec §7.3). Optional parts are written iff defined / non-empty, so a
 * parsed reference dictionary re-encodes byte-exactly. Credentials keep their wire order.
 */
export interface NetworkConfig {
  /** `v`: netconf version (7). */
  version: number;
  /** `nwid`: network ID (non-zero). */
  networkId: bigint;
  /** `ts`: controller timestamp (ms, i64). */
  timestamp: bigint;
  /** `ctmd`: credential time max delta (ms, i64). */
  credentialTimeMaxDelta: bigint;
  /** `r`: revision. */
  revision: bigint;
  /** `id`: the member this config is issued to (non-zero). */
  issuedTo: number;
  /** `tt`: remote trace target address (0 = none). */
  remoteTraceTarget: number;
  /** `tl`: remote trace level. */
  remoteTraceLevel: number;
  /** `f`: NETCONF_FLAG_* bits. */
  flags: number;
  /** `ml`: multicast limit (0 = multicast disabled). */
  multicastLimit: number;
  /** `t`: network type. */
  type: NetworkType;
  /** `n`: short name (<= 127 bytes). */
  name: string;
  /** `mtu`: virtual MTU (reader clamps to [1280, 10000]). */
  mtu: number;
  /** `C`: the member's certificate of membership. */
  com?: CertificateOfMembership;
  /** `CAP`: capabilities. */
  capabilities: Capability[];
  /** `TAG`: tags. */
  tags: Tag[];
  /** `COO`: certificates of ownership (<= 4). */
  coos: CertificateOfOwnership[];
  /** `S`: specialists, each `roles(24 bits) << 40 | address`. */
  specialists: bigint[];
  /** `RT`: managed routes. */
  routes: Route[];
  /** `I`: static (managed) IPs, port = prefix bits. */
  staticIps: InetAddress[];
  /** `R`: base rules in wire form (spec §8.2). */
  rules: RawRule[];
  /** `DNS` (the reference always writes it; undefined = key absent). */
  dns?: DnsConfig;
  /** SSO fields (`ssov`/`ssoe` written iff defined). */
  sso?: SsoConfig;
  /** Keys this codec does not know, in order; written after the known ones. */
  extra: DictionaryEntry[];
}

const KNOWN_KEYS = new Set([
  "v",
  "nwid",
  "ts",
  "ctmd",
  "r",
  "id",
  "tt",
  "tl",
  "f",
  "ml",
  "t",
  "n",
  "mtu",
  "C",
  "CAP",
  "TAG",
  "COO",
  "S",
  "RT",
  "I",
  "R",
  "DNS",
  "ssov",
  "ssoe",
  "aurl",
  "aexpt",
  "iurl",
  "ssoce",
  "sson",
  "ssos",
  "ssocid",
  "ssop",
]);

const utf8 = new TextEncoder();
const utf8d = new TextDecoder("utf-8", { fatal: false });

/** The address a specialist entry names (low 40 bits). */
export function specialistAddress(s: bigint): number {
  return Number(s & 0xff_ffff_ffffn);
}

/** Builds a specialist entry from an address and SPECIALIST_* role bits. */
export function makeSpecialist(address: number, roles: bigint): bigint {
  return (roles & ~0xff_ffff_ffffn) | (BigInt(address) & 0xff_ffff_ffffn);
}

function encodeRoutes(routes: Route[]): Uint8Array {
  const w = new Writer(routes.length * 22);
  for (const r of routes) {
    w.bytes(r.target.serialize());
    w.bytes(r.via ? r.via.serialize() : new Uint8Array(1));
    w.u16(r.flags).u16(r.metric);
  }
  return w.finish();
}

/** DNS value: 128-byte NUL-padded domain, then exactly 4 InetAddresses (nil = `00`). */
export function encodeDns(dns: DnsConfig): Uint8Array {
  const w = new Writer(DNS_DOMAIN_LENGTH + 4 * 19);
  const dom = new Uint8Array(DNS_DOMAIN_LENGTH);
  dom.set(utf8.encode(dns.domain).subarray(0, DNS_DOMAIN_LENGTH - 1));
  w.bytes(dom);
  for (let i = 0; i < DNS_MAX_SERVERS; i++) {
    const s = dns.servers[i];
    w.bytes(s ? s.serialize() : new Uint8Array(1));
  }
  return w.finish();
}

/** Parses a DNS value; undefined unless it holds the domain field and 4 well-formed addresses. */
export function decodeDns(b: Uint8Array): DnsConfig | undefined {
  if (b.length < DNS_DOMAIN_LENGTH) return undefined;
  let n = 0;
  while (n < DNS_DOMAIN_LENGTH && b[n] !== 0) n++;
  const domain = utf8d.decode(b.subarray(0, Math.min(n, DNS_DOMAIN_LENGTH - 1)));
  const servers: InetAddress[] = [];
  let p = DNS_DOMAIN_LENGTH;
  for (let i = 0; i < DNS_MAX_SERVERS; i++) {
    const a = InetAddress.deserialize(b, p);
    if (!a) return undefined;
    if (a.addr) servers.push(a.addr);
    p += a.length;
  }
  return { domain, servers };
}

/** The dictionary form of `c`, keys in the order the reference controller writes them. */
export function networkConfigToDictionary(c: NetworkConfig): Dictionary {
  const d = new Dictionary();
  d.addU64("v", c.version).addU64("nwid", c.networkId).addI64("ts", c.timestamp);
  d.addI64("ctmd", c.credentialTimeMaxDelta).addU64("r", c.revision);
  d.addAddress("id", c.issuedTo).addAddress("tt", c.remoteTraceTarget);
  d.addU64("tl", c.remoteTraceLevel).addU64("f", c.flags).addU64("ml", c.multicastLimit);
  d.addU64("t", c.type).addString("n", c.name).addU64("mtu", c.mtu);
  if (c.com) d.add("C", comSerialize(c.com));
  if (c.capabilities.length) d.add("CAP", concatBytes(c.capabilities.map(capabilitySerialize)));
  if (c.tags.length) d.add("TAG", concatBytes(c.tags.map(tagSerialize)));
  if (c.coos.length) d.add("COO", concatBytes(c.coos.map(cooSerialize)));
  if (c.specialists.length) {
    const w = new Writer(c.specialists.length * 8);
    for (const s of c.specialists) w.u64(s);
    d.add("S", w.finish());
  }
  if (c.routes.length) d.add("RT", encodeRoutes(c.routes));
  if (c.staticIps.length) d.add("I", concatBytes(c.staticIps.map((ip) => ip.serialize())));
  if (c.rules.length) d.add("R", encodeRawRules(c.rules));
  if (c.dns) d.add("DNS", encodeDns(c.dns));
  const s = c.sso;
  if (s) {
    d.addU64("ssov", s.version).addBool("ssoe", s.enabled);
    if (s.authenticationUrl !== undefined) d.addString("aurl", s.authenticationUrl);
    if (s.authenticationExpiryTime !== undefined) d.addU64("aexpt", s.authenticationExpiryTime);
    if (s.issuerUrl !== undefined) d.addString("iurl", s.issuerUrl);
    if (s.centralEndpointUrl !== undefined) d.addString("ssoce", s.centralEndpointUrl);
    if (s.nonce !== undefined) d.addString("sson", s.nonce);
    if (s.state !== undefined) d.addString("ssos", s.state);
    if (s.clientId !== undefined) d.addString("ssocid", s.clientId);
    if (s.provider !== undefined) d.addString("ssop", s.provider);
  }
  for (const e of c.extra) d.add(e.key, e.value);
  return d;
}

/**
 * The encoded netconf dictionary (no NUL); undefined if it would not fit the reference's
 * 484 520-byte netconf capacity.
 */
export function encodeNetworkConfig(c: NetworkConfig): Uint8Array | undefined {
  const b = networkConfigToDictionary(c).encode();
  return b.length + 1 <= NETCONF_DICT_CAPACITY ? b : undefined;
}

/** Reads concatenated credentials until the value ends; undefined if one is malformed. */
function readAll<T>(
  b: Uint8Array | undefined,
  max: number,
  parse: (b: Uint8Array, off: number) => { value: T; length: number } | undefined,
): T[] | undefined {
  const out: T[] = [];
  if (!b) return out;
  let p = 0;
  while (p < b.length && out.length < max) {
    const r = parse(b, p);
    if (!r) return undefined;
    out.push(r.value);
    p += r.length;
  }
  return out;
}

/**
 * Interprets a netconf dictionary (spec §7.3). Undefined when `v` < 6, `nwid` or `id` is 0 or
 * missing, or any binary field (credential, route, IP, rule, DNS) is malformed - like the
 * reference, which rejects the whole config. Applies the reader rules: MTU clamped to
 * [1280, 10000] (default 2800), name cut to 127 bytes, list limits; unknown keys kept in `extra`.
 */
export function networkConfigFromDictionary(d: Dictionary): NetworkConfig | undefined {
  const version = d.getU64("v", 0n);
  if (version < BigInt(NETCONF_MIN_VERSION)) return undefined;
  const networkId = d.getU64("nwid", 0n);
  const issuedTo = d.getU64("id", 0n) & 0xff_ffff_ffffn;
  if (networkId === 0n || issuedTo === 0n) return undefined;
  const num = (v: bigint) => Number(BigInt.asUintN(53, v));

  let mtu = num(d.getU64("mtu", BigInt(NETCONF_DEFAULT_MTU)));
  mtu = Math.min(NETCONF_MAX_MTU, Math.max(NETCONF_MIN_MTU, mtu));
  const nameBytes = d.get("n") ?? new Uint8Array(0);

  const cBytes = d.get("C");
  let com: CertificateOfMembership | undefined;
  if (cBytes !== undefined && cBytes.length > 0) {
    const r = comDeserialize(cBytes);
    if (!r) return undefined;
    com = r.com;
  }
  const capabilities = readAll(d.get("CAP"), NETCONF_MAX_CAPABILITIES, (b, o) => {
    const r = capabilityDeserialize(b, o);
    return r && { value: r.capability, length: r.length };
  });
  const tags = readAll(d.get("TAG"), NETCONF_MAX_TAGS, (b, o) => {
    const r = tagDeserialize(b, o);
    return r && { value: r.tag, length: r.length };
  });
  const coos = readAll(d.get("COO"), NETCONF_MAX_COOS, (b, o) => {
    const r = cooDeserialize(b, o);
    return r && { value: r.coo, length: r.length };
  });
  if (!capabilities || !tags || !coos) return undefined;

  const specialists: bigint[] = [];
  const sb = d.get("S");
  if (sb) {
    const r = new Reader(sb);
    while (r.remaining >= 8 && specialists.length < NETCONF_MAX_SPECIALISTS) {
      specialists.push(r.u64());
    }
  }

  const routes: Route[] = [];
  const rt = d.get("RT");
  if (rt) {
    let p = 0;
    while (p < rt.length && routes.length < NETCONF_MAX_ROUTES) {
      const t = InetAddress.deserialize(rt, p);
      if (!t) return undefined;
      const v = InetAddress.deserialize(rt, p + t.length);
      if (!v) return undefined;
      p += t.length + v.length;
      if (p + 4 > rt.length) return undefined;
      const flags = (rt[p] << 8) | rt[p + 1];
      const metric = (rt[p + 2] << 8) | rt[p + 3];
      p += 4;
      if (!t.addr) continue; // a route needs a target
      const route: Route = { target: t.addr, flags, metric };
      if (v.addr) route.via = v.addr;
      routes.push(route);
    }
  }

  const staticIps: InetAddress[] = [];
  const ib = d.get("I");
  if (ib) {
    let p = 0;
    while (p < ib.length && staticIps.length < NETCONF_MAX_STATIC_IPS) {
      const a = InetAddress.deserialize(ib, p);
      if (!a) return undefined;
      if (a.addr) staticIps.push(a.addr);
      p += a.length;
    }
  }

  let rules: RawRule[] = [];
  const rb = d.get("R");
  if (rb) {
    const r = decodeRawRules(rb, 0, rb.length);
    if (!r) return undefined;
    rules = r.rules.slice(0, NETCONF_MAX_RULES);
  }

  let dns: DnsConfig | undefined;
  const db = d.get("DNS");
  if (db) {
    dns = decodeDns(db);
    if (!dns) return undefined;
  }

  let sso: SsoConfig | undefined;
  if (d.has("ssov") || d.has("ssoe")) {
    sso = { version: num(d.getU64("ssov", 0n)), enabled: d.getBool("ssoe") };
    const str = (k: string) => d.getString(k);
    if (d.has("aurl")) sso.authenticationUrl = str("aurl");
    if (d.has("aexpt")) sso.authenticationExpiryTime = d.getU64("aexpt", 0n);
    if (d.has("iurl")) sso.issuerUrl = str("iurl");
    if (d.has("ssoce")) sso.centralEndpointUrl = str("ssoce");
    if (d.has("sson")) sso.nonce = str("sson");
    if (d.has("ssos")) sso.state = str("ssos");
    if (d.has("ssocid")) sso.clientId = str("ssocid");
    if (d.has("ssop")) sso.provider = str("ssop");
  }

  const seen = new Set<string>();
  const extra: DictionaryEntry[] = [];
  for (const e of d.entries) {
    if (KNOWN_KEYS.has(e.key) && !seen.has(e.key)) seen.add(e.key);
    else if (!KNOWN_KEYS.has(e.key)) extra.push({ key: e.key, value: e.value.slice() });
  }

  return {
    version: num(version),
    networkId,
    timestamp: d.getI64("ts", 0n),
    credentialTimeMaxDelta: d.getI64("ctmd", 0n),
    revision: d.getU64("r", 0n),
    issuedTo: Number(issuedTo),
    remoteTraceTarget: Number(d.getU64("tt", 0n) & 0xff_ffff_ffffn),
    remoteTraceLevel: num(d.getU64("tl", 0n)),
    flags: num(d.getU64("f", 0n)),
    multicastLimit: num(d.getU64("ml", 0n)),
    type: num(d.getU64("t", 0n)),
    name: utf8d.decode(nameBytes.subarray(0, NETCONF_MAX_NAME_LENGTH)),
    mtu,
    com,
    capabilities,
    tags,
    coos,
    specialists,
    routes,
    staticIps,
    rules,
    dns,
    sso,
    extra,
  };
}

/** Parses netconf dictionary bytes (see {@link networkConfigFromDictionary}); never throws. */
export function parseNetworkConfig(b: Uint8Array): NetworkConfig | undefined {
  return networkConfigFromDictionary(Dictionary.parse(b));
}

/** The SSO provider with the reader default (`default`) applied. */
export function ssoProvider(c: NetworkConfig): string {
  return c.sso?.provider || "default";
}
