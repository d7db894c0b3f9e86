// Text output of the zerotier-cli commands (spec §11.5): info, listpeers, peers, listnetworks, JSON dumps.
import { stringifyJson64 } from "../util/json64.ts";

/** Any JSON value as parsed from the API. */
export type JsonValue = null | boolean | number | string | JsonValue[] | {
  [k: string]: JsonValue;
};

/** A JSON object. */
type Obj = { [k: string]: JsonValue };

/** Plain-object check. */
function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Member as string ("" if absent or not a string). */
function str(o: Obj, k: string): string {
  const v = o[k];
  return typeof v === "string" ? v : "";
}

/** Member as number (`dflt` if absent or not a number). */
function num(o: Obj, k: string, dflt: number): number {
  const v = o[k];
  return typeof v === "number" && Number.isFinite(v) ? v : dflt;
}

/** Objects of an array member (others skipped). */
function objs(v: JsonValue | undefined): Obj[] {
  return Array.isArray(v) ? v.filter(isObj) : [];
}

/** The reference's `-j` output: 1-space indent, `": "`, one trailing newline. */
export function formatJson(v: unknown): string {
  return stringifyJson64(v ?? {}, 1) + "\n";
}

/** `info`: `200 info <address> <version> <ONLINE|OFFLINE|TUNNELED>`. */
export function formatInfo(status: unknown): string {
  const s = isObj(status) ? status : {};
  const state = s.tcpFallbackActive === true
    ? "TUNNELED"
    : s.online === true
    ? "ONLINE"
    : "OFFLINE";
  return `200 info ${str(s, "address")} ${str(s, "version") || "-"} ${state}\n`;
}

/** Version text of a peer: `maj.min.rev`, or `-` when unknown. */
function peerVersion(p: Obj): string {
  if (num(p, "versionMajor", -1) < 0) return "-";
  return str(p, "version") ||
    `${num(p, "versionMajor", 0)}.${num(p, "versionMinor", 0)}.${num(p, "versionRev", 0)}`;
}

/** The preferred path of a peer, if any. */
function preferredPath(p: Obj): Obj | undefined {
  return objs(p.paths).find((x) => x.preferred === true);
}

/** ms since `t` as the reference prints it (an integer, `now - t`). */
function ago(now: number, t: number): string {
  return String(Math.trunc(now - t));
}

/**
 * `listpeers`: a header line, then per peer `200 listpeers <addr> <ip/port;txAgo;rxAgo|-> <latency>
 * <version|-> <role>` (preferred path only). `now` is the clock the "ago" values count from.
 */
export function formatListPeers(peers: unknown, now: number): string {
  let out = "200 listpeers <ztaddr> <path> <latency> <version> <role>\n";
  for (const p of Array.isArray(peers) ? peers.filter(isObj) : []) {
    const path = preferredPath(p);
    const pathText = path
      ? `${str(path, "address")};${ago(now, num(path, "lastSend", 0))};${
        ago(now, num(path, "lastReceive", 0))
      }`
      : "-";
    out += `200 listpeers ${str(p, "address")} ${pathText} ${num(p, "latency", -1)} ${
      peerVersion(p)
    } ${str(p, "role")}\n`;
  }
  return out;
}

/** `%-<w>s`. */
function left(s: string, w: number): string {
  return s.padEnd(w, " ");
}

/** `%<w>d`. */
function right(n: number, w: number): string {
  return String(Math.trunc(n)).padStart(w, " ");
}

/**
 * `peers`: `200 peers`, a column header, then per peer `<addr> <ver> <role> <lat> <link>` with
 * link `DIRECT   <txAgo> <rxAgo> <ip/port>` (preferred path; `RELAY <txAgo> ...` when the node
 * tunnels through a TCP relay) or `RELAY`; if any peer is tunneled, the reference's closing note.
 */
export function formatPeers(peers: unknown, now: number): string {
  let out = "200 peers\n<ztaddr>   <ver>  <role> <lat> <link>   <lastTX> <lastRX> <path>\n";
  let anyTunneled = false;
  for (const p of Array.isArray(peers) ? peers.filter(isObj) : []) {
    const path = preferredPath(p);
    if (p.tunneled === true) anyTunneled = true;
    const link = path
      ? `${p.tunneled === true ? "RELAY " : "DIRECT   "}${
        left(ago(now, num(path, "lastSend", 0)), 8)
      } ${left(ago(now, num(path, "lastReceive", 0)), 8)} ${str(path, "address")}`
      : "RELAY";
    out += `${str(p, "address")} ${left(peerVersion(p), 6)} ${left(str(p, "role"), 6)} ${
      right(num(p, "latency", -1), 5)
    } ${link}\n`;
  }
  if (anyTunneled) {
    out += "NOTE: Currently tunneling through a TCP relay. Ensure that UDP is not blocked.\n";
  }
  return out;
}

/**
 * `listnetworks`: a header, then per network `200 listnetworks <nwid> <name> <mac> <status>
 * <type> <dev> <ips>` (assigned addresses comma-joined, `-` if none).
 */
export function formatListNetworks(networks: unknown): string {
  let out = "200 listnetworks <nwid> <name> <mac> <status> <type> <dev> <ZT assigned ips>\n";
  for (const n of Array.isArray(networks) ? networks.filter(isObj) : []) {
    const ips = Array.isArray(n.assignedAddresses)
      ? n.assignedAddresses.filter((a): a is string => typeof a === "string")
      : [];
    out += `200 listnetworks ${str(n, "nwid")} ${str(n, "name")} ${str(n, "mac")} ${
      str(n, "status")
    } ${str(n, "type")} ${str(n, "portDeviceName")} ${ips.length ? ips.join(",") : "-"}\n`;
  }
  return out;
}

/** The IP part of `ip/bits`. */
function ipOf(cidr: string): string {
  const i = cidr.lastIndexOf("/");
  return i < 0 ? cidr : cidr.slice(0, i);
}

/** Whether an IPv6 text address is a 6PLANE address (prefix fc, /40 in the assigned list). */
function isSixPlane(cidr: string): boolean {
  return cidr.includes(":") && /^fc[0-9a-f]{2}:/i.test(cidr) && cidr.endsWith("/40");
}

/**
 * `get <nwid> <field>`: a network's property as text (strings bare, other values as JSON), or for
 * `ip`, `ip4`, `ip6`, `ip6plane`, `ip6prefix` the matching assigned addresses without `/bits`,
 * one per line. Undefined if the property does not exist.
 */
export function formatGet(network: unknown, field: string): string | undefined {
  const n = isObj(network) ? network : {};
  const addrs = Array.isArray(n.assignedAddresses)
    ? n.assignedAddresses.filter((a): a is string => typeof a === "string")
    : [];
  let list: string[] | undefined;
  switch (field) {
    case "ip":
      list = addrs.map(ipOf);
      break;
    case "ip4":
      list = addrs.filter((a) => !a.includes(":")).map(ipOf);
      break;
    case "ip6":
      list = addrs.filter((a) => a.includes(":")).map(ipOf);
      break;
    case "ip6plane":
      list = addrs.filter(isSixPlane).map(ipOf);
      break;
    case "ip6prefix":
      // the /80 each 6PLANE address hands out to the host (its first 5 groups)
      list = addrs.filter(isSixPlane).map((a) => ipOf(a).split(":").slice(0, 5).join(":") + "::");
      break;
  }
  if (list !== undefined) return list.map((x) => x + "\n").join("");
  if (!(field in n)) return undefined;
  const v = n[field];
  return (typeof v === "string" ? v : stringifyJson64(v)) + "\n";
}
