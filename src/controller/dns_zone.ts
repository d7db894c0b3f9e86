// Member names as DNS data: a network's zone (names → managed IPs, IPs → names) built from controller records, and its lookups.
import { InetAddress } from "../vl1/inet_address.ts";
import { rfc4193Address, sixPlaneAddress } from "../vl2/managed_ips.ts";
import { isJsonObject, type JsonObject } from "../util/json.ts";

/** Time to live of every answer (s): how long resolvers may cache a name. */
export const DNS_TTL = 60;
/** Longest DNS label (RFC 1035 §2.3.4). */
const MAX_LABEL = 63;

/** The records of one name. */
export interface ZoneEntry {
  /** IPv4 addresses (dotted), sorted, unique. */
  a: string[];
  /** IPv6 addresses (canonical text), sorted, unique. */
  aaaa: string[];
}

/** A network's names. Build with {@link buildZone}; query with {@link lookupZone}. */
export interface Zone {
  /** Network ID (16 hex). */
  nwid: string;
  /** The domain, lower case, without a trailing dot ("" = the network has no DNS domain). */
  domain: string;
  /** Fully qualified names (lower case, under `domain`) → records. */
  names: Map<string, ZoneEntry>;
  /** Reverse names (`…in-addr.arpa`, `…ip6.arpa`) → target names, sorted. */
  ptr: Map<string, string[]>;
  /** TTL of every answer (s). */
  ttl: number;
}

/**
 * A member name as one DNS label: lower case, every run of characters other than `a-z`, `0-9`
 * and `-` becomes one `-`, no `-` at either end, at most 63 characters. "" if nothing is left
 * (the member then has only its address name).
 */
export function sanitizeLabel(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/-{2,}/g, "-");
  return s.slice(0, MAX_LABEL + 2).replace(/^-+/, "").slice(0, MAX_LABEL).replace(/-+$/, "");
}

/**
 * A DNS domain as stored in a network's `dns.domain`, normalized: lower case, no trailing dot,
 * every label 1..63 of `a-z0-9-_`. Undefined if it is empty or not a valid domain.
 */
export function normalizeDomain(domain: string): string | undefined {
  const d = domain.trim().toLowerCase().replace(/\.$/, "");
  if (d === "" || d.length > 253) return undefined;
  for (const label of d.split(".")) {
    if (!/^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/.test(label)) return undefined;
  }
  return d;
}

/** The reverse-lookup name of an IP (`4.3.2.1.in-addr.arpa` or 32 nibbles `.ip6.arpa`). */
export function reverseName(ip: InetAddress): string {
  if (ip.family === 4) return `${[...ip.ip].reverse().join(".")}.in-addr.arpa`;
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) {
    nibbles.push((ip.ip[i] & 0xf).toString(16), (ip.ip[i] >> 4).toString(16));
  }
  return `${nibbles.join(".")}.ip6.arpa`;
}

function addUnique(list: string[], v: string): void {
  if (!list.includes(v)) list.push(v);
}

/** Whether a member record answers in DNS: authorized (or the network is public). */
function memberVisible(network: JsonObject, member: JsonObject): boolean {
  return member.authorized === true || network.private === false;
}

/** A member's managed IPs as the controller gives them out: static assignments, rfc4193, 6plane. */
export function memberAddresses(network: JsonObject, member: JsonObject): InetAddress[] {
  const out: InetAddress[] = [];
  if (Array.isArray(member.ipAssignments)) {
    for (const s of member.ipAssignments) {
      const ip = typeof s === "string" ? InetAddress.fromIp(s) : undefined;
      if (ip) out.push(ip);
    }
  }
  const id = typeof network.id === "string" && /^[0-9a-f]{16}$/i.test(network.id)
    ? BigInt("0x" + network.id)
    : undefined;
  const address = typeof member.id === "string" && /^[0-9a-f]{10}$/i.test(member.id)
    ? parseInt(member.id, 16)
    : undefined;
  const v6m = isJsonObject(network.v6AssignMode) ? network.v6AssignMode : {};
  if (id !== undefined && address !== undefined && member.noAutoAssignIps !== true) {
    if (v6m.rfc4193 === true) out.push(rfc4193Address(id, address).withPort(0));
    if (v6m["6plane"] === true) out.push(sixPlaneAddress(id, address).withPort(0));
  }
  return out;
}

/**
 * Builds a network's zone from its controller record and member records: for every visible
 * (authorized, or any on a public network) member, `<10-hex address>.<domain>` and, if its name
 * sanitizes to a label, `<name>.<domain>` (two members with one name share it: both answer),
 * with A/AAAA records of its managed IPs, and PTR records from those IPs back to its names.
 */
export function buildZone(network: JsonObject, members: JsonObject[], ttl = DNS_TTL): Zone {
  const nwid = String(network.id ?? "").toLowerCase();
  const dns = isJsonObject(network.dns) ? network.dns : undefined;
  const domain = normalizeDomain(typeof dns?.domain === "string" ? dns.domain : "") ?? "";
  const zone: Zone = { nwid, domain, names: new Map(), ptr: new Map(), ttl };
  if (domain === "") return zone;
  for (const m of members) {
    if (!memberVisible(network, m) || typeof m.id !== "string") continue;
    const ips = memberAddresses(network, m);
    const fqdns = [`${m.id.toLowerCase()}.${domain}`];
    const label = sanitizeLabel(typeof m.name === "string" ? m.name : "");
    if (label !== "" && !fqdns.includes(`${label}.${domain}`)) fqdns.unshift(`${label}.${domain}`);
    for (const fqdn of fqdns) {
      let e = zone.names.get(fqdn);
      if (!e) zone.names.set(fqdn, e = { a: [], aaaa: [] });
      for (const ip of ips) addUnique(ip.family === 4 ? e.a : e.aaaa, ip.toIpString());
    }
    for (const ip of ips) {
      const r = reverseName(ip);
      const targets = zone.ptr.get(r) ?? [];
      for (const f of fqdns) addUnique(targets, f);
      zone.ptr.set(r, targets);
    }
  }
  for (const e of zone.names.values()) {
    e.a.sort();
    e.aaaa.sort();
  }
  for (const t of zone.ptr.values()) t.sort();
  return zone;
}

/** Record types the zone answers. */
export type ZoneRecordType = "A" | "AAAA" | "PTR" | "SOA";

/** One answer record. */
export interface ZoneAnswer {
  /** Owner name (as asked, lower case). */
  name: string;
  /** Type. */
  type: "A" | "AAAA" | "PTR";
  /** Address text (A, AAAA) or target name (PTR). */
  data: string;
}

/** What a query gets. */
export type ZoneResult =
  /** Not ours: the server refuses (no open resolver). */
  | { rcode: "REFUSED" }
  /** Under our domain (or one of our reverse names) but no such name. */
  | { rcode: "NXDOMAIN" }
  /** The name exists; `answers` may be empty (no record of that type: NODATA). */
  | { rcode: "NOERROR"; answers: ZoneAnswer[]; soa: boolean };

/** Whether `name` is `domain` or below it. */
function under(name: string, domain: string): boolean {
  return name === domain || name.endsWith("." + domain);
}

/**
 * Answers one question from a zone: A/AAAA for names under the domain, PTR for the reverse
 * names of member IPs, SOA at the apex. Names are compared case-insensitively; a trailing dot
 * is ignored. `ANY` gets A and AAAA (and PTR). Anything not under the domain and not one of
 * the zone's reverse names is REFUSED.
 */
export function lookupZone(zone: Zone, qname: string, qtype: string): ZoneResult {
  const name = qname.toLowerCase().replace(/\.$/, "");
  const ptr = zone.ptr.get(name);
  if (ptr) {
    if (qtype !== "PTR" && qtype !== "ANY") return { rcode: "NOERROR", answers: [], soa: false };
    return {
      rcode: "NOERROR",
      answers: ptr.map((data) => ({ name, type: "PTR", data })),
      soa: false,
    };
  }
  if (zone.domain === "" || !under(name, zone.domain)) return { rcode: "REFUSED" };
  if (name === zone.domain) {
    return { rcode: "NOERROR", answers: [], soa: qtype === "SOA" || qtype === "ANY" };
  }
  const e = zone.names.get(name);
  if (!e) return { rcode: "NXDOMAIN" };
  const answers: ZoneAnswer[] = [];
  if (qtype === "A" || qtype === "ANY") {
    for (const data of e.a) answers.push({ name, type: "A", data });
  }
  if (qtype === "AAAA" || qtype === "ANY") {
    for (const data of e.aaaa) answers.push({ name, type: "AAAA", data });
  }
  return { rcode: "NOERROR", answers, soa: false };
}
