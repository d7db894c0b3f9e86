// Text output of `zt controller network|member ...`: tables for the listings, key/value summaries for one record.

/** A JSON object as parsed from the API. */
export type Obj = Record<string, unknown>;

/** Plain-object check. */
export function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** What the controller knows of a member from its config requests (`member-status` route). */
export interface LiveStatus {
  /** Time of the last request (controller clock, ms); null if none since it started. */
  lastSeen: number | null;
  /** Asked recently. */
  online: boolean;
  /** `ip/port` it asked from. */
  physicalAddress: string | null;
  /** Version it reported. */
  clientVersion: string | null;
}

/** A member record with its live status merged in (what `member list -j` prints). */
export function memberWithStatus(m: Obj, s: LiveStatus | undefined): Obj {
  const fromRecord = typeof m.vMajor === "number" && m.vMajor >= 0
    ? `${m.vMajor}.${m.vMinor}.${m.vRev}`
    : null;
  return {
    ...m,
    lastSeen: s?.lastSeen ?? null,
    online: s?.online ?? false,
    physicalAddress: s?.physicalAddress ?? null,
    clientVersion: s?.clientVersion ?? fromRecord,
  };
}

/** Reads the `member-status` answer into address → status (bad entries skipped). */
export function parseLiveStatus(v: unknown): { clock: number; members: Map<string, LiveStatus> } {
  const members = new Map<string, LiveStatus>();
  const o = isObj(v) ? v : {};
  const clock = typeof o.clock === "number" ? o.clock : 0;
  for (const [addr, s] of Object.entries(isObj(o.members) ? o.members : {})) {
    if (!isObj(s)) continue;
    members.set(addr, {
      lastSeen: typeof s.lastSeen === "number" ? s.lastSeen : null,
      online: s.online === true,
      physicalAddress: typeof s.physicalAddress === "string" ? s.physicalAddress : null,
      clientVersion: typeof s.clientVersion === "string" ? s.clientVersion : null,
    });
  }
  return { clock, members };
}

/** Rows as columns padded to their widest cell, two spaces apart (last column unpadded). */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd() + "\n"
  ).join("");
}

/** `ms` ago as `12s`, `5m`, `3h` or `2d` ago; `never` when unknown. */
export function agoText(clock: number, t: number | null): string {
  if (t === null) return "never";
  const s = Math.max(0, Math.floor((clock - t) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.floor(s / 60)}m ago`;
  if (s < 172800) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** A string field, or `dflt`. */
function str(o: Obj, k: string, dflt = "-"): string {
  const v = o[k];
  return typeof v === "string" && v !== "" ? v : dflt;
}

/** Pools as `start-end,...`, or `-`. */
function poolsText(n: Obj): string {
  const ps = Array.isArray(n.ipAssignmentPools) ? n.ipAssignmentPools.filter(isObj) : [];
  return ps.map((p) => `${p.ipRangeStart}-${p.ipRangeEnd}`).join(",") || "-";
}

/** Routes as `target[ via x],...`, or `-`. */
function routesText(n: Obj, sep = ","): string {
  const rs = Array.isArray(n.routes) ? n.routes.filter(isObj) : [];
  return rs.map((r) => `${r.target}${typeof r.via === "string" ? ` via ${r.via}` : ""}`).join(
    sep,
  ) || "-";
}

/** Counts of an `/unstable` network's `meta`, as `authorized/total`. */
function memberCounts(n: Obj): string {
  const m = isObj(n.meta) ? n.meta : {};
  const a = typeof m.authorizedMemberCount === "number" ? m.authorizedMemberCount : 0;
  const t = typeof m.totalMemberCount === "number" ? m.totalMemberCount : 0;
  return `${a}/${t}`;
}

/** `network list`: one row per network (ID, name, access, authorized/total members, pools, routes). */
export function formatNetworkList(networks: Obj[]): string {
  if (networks.length === 0) return "no networks on this controller\n";
  return table(
    ["NETWORK", "NAME", "ACCESS", "MEMBERS", "POOLS", "ROUTES"],
    networks.map((n) => [
      str(n, "id"),
      str(n, "name"),
      n.private === false ? "public" : "private",
      memberCounts(n),
      poolsText(n),
      routesText(n),
    ]),
  );
}

/** Enabled flags of an assign-mode object, or `none`. */
function modeText(v: unknown, keys: string[]): string {
  const o = isObj(v) ? v : {};
  return keys.filter((k) => o[k] === true).join(" ") || "none";
}

/** Key/value lines with keys padded to one width. */
function kv(rows: [string, string][]): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}\n`).join("");
}

/**
 * `network show` (and the answer of `network set`/`create`): the settings a person sets, one per
 * line. `counts` (authorized, total) adds a members line.
 */
export function formatNetwork(n: Obj, counts?: { authorized: number; total: number }): string {
  const dns = isObj(n.dns) && typeof n.dns.domain === "string"
    ? `${n.dns.domain}: ${(Array.isArray(n.dns.servers) ? n.dns.servers : []).join(" ")}`
    : "-";
  const rules = Array.isArray(n.rules) ? n.rules.length : 0;
  const caps = Array.isArray(n.capabilities) ? n.capabilities.length : 0;
  const tags = Array.isArray(n.tags) ? n.tags.length : 0;
  const src = typeof n.rulesSource === "string" && n.rulesSource.trim() !== ""
    ? " (from rulesSource)"
    : "";
  const rows: [string, string][] = [
    ["network", str(n, "id")],
    ["name", str(n, "name")],
    ["access", n.private === false ? "public" : "private"],
  ];
  if (counts) rows.push(["members", `${counts.authorized} authorized of ${counts.total}`]);
  rows.push(
    ["mtu", String(n.mtu ?? "-")],
    ["multicastLimit", String(n.multicastLimit ?? "-")],
    ["enableBroadcast", String(n.enableBroadcast ?? "-")],
    ["v4AssignMode", modeText(n.v4AssignMode, ["zt"])],
    ["v6AssignMode", modeText(n.v6AssignMode, ["zt", "rfc4193", "6plane"])],
    ["pools", poolsText(n).replaceAll(",", " ")],
    ["routes", routesText(n, ", ")],
    ["dns", dns],
    [
      "rules",
      `${plural(rules, "rule")}, ${plural(caps, "capability")}, ${plural(tags, "tag")}${src}`,
    ],
  );
  return kv(rows);
}

/** `n thing(s)`. */
function plural(n: number, word: string): string {
  if (n === 1) return `1 ${word}`;
  return `${n} ${word.endsWith("y") ? word.slice(0, -1) + "ies" : word + "s"}`;
}

/** Version text of a merged member, or `-`. */
function versionText(m: Obj): string {
  return typeof m.clientVersion === "string" ? m.clientVersion : "-";
}

/** `member list`: what a ZeroTier Central user sees, one row per member. */
export function formatMemberList(members: Obj[], clock: number): string {
  if (members.length === 0) return "no members yet\n";
  return table(
    ["ADDRESS", "NAME", "AUTHORIZED", "IPS", "LAST SEEN", "VERSION", "PHYSICAL", "STATUS"],
    members.map((m) => [
      str(m, "id"),
      str(m, "name"),
      m.authorized === true ? "yes" : "no",
      (Array.isArray(m.ipAssignments) ? m.ipAssignments.join(",") : "") || "-",
      agoText(clock, typeof m.lastSeen === "number" ? m.lastSeen : null),
      versionText(m),
      str(m, "physicalAddress"),
      m.online === true ? "online" : "offline",
    ]),
  );
}

/** `member show` (and the answer of `member set`): one merged member, one field per line. */
export function formatMember(m: Obj, clock: number): string {
  const list = (v: unknown) => (Array.isArray(v) && v.length ? v.join(" ") : "-");
  const yes = (v: unknown) => (v === true ? "yes" : "no");
  return kv([
    ["member", str(m, "id")],
    ["network", str(m, "nwid")],
    ["name", str(m, "name")],
    ["authorized", yes(m.authorized)],
    ["ipAssignments", list(m.ipAssignments)],
    ["activeBridge", yes(m.activeBridge)],
    ["noAutoAssignIps", yes(m.noAutoAssignIps)],
    ["capabilities", list(m.capabilities)],
    [
      "tags",
      list(Array.isArray(m.tags) ? m.tags.map((t) => (Array.isArray(t) ? t.join("=") : t)) : []),
    ],
    ["lastSeen", agoText(clock, typeof m.lastSeen === "number" ? m.lastSeen : null)],
    ["status", m.online === true ? "online" : "offline"],
    ["physicalAddress", str(m, "physicalAddress")],
    ["clientVersion", versionText(m)],
  ]);
}
