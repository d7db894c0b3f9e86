// `zt controller network|member set`: KEY=VALUE settings, --pool/--route/--dns checked and turned into a controller API POST body.
import { InetAddress } from "../vl1/inet_address.ts";
import { parseCidr } from "../controller/cidr.ts";

/** Kinds of value a settable field takes. */
type FieldKind = "bool" | "int" | "string" | "ipList" | "intList";

/** One settable field: its kind, bounds for integers, and a line of help. */
interface FieldSpec {
  kind: FieldKind;
  min?: number;
  max?: number;
  help: string;
}

const U32_MAX = 0xffff_ffff;
/** DNS servers a network config carries (ZT_MAX_DNS_SERVERS in the reference). */
const MAX_DNS_SERVERS = 4;

/** Network fields `network set` takes (the controller API's names; dotted = nested object). */
export const NETWORK_FIELDS: Readonly<Record<string, FieldSpec>> = {
  name: { kind: "string", help: "network name" },
  private: { kind: "bool", help: "members need authorization" },
  enableBroadcast: { kind: "bool", help: "allow Ethernet broadcast" },
  multicastLimit: { kind: "int", min: 0, max: U32_MAX, help: "max recipients of a multicast" },
  mtu: { kind: "int", min: 1280, max: 10000, help: "MTU of the virtual network" },
  "v4AssignMode.zt": { kind: "bool", help: "assign IPv4 addresses from the pools" },
  "v6AssignMode.zt": { kind: "bool", help: "assign IPv6 addresses from the pools" },
  "v6AssignMode.rfc4193": { kind: "bool", help: "give each member its RFC 4193 address" },
  "v6AssignMode.6plane": { kind: "bool", help: "give each member its 6PLANE /80" },
  remoteTraceLevel: { kind: "int", min: 0, max: 255, help: "remote trace level" },
};

/** Member fields `member set` takes. */
export const MEMBER_FIELDS: Readonly<Record<string, FieldSpec>> = {
  name: { kind: "string", help: "member name" },
  authorized: { kind: "bool", help: "may join the network" },
  activeBridge: { kind: "bool", help: "may bridge other Ethernet traffic" },
  noAutoAssignIps: { kind: "bool", help: "no addresses from the pools" },
  ipAssignments: { kind: "ipList", help: "static IPs, comma-separated (empty: none)" },
  capabilities: { kind: "intList", min: 0, max: U32_MAX, help: "capability IDs, comma-separated" },
};

/** A parse outcome: a value, or a user-facing error message. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** A JSON object body. */
export type Body = Record<string, unknown>;

/** `true/false/1/0` (any case) → boolean. */
function parseBoolText(s: string): boolean | undefined {
  const v = s.toLowerCase();
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  return undefined;
}

/** Decimal integer text within [min, max]. */
function parseIntText(s: string, min: number, max: number): number | undefined {
  if (!/^-?[0-9]{1,10}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= min && n <= max ? n : undefined;
}

/** A bare IP address (v4 or v6), normalized; undefined otherwise. */
function parseIp(s: string): InetAddress | undefined {
  return s.includes("/") ? undefined : InetAddress.fromIp(s);
}

/** Parses one value of `spec`'s kind. */
function parseValue(key: string, spec: FieldSpec, text: string): Parsed<unknown> {
  switch (spec.kind) {
    case "string":
      return { ok: true, value: text };
    case "bool": {
      const b = parseBoolText(text);
      return b === undefined
        ? { ok: false, error: `${key}=${text}: expected true or false (or 1/0)` }
        : { ok: true, value: b };
    }
    case "int": {
      const n = parseIntText(text, spec.min ?? 0, spec.max ?? U32_MAX);
      return n === undefined
        ? {
          ok: false,
          error: `${key}=${text}: expected an integer from ${spec.min ?? 0} to ${
            spec.max ?? U32_MAX
          }`,
        }
        : { ok: true, value: n };
    }
    case "ipList": {
      const out: string[] = [];
      for (const part of text === "" ? [] : text.split(",")) {
        const ip = parseIp(part.trim());
        if (!ip) return { ok: false, error: `${key}: "${part}" is not an IP address` };
        out.push(ip.toIpString());
      }
      return { ok: true, value: out };
    }
    case "intList": {
      const out: number[] = [];
      for (const part of text === "" ? [] : text.split(",")) {
        const n = parseIntText(part.trim(), spec.min ?? 0, spec.max ?? U32_MAX);
        if (n === undefined) {
          return { ok: false, error: `${key}: "${part}" is not an integer from 0 to ${U32_MAX}` };
        }
        out.push(n);
      }
      return { ok: true, value: out };
    }
  }
}

/**
 * Parses `KEY=VALUE` settings against `fields` into a POST body (a dotted key such as
 * `v4AssignMode.zt` becomes a nested object). An unknown key, a repeated key or a bad value is an
 * error naming it; nothing is returned then.
 */
export function parseAssignments(
  args: readonly string[],
  fields: Readonly<Record<string, FieldSpec>>,
): Parsed<Body> {
  const body: Body = {};
  const seen = new Set<string>();
  for (const a of args) {
    const eq = a.indexOf("=");
    if (eq <= 0) {
      return { ok: false, error: `"${a}": expected KEY=VALUE (keys: ${keyList(fields)})` };
    }
    const key = a.slice(0, eq);
    const spec = fields[key];
    if (!spec) return { ok: false, error: `unknown key "${key}" (keys: ${keyList(fields)})` };
    if (seen.has(key)) return { ok: false, error: `${key} is given twice` };
    seen.add(key);
    const v = parseValue(key, spec, a.slice(eq + 1));
    if (!v.ok) return v;
    const path = key.split(".");
    let o = body;
    for (const p of path.slice(0, -1)) o = (o[p] ??= {}) as Body;
    o[path[path.length - 1]] = v.value;
  }
  return { ok: true, value: body };
}

/** The keys of a field table, comma-separated. */
export function keyList(fields: Readonly<Record<string, FieldSpec>>): string {
  return Object.keys(fields).join(", ");
}

/** `START-END` (same family, start <= end) → an `ipAssignmentPools` entry. */
export function parsePool(text: string): Parsed<{ ipRangeStart: string; ipRangeEnd: string }> {
  const bad = (why: string): Parsed<never> => ({ ok: false, error: `--pool ${text}: ${why}` });
  // IPv6 addresses contain no "-", so the first "-" splits the range
  const dash = text.indexOf("-");
  if (dash < 0) return bad("expected START-END (two IP addresses)");
  const a = parseIp(text.slice(0, dash).trim());
  const b = parseIp(text.slice(dash + 1).trim());
  if (!a || !b) return bad("expected START-END (two IP addresses)");
  if (a.family !== b.family) return bad("start and end must be of the same address family");
  if (InetAddress.compare(a.withPort(0), b.withPort(0)) > 0) return bad("start is after end");
  return { ok: true, value: { ipRangeStart: a.toIpString(), ipRangeEnd: b.toIpString() } };
}

/** `TARGET[,VIA]` → a `routes` entry (`via` null for a route on the network itself). */
export function parseRoute(text: string): Parsed<{ target: string; via: string | null }> {
  const bad = (why: string): Parsed<never> => ({ ok: false, error: `--route ${text}: ${why}` });
  const [t, via, ...rest] = text.split(",");
  if (rest.length > 0) return bad("expected TARGET[,VIA]");
  const target = parseCidr(t.trim());
  if (!target) return bad("TARGET must be an address/bits CIDR, e.g. 10.147.17.0/24");
  if (via === undefined || via.trim() === "") {
    return { ok: true, value: { target: target.toString(), via: null } };
  }
  const v = parseIp(via.trim());
  if (!v) return bad("VIA must be an IP address");
  if (v.family !== target.family) return bad("VIA must be of the same address family as TARGET");
  return { ok: true, value: { target: target.toString(), via: v.toIpString() } };
}

/** `--dns DOMAIN SERVER...` → the `dns` object. */
export function parseDns(items: readonly string[]): Parsed<{ domain: string; servers: string[] }> {
  const [domain, ...servers] = items;
  if (domain === undefined || servers.length === 0) {
    return { ok: false, error: "--dns: expected a search domain and at least one server address" };
  }
  if (domain.includes("=") || !/^[A-Za-z0-9_.-]{1,127}$/.test(domain)) {
    return { ok: false, error: `--dns: "${domain}" is not a domain name` };
  }
  if (servers.length > MAX_DNS_SERVERS) {
    return {
      ok: false,
      error: `--dns: at most ${MAX_DNS_SERVERS} servers (members use no more than that)`,
    };
  }
  const out: string[] = [];
  for (const s of servers) {
    const ip = parseIp(s);
    if (!ip) {
      const hint = s.includes("=") ? " (put --dns after the KEY=VALUE settings)" : "";
      return { ok: false, error: `--dns: "${s}" is not an IP address${hint}` };
    }
    out.push(ip.toIpString());
  }
  return { ok: true, value: { domain, servers: out } };
}

/** The list switches of `network set`/`create`. */
export interface NetworkListOptions {
  /** `--pool START-END`, repeatable. */
  pool?: string[];
  /** `--route TARGET[,VIA]`, repeatable. */
  route?: string[];
  /** `--dns DOMAIN SERVER...`. */
  dns?: string[];
  /** `--no-pools` → false. */
  pools?: boolean;
  /** `--no-routes` → false. */
  routes?: boolean;
  /** `--no-dns` → false (commander names it after `--dns`). */
  noDns?: boolean;
}

/**
 * Builds a network POST body from KEY=VALUE settings and the list switches (`--pool` and
 * `--route` replace the whole list; `--no-pools`, `--no-routes`, `--no-dns` empty it).
 */
export function networkBody(args: readonly string[], o: NetworkListOptions): Parsed<Body> {
  const r = parseAssignments(args, NETWORK_FIELDS);
  if (!r.ok) return r;
  const body = r.value;
  if (o.pool !== undefined && o.pools === false) {
    return { ok: false, error: "--pool and --no-pools contradict each other" };
  }
  if (o.route !== undefined && o.routes === false) {
    return { ok: false, error: "--route and --no-routes contradict each other" };
  }
  if (o.dns !== undefined && o.noDns === true) {
    return { ok: false, error: "--dns and --no-dns contradict each other" };
  }
  if (o.pool !== undefined) {
    const pools = [];
    for (const p of o.pool) {
      const x = parsePool(p);
      if (!x.ok) return x;
      pools.push(x.value);
    }
    body.ipAssignmentPools = pools;
  } else if (o.pools === false) body.ipAssignmentPools = [];
  if (o.route !== undefined) {
    const routes = [];
    for (const p of o.route) {
      const x = parseRoute(p);
      if (!x.ok) return x;
      routes.push(x.value);
    }
    body.routes = routes;
  } else if (o.routes === false) body.routes = [];
  if (o.dns !== undefined) {
    const d = parseDns(o.dns);
    if (!d.ok) return d;
    body.dns = d.value;
  } else if (o.noDns === true) body.dns = [];
  return { ok: true, value: body };
}
