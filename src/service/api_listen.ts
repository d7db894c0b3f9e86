// Where the local API listens (spec §11.1): loopback always; wildcard or `bind` addresses only when local.conf allows remote management.
import type { InetAddress } from "../vl1/inet_address.ts";

/** One address the API server should listen on. */
export interface ApiListenHost {
  /** Hostname for `Deno.serve` (an IP literal). */
  hostname: string;
  /** Failing to listen here stops the service (others only log a warning). */
  required: boolean;
  /**
   * `AddrInUse` here is expected and harmless once an earlier host of the plan listens: the
   * dual-stack `::` socket already covers IPv4 (Linux `bindv6only=0`).
   */
  coveredByDualStack?: boolean;
}

/** The local.conf settings that decide where the API listens. */
export interface ApiListenSettings {
  /** CIDRs besides loopback allowed to use the API. */
  allowManagementFrom: InetAddress[];
  /** Explicit local IPs to bind instead of the wildcard addresses. */
  bind: InetAddress[];
}

/** Whether an address is the IPv4 or IPv6 wildcard (0.0.0.0 / ::). */
function isWildcard(a: InetAddress): boolean {
  return a.ip.every((b) => b === 0);
}

/** Whether an address is loopback (127/8 or ::1). */
function isLoopback(a: InetAddress): boolean {
  if (a.family === 4) return a.ip[0] === 127;
  return a.ip[15] === 1 && a.ip.subarray(0, 15).every((b) => b === 0);
}

/**
 * The API listen plan. The reference listens on `0.0.0.0` and `::` and relies on its client IP
 * check alone; zt is stricter: with an empty `allowManagementFrom` (the default) only
 * `127.0.0.1` and `::1` are used, so the port is not reachable from other hosts at all. With a
 * non-empty `allowManagementFrom` it listens like the reference - `::` (dual-stack) then
 * `0.0.0.0` - or, when `settings.bind` is set, on loopback plus each bound address (link-local
 * IPv6 bind addresses are skipped: they need a scope). The client IP check
 * (api_server.ts) applies to every connection either way.
 */
export function apiListenPlan(s: ApiListenSettings): ApiListenHost[] {
  const loopback: ApiListenHost[] = [
    { hostname: "127.0.0.1", required: true },
    { hostname: "::1", required: false },
  ];
  if (s.allowManagementFrom.length === 0) return loopback;
  const bind = s.bind;
  if (bind.length === 0 || bind.some(isWildcard)) {
    return [
      { hostname: "::", required: false },
      { hostname: "0.0.0.0", required: true, coveredByDualStack: true },
    ];
  }
  const out = [...loopback];
  const seen = new Set(out.map((h) => h.hostname));
  for (const a of bind) {
    if (isLoopback(a)) continue;
    if (a.family === 6 && a.ip[0] === 0xfe && (a.ip[1] & 0xc0) === 0x80) continue;
    const hostname = a.toIpString();
    if (seen.has(hostname)) continue;
    seen.add(hostname);
    out.push({ hostname, required: false });
  }
  return out;
}
