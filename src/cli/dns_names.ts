// `--dns-names <domain>`: sets a network's DNS domain and points dns.servers at the controller's own overlay addresses, in one step.
import { memberAddresses, normalizeDomain } from "../controller/dns_zone.ts";
import { isJsonObject, type JsonObject } from "../util/json.ts";
import { apiRequest, type ApiTarget } from "./api_client.ts";

/** One local API call: HTTP status and parsed JSON body (undefined if not JSON). */
export type ApiCall = (
  method: "GET" | "POST",
  path: string,
  body?: unknown,
) => Promise<{ status: number; json: unknown }>;

/** An {@link ApiCall} over {@link apiRequest} to `target`. */
export function apiCallFor(target: ApiTarget): ApiCall {
  return async (method, path, body) => {
    const r = await apiRequest(target, method, path, body);
    let json: unknown;
    try {
      json = JSON.parse(r.body);
    } catch {
      json = undefined;
    }
    return { status: r.status, json };
  };
}

/**
 * The name servers for `--dns-names`: the controller member's first managed IPv4 address and
 * its first IPv6 address (assigned, else rfc4193, else 6plane) on the network. Two at most, so
 * a member's resolv.conf keeps room for one of its own servers (glibc reads three). Empty if it
 * has none.
 */
export function dnsNameServers(network: JsonObject, controllerMember: JsonObject): string[] {
  const ips = memberAddresses(network, controllerMember);
  const v4 = ips.find((a) => a.family === 4);
  const v6 = ips.find((a) => a.family === 6);
  return [v4, v6].filter((a) => a !== undefined).map((a) => a.toIpString());
}

/** Result of {@link setDnsNames}. */
export type DnsNamesResult =
  | { ok: true; domain: string; servers: string[]; network: JsonObject }
  | { ok: false; error: string };

/**
 * Turns on member names for network `nwid`: checks `domain`, finds the controller's own member
 * record on the network (it must have joined it and be authorized), and POSTs
 * `dns: { domain, servers: <its overlay addresses> }` to the controller API. The controller
 * node then answers DNS for `<member name>.<domain>` on those addresses.
 */
export async function setDnsNames(
  call: ApiCall,
  nwid: string,
  domain: string,
): Promise<DnsNamesResult> {
  const d = normalizeDomain(domain);
  if (d === undefined) {
    return { ok: false, error: `"${domain}" is not a DNS domain (e.g. zt.example.com)` };
  }
  if (d.length > 127) return { ok: false, error: "the domain is longer than 127 characters" };
  if (!/^[0-9a-fA-F]{16}$/.test(nwid)) {
    return { ok: false, error: `"${nwid}" is not a network ID (16 hex digits)` };
  }
  const id = nwid.toLowerCase();
  const status = await call("GET", "/status");
  const address = isJsonObject(status.json) ? status.json.address : undefined;
  if (status.status !== 200 || typeof address !== "string") {
    return { ok: false, error: `cannot read the node's address (/status: HTTP ${status.status})` };
  }
  const net = await call("GET", `/controller/network/${id}`);
  if (net.status === 404 || !isJsonObject(net.json)) {
    return { ok: false, error: `network ${id} not found on this controller` };
  }
  const mem = await call("GET", `/controller/network/${id}/member/${address}`);
  const member = isJsonObject(mem.json) && mem.status === 200 ? mem.json : undefined;
  if (!member || (member.authorized !== true && net.json.private !== false)) {
    return {
      ok: false,
      error: `the controller node ${address} is not an authorized member of ${id}: ` +
        `join it (zt join ${id}) and authorize ${address} first`,
    };
  }
  const servers = dnsNameServers(net.json, member);
  if (servers.length === 0) {
    return {
      ok: false,
      error: `the controller node ${address} has no managed address on ${id} yet ` +
        `(give the network an IP pool or rfc4193, or the member an IP)`,
    };
  }
  const r = await call("POST", `/controller/network/${id}`, { dns: { domain: d, servers } });
  if (r.status !== 200 || !isJsonObject(r.json)) {
    const msg = isJsonObject(r.json) && typeof r.json.description === "string"
      ? r.json.description
      : "";
    return { ok: false, error: `setting DNS failed (HTTP ${r.status})${msg ? `: ${msg}` : ""}` };
  }
  return { ok: true, domain: d, servers, network: r.json };
}
