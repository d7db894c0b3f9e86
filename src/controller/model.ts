// Network and member records (spec §10.3-10.4): defaults, POST validation (zod) and updates.
import { z } from "zod";
import { InetAddress } from "../vl1/inet_address.ts";
import type { Json, JsonObject } from "../util/json.ts";
import { cloneJson, isJsonObject } from "../util/json.ts";
import { compileRules } from "../vl2/rules_compiler/mod.ts";
import { parseCidr } from "./cidr.ts";
import { defaultRules, parseRulesJson } from "./rules_json.ts";
import type { JsonScalar } from "./coerce.ts";

export { parseCidr } from "./cidr.ts";
import {
  coerceBool,
  coerceString,
  coerceU64,
  isScalar,
  jsonTypeName,
  low32,
  u64Json,
} from "./coerce.ts";

/** Outcome of applying a POST body: the updated record, or a 400 message naming the field. */
export type PostResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** MTU bounds of a virtual network (spec §10.3). */
export const MIN_MTU = 1280;
/** MTU upper bound. */
export const MAX_MTU = 10000;
/** Most routes a network may have (netconf `RT` limit). */
export const MAX_ROUTES = 128;
/** Most rules in a capability. */
export const MAX_CAPABILITY_RULES = 64;

/** Fields dropped from a network before it is saved. */
const NETWORK_TRANSIENT = [
  "clock",
  "authorizedMemberCount",
  "activeMemberCount",
  "totalMemberCount",
  "lastModified",
];
/** Fields dropped from a member before it is saved. */
const MEMBER_TRANSIENT = [
  "clock",
  "physicalAddr",
  "recentLog",
  "lastModified",
  "lastRequestMetaData",
  "authenticationURL",
  "authenticationClientID",
];

function setDefault(o: JsonObject, key: string, v: Json): void {
  if (!(key in o)) o[key] = v;
}

/**
 * Fills in the network defaults (spec §10.3) without overwriting fields that are present, and
 * forces `id`, `nwid` (lower-case) and `objtype`. Returns a new object. QUIRK kept from the
 * reference: `remoteTraceLevel` is reset to 0 every time.
 */
export function initNetwork(src: JsonObject, nwid: string, now: number): JsonObject {
  const o = cloneJson(src);
  const id = nwid.toLowerCase();
  o.id = id;
  o.nwid = id;
  o.objtype = "network";
  setDefault(o, "revision", 0);
  setDefault(o, "creationTime", now);
  setDefault(o, "name", "");
  setDefault(o, "private", true);
  setDefault(o, "enableBroadcast", true);
  setDefault(o, "multicastLimit", 32);
  setDefault(o, "mtu", 2800);
  setDefault(o, "v4AssignMode", { zt: false });
  setDefault(o, "v6AssignMode", { "6plane": false, rfc4193: false, zt: false });
  setDefault(o, "routes", []);
  setDefault(o, "ipAssignmentPools", []);
  setDefault(o, "rules", defaultRules());
  setDefault(o, "rulesSource", "");
  setDefault(o, "capabilities", []);
  setDefault(o, "tags", []);
  setDefault(o, "authTokens", [null]);
  setDefault(o, "dns", []);
  setDefault(o, "remoteTraceTarget", null);
  o.remoteTraceLevel = 0;
  setDefault(o, "ssoEnabled", false);
  setDefault(o, "clientId", "");
  setDefault(o, "authorizationEndpoint", "");
  return o;
}

/**
 * Fills in the member defaults (spec §10.4) without overwriting present fields; forces `id`,
 * `address` (lower-case), `nwid` and `objtype`. Same `remoteTraceLevel` quirk as networks.
 */
export function initMember(
  src: JsonObject,
  nwid: string,
  address: string,
  now: number,
): JsonObject {
  const o = cloneJson(src);
  const a = address.toLowerCase();
  o.id = a;
  o.address = a;
  o.nwid = nwid.toLowerCase();
  o.objtype = "member";
  setDefault(o, "revision", 0);
  setDefault(o, "creationTime", now);
  setDefault(o, "authorized", false);
  setDefault(o, "activeBridge", false);
  setDefault(o, "noAutoAssignIps", false);
  setDefault(o, "ipAssignments", []);
  setDefault(o, "tags", []);
  setDefault(o, "capabilities", []);
  setDefault(o, "authenticationExpiryTime", 0);
  setDefault(o, "remoteTraceTarget", null);
  o.remoteTraceLevel = 0;
  setDefault(o, "ssoExempt", false);
  setDefault(o, "lastAuthorizedTime", 0);
  setDefault(o, "lastDeauthorizedTime", 0);
  setDefault(o, "lastAuthorizedCredentialType", null);
  setDefault(o, "lastAuthorizedCredential", null);
  setDefault(o, "vMajor", -1);
  setDefault(o, "vMinor", -1);
  setDefault(o, "vRev", -1);
  setDefault(o, "vProto", -1);
  return o;
}

/** A network record as it is saved (transient fields removed). */
export function networkForSave(n: JsonObject): JsonObject {
  const o = cloneJson(n);
  for (const k of NETWORK_TRANSIENT) delete o[k];
  return o;
}

/** A member record as it is saved (transient fields removed). */
export function memberForSave(m: JsonObject): JsonObject {
  const o = cloneJson(m);
  for (const k of MEMBER_TRANSIENT) delete o[k];
  return o;
}

// ---- validation helpers ----------------------------------------------------------------------

/** True for a bare IPv4/IPv6 address text. */
function isIp(s: string): boolean {
  return InetAddress.fromIp(s) !== undefined;
}

const ipString = z.string({ error: "expected an IP address string" }).refine(isIp, {
  message: "expected an IP address",
});
const cidrString = z.string({ error: "expected a CIDR string" }).refine(
  (s) => parseCidr(s) !== undefined,
  { message: "expected an IPv4/IPv6 CIDR (address/bits) with a valid netmask" },
);

/**
 * A scalar (boolean, number or string), coerced afterwards with the reference's rules
 * (coerce.ts). An object, array or null is a 400 here (the reference would use a default).
 */
const scalar = z.custom<JsonScalar>((v) => isScalar(v as Json), {
  error: (iss) => `expected a boolean, number or string, not ${jsonTypeName(iss.input as Json)}`,
});
/** A boolean field: `true`/`false`, any number (non-zero is true), a string starting t/T/1. */
const refBool = scalar.transform(coerceBool);
/** An unsigned 64-bit integer field: numbers (C cast), booleans (1/0), numeric string prefixes. */
const refU64 = scalar.transform(coerceU64);
/** A string field: strings, numbers in decimal, booleans as "1"/"0". */
const refString = scalar.transform(coerceString);
/**
 * `remoteTraceTarget`: a 10-character value is kept, anything else (null, "", other lengths)
 * clears it, as the reference does.
 */
const remoteTraceTarget = z.union([scalar, z.null()], {
  error: "expected a 10-hex-digit address or null",
}).transform((v) => {
  const s = v === null ? "" : coerceString(v);
  return s.length === 10 ? s : null;
});

/** zod schema of a network POST body (every field optional; unknown fields ignored). */
export const networkPostSchema = z.object({
  name: refString,
  private: refBool,
  enableBroadcast: refBool,
  multicastLimit: refU64,
  mtu: refU64,
  v4AssignMode: z.union([z.string(), z.object({ zt: refBool.optional() })], {
    error: 'expected {"zt":bool} or a string',
  }),
  v6AssignMode: z.union([
    z.string(),
    z.object({
      zt: refBool.optional(),
      rfc4193: refBool.optional(),
      "6plane": refBool.optional(),
    }),
  ], { error: 'expected {"rfc4193","zt","6plane":bool} or a string' }),
  routes: z.array(z.object({ target: cidrString, via: ipString.nullable().optional() })).max(
    MAX_ROUTES,
  ),
  ipAssignmentPools: z.array(
    z.object({ ipRangeStart: ipString, ipRangeEnd: ipString }).refine(
      (p) => p.ipRangeStart.includes(":") === p.ipRangeEnd.includes(":"),
      { message: "start and end must be the same address family", path: ["ipRangeEnd"] },
    ),
  ),
  rules: z.array(z.unknown()),
  rulesSource: z.string(),
  // a missing id is 0, as the reference reads it
  capabilities: z.array(z.object({
    id: refU64.optional().transform((v) => v ?? 0n),
    default: refBool.optional(),
    rules: z.array(z.unknown()).optional(),
  })),
  tags: z.array(
    z.object({
      id: refU64.optional().transform((v) => v ?? 0n),
      default: refU64.nullable().optional(),
    }),
  ),
  authTokens: z.union([z.record(z.string(), z.unknown()), z.null(), z.array(z.unknown())], {
    error: "expected an object of token → expiry (ms)",
  }),
  dns: z.union([
    z.object({ domain: z.string().max(127), servers: z.array(ipString) }),
    z.array(z.unknown()).max(0),
  ], { error: 'expected {"domain":string,"servers":[ip,...]} or []' }),
  remoteTraceTarget,
  remoteTraceLevel: refU64,
}).partial();

/** zod schema of a member POST body (every field optional; unknown fields ignored). */
export const memberPostSchema = z.object({
  authorized: refBool,
  activeBridge: refBool,
  noAutoAssignIps: refBool,
  ipAssignments: z.array(
    z.string({ error: "expected an IP address string" }).refine(
      (s) => InetAddress.parse(s) !== undefined,
      { message: "expected an IP address" },
    ),
  ).max(32),
  tags: z.array(z.tuple([refU64, refU64])),
  capabilities: z.array(refU64),
  name: refString,
  authenticationExpiryTime: refU64,
  authenticationURL: refString,
  remoteTraceTarget,
  remoteTraceLevel: refU64,
}).partial();

/** Renders a zod path like `routes[2].target`. */
function pathText(path: readonly PropertyKey[]): string {
  let s = "";
  for (const p of path) s += typeof p === "number" ? `[${p}]` : (s ? "." : "") + String(p);
  return s || "body";
}

function zodError(err: z.ZodError): string {
  const i = err.issues[0];
  return `${pathText(i.path)}: ${i.message}`;
}

// ---- updates ---------------------------------------------------------------------------------

/** Distinct 64-bit ids in ascending order. */
function sortedU64(ids: Iterable<bigint>): bigint[] {
  return [...new Set(ids)].sort((x, y) => x < y ? -1 : x > y ? 1 : 0);
}

/**
 * Compiles a POSTed `rulesSource` into the `rules`, `capabilities` and `tags` fields the
 * compiler produces (as the reference's web UIs do before posting), so they are validated and
 * normalized exactly like posted JSON. It is compiled only when it has non-blank text and the
 * body carries none of `rules`, `capabilities`, `tags`: explicit JSON wins and the source is then
 * stored as is. Errors read `rulesSource:LINE:COL: message`.
 */
function withCompiledRules(body: JsonObject): PostResult<JsonObject> {
  const src = body.rulesSource;
  if (typeof src !== "string" || src.trim() === "") return { ok: true, value: body };
  if ("rules" in body || "capabilities" in body || "tags" in body) return { ok: true, value: body };
  const r = compileRules(src);
  if (!r.ok) {
    const e = r.error;
    const where = e.file === undefined ? "" : `${e.file}:`;
    return { ok: false, error: `rulesSource:${e.line}:${e.column}: ${where}${e.message}` };
  }
  return {
    ok: true,
    value: {
      ...body,
      rules: r.rules,
      capabilities: r.capabilities.map((c) => ({ id: c.id, default: c.default, rules: c.rules })),
      tags: r.tags.map((t) => ({ id: t.id, default: t.default })),
    },
  };
}

/**
 * Applies a network POST body to `current` (an initialized record). Returns the updated copy or
 * a message naming the bad field; `current` is never modified. A `rulesSource` is compiled into
 * `rules`/`capabilities`/`tags` unless those are given explicitly (see `withCompiledRules`).
 */
export function applyNetworkPost(current: JsonObject, body: unknown): PostResult<JsonObject> {
  if (!isJsonObject(body)) return { ok: false, error: "body: expected a JSON object" };
  const p0 = networkPostSchema.safeParse(body);
  if (!p0.success) return { ok: false, error: zodError(p0.error) };
  const compiled = withCompiledRules(body);
  if (!compiled.ok) return compiled;
  const p = compiled.value === body ? p0 : networkPostSchema.safeParse(compiled.value);
  if (!p.success) return { ok: false, error: zodError(p.error) };
  const b = p.data;
  const n = cloneJson(current);
  if (b.rulesSource !== undefined) n.rulesSource = b.rulesSource;
  if (b.name !== undefined) n.name = b.name;
  if (b.private !== undefined) n.private = b.private;
  if (b.enableBroadcast !== undefined) n.enableBroadcast = b.enableBroadcast;
  if (b.multicastLimit !== undefined) n.multicastLimit = u64Json(b.multicastLimit);
  if (b.mtu !== undefined) n.mtu = Math.max(MIN_MTU, Math.min(MAX_MTU, low32(b.mtu)));
  // Both assign modes are replaced as a whole, as the reference does: the legacy string form
  // sets every mode (listed ones true), the object form keeps only the keys it carries.
  if (b.v4AssignMode !== undefined) {
    const v = b.v4AssignMode;
    n.v4AssignMode = { zt: typeof v === "string" ? v === "zt" : v.zt ?? false };
  }
  if (b.v6AssignMode !== undefined) {
    const v = b.v6AssignMode;
    const m: JsonObject = {};
    if (typeof v === "string") {
      const parts = v.split(",");
      for (const k of ["6plane", "rfc4193", "zt"]) m[k] = parts.includes(k);
    } else {
      for (const k of ["6plane", "rfc4193", "zt"] as const) if (v[k] !== undefined) m[k] = v[k]!;
    }
    n.v6AssignMode = m;
  }
  if (b.routes !== undefined) {
    n.routes = b.routes.map((r) => {
      const t = parseCidr(r.target)!;
      const via = r.via ? InetAddress.fromIp(r.via) : undefined;
      return {
        target: t.toString(),
        via: via && via.family === t.family ? via.toIpString() : null,
      };
    });
  }
  if (b.ipAssignmentPools !== undefined) {
    n.ipAssignmentPools = b.ipAssignmentPools.map((p) => ({
      ipRangeStart: InetAddress.fromIp(p.ipRangeStart)!.toIpString(),
      ipRangeEnd: InetAddress.fromIp(p.ipRangeEnd)!.toIpString(),
    }));
  }
  if (b.rules !== undefined) {
    const r = parseRulesJson(b.rules, "rules");
    if (!r.ok) return r;
    n.rules = r.rules;
  }
  if (b.capabilities !== undefined) {
    const byId = new Map<bigint, JsonObject>();
    for (let i = 0; i < b.capabilities.length; i++) {
      const c = b.capabilities[i];
      const r = parseRulesJson(c.rules ?? [], `capabilities[${i}].rules`, MAX_CAPABILITY_RULES);
      if (!r.ok) return r;
      byId.set(c.id, { default: c.default ?? false, id: u64Json(c.id), rules: r.rules });
    }
    n.capabilities = sortedU64(byId.keys()).map((id) => byId.get(id)!);
  }
  if (b.tags !== undefined) {
    const byId = new Map<bigint, JsonObject>();
    for (const t of b.tags) {
      const d = t.default === undefined || t.default === null ? null : u64Json(t.default);
      byId.set(t.id, { default: d, id: u64Json(t.id) });
    }
    n.tags = sortedU64(byId.keys()).map((id) => byId.get(id)!);
  }
  if (b.authTokens !== undefined) {
    // The reference keeps the entries whose expiry is a non-negative number.
    const t = b.authTokens;
    if (t !== null && !Array.isArray(t)) {
      const o: JsonObject = {};
      for (const [k, v] of Object.entries(t)) {
        if ((typeof v === "number" && v >= 0) || (typeof v === "bigint" && v >= 0n)) o[k] = v;
      }
      n.authTokens = o;
    } else n.authTokens = [null];
  }
  if (b.dns !== undefined) {
    n.dns = Array.isArray(b.dns) ? [] : {
      domain: b.dns.domain,
      servers: b.dns.servers.map((s) => InetAddress.fromIp(s)!.toIpString()),
    };
  }
  if (b.remoteTraceTarget !== undefined) n.remoteTraceTarget = b.remoteTraceTarget;
  if (b.remoteTraceLevel !== undefined) n.remoteTraceLevel = u64Json(b.remoteTraceLevel);
  return { ok: true, value: n };
}

/** What a member POST did to authorization. */
export type AuthorizationChange = "authorized" | "deauthorized" | undefined;

/**
 * Applies a member POST body to `current` (an initialized record) at time `now`. API
 * authorization records credential type `"api"`. `current` is never modified.
 */
export function applyMemberPost(
  current: JsonObject,
  body: unknown,
  now: number,
): PostResult<{ member: JsonObject; change: AuthorizationChange }> {
  if (!isJsonObject(body)) return { ok: false, error: "body: expected a JSON object" };
  const p = memberPostSchema.safeParse(body);
  if (!p.success) return { ok: false, error: zodError(p.error) };
  const b = p.data;
  const m = cloneJson(current);
  let change: AuthorizationChange;
  if (b.authorized !== undefined && b.authorized !== (m.authorized === true)) {
    m.authorized = b.authorized;
    if (b.authorized) {
      m.lastAuthorizedTime = now;
      m.lastAuthorizedCredentialType = "api";
      m.lastAuthorizedCredential = null;
      change = "authorized";
    } else {
      m.lastDeauthorizedTime = now;
      change = "deauthorized";
    }
  }
  if (b.activeBridge !== undefined) m.activeBridge = b.activeBridge;
  if (b.noAutoAssignIps !== undefined) m.noAutoAssignIps = b.noAutoAssignIps;
  if (b.ipAssignments !== undefined) {
    const seen = new Set<string>();
    const ips: string[] = [];
    for (const s of b.ipAssignments) {
      const ip = InetAddress.parse(s)!.toIpString();
      if (!seen.has(ip)) ips.push(ip);
      seen.add(ip);
    }
    m.ipAssignments = ips;
  }
  if (b.tags !== undefined) {
    // ids and values are taken modulo 2^32, as the reference does
    const byId = new Map<number, number>();
    for (const [id, v] of b.tags) byId.set(low32(id), low32(v));
    m.tags = [...byId.keys()].sort((x, y) => x - y).map((id) => [id, byId.get(id)!]);
  }
  if (b.capabilities !== undefined) {
    m.capabilities = sortedU64(new Set(b.capabilities)).map(u64Json);
  }
  if (b.name !== undefined) m.name = b.name;
  if (b.authenticationExpiryTime !== undefined) {
    m.authenticationExpiryTime = u64Json(b.authenticationExpiryTime);
  }
  if (b.authenticationURL !== undefined) m.authenticationURL = b.authenticationURL;
  if (b.remoteTraceTarget !== undefined) m.remoteTraceTarget = b.remoteTraceTarget;
  if (b.remoteTraceLevel !== undefined) m.remoteTraceLevel = u64Json(b.remoteTraceLevel);
  return { ok: true, value: { member: m, change } };
}
