// Managed IP selection for a member (spec §10.5 step 8): routes, static IPs, IPv4/IPv6 pools.
import { InetAddress } from "../vl1/inet_address.ts";
import type { Json } from "../util/json.ts";
import { isJsonObject } from "../util/json.ts";
import type { PlanRoute } from "./config_decision.ts";

/** Most trials per pool before giving up (as the reference). */
const MAX_TRIALS = 1000;

/** Routes of a network record (malformed entries skipped), at most 128. */
export function networkRoutes(routes: Json | undefined): PlanRoute[] {
  const out: PlanRoute[] = [];
  if (!Array.isArray(routes)) return out;
  for (const r of routes) {
    if (!isJsonObject(r) || typeof r.target !== "string") continue;
    const t = InetAddress.parse(r.target);
    if (!t || !r.target.includes("/") || t.port > (t.family === 4 ? 32 : 128)) continue;
    const via = typeof r.via === "string" ? InetAddress.fromIp(r.via) : undefined;
    out.push({
      target: t,
      via: via && via.family === t.family ? via : undefined,
      flags: 0,
      metric: 0,
    });
    if (out.length >= 128) break;
  }
  return out;
}

/** An IP range of a pool. */
export interface IpPool {
  /** First address. */
  start: InetAddress;
  /** Last address. */
  end: InetAddress;
}

/** Pools of a network record (malformed or mixed-family entries skipped). */
export function networkPools(pools: Json | undefined): IpPool[] {
  const out: IpPool[] = [];
  if (!Array.isArray(pools)) return out;
  for (const p of pools) {
    if (
      !isJsonObject(p) || typeof p.ipRangeStart !== "string" || typeof p.ipRangeEnd !== "string"
    ) {
      continue;
    }
    const s = InetAddress.fromIp(p.ipRangeStart);
    const e = InetAddress.fromIp(p.ipRangeEnd);
    if (s && e && s.family === e.family) out.push({ start: s, end: e });
  }
  return out;
}

/**
 * A member's static `ipAssignments` that lie inside some route target, each with the prefix
 * length of the longest matching route.
 */
export function staticAssignments(ips: Json | undefined, routes: PlanRoute[]): InetAddress[] {
  const out: InetAddress[] = [];
  if (!Array.isArray(ips)) return out;
  for (const s of ips) {
    if (typeof s !== "string") continue;
    const ip = InetAddress.parse(s);
    if (!ip) continue;
    let bits = -1;
    for (const r of routes) {
      if (r.target.containsAddress(ip) && r.target.port > bits) bits = r.target.port;
    }
    if (bits >= 0) out.push(ip.withPort(bits));
  }
  return out;
}

/** What pool assignment asks about addresses in use (a `Set` of IP keys will do). */
export interface TakenIps {
  /** True if the IP with this key (see {@link ipKey}) is already assigned. */
  has(key: string): boolean;
}

/** IP-only key used for "already allocated" checks. */
export function ipKey(s: string): string | undefined {
  return InetAddress.parse(s)?.ipKey();
}

/**
 * Picks an IPv4 address from the pools: per pool (skipping end < start or start 0),
 * `counter = address mod 2^32`, up to 1000 trials of `start + counter mod (end - start)`
 * (or `start` if the range is one address), skipping `.255`, requiring a route containing the
 * address and that it is not in `taken` (IP keys). Deterministic. Returns it with the route's
 * prefix as port.
 */
export function pickIpv4(
  pools: IpPool[],
  routes: PlanRoute[],
  address: number,
  taken: TakenIps,
): InetAddress | undefined {
  for (const p of pools) {
    if (p.start.family !== 4) continue;
    const s = p.start.ipv4Number()!;
    const e = p.end.ipv4Number()!;
    if (e < s || s === 0) continue;
    const len = e - s;
    let counter = address % 0x1_0000_0000;
    for (let k = 0; k < MAX_TRIALS; k++) {
      const n = len > 0 ? s + (counter % len) : s;
      counter = (counter + 1) % 0x1_0000_0000;
      if ((n & 0xff) === 0xff) continue;
      const ip = InetAddress.fromIpv4Number(n);
      const route = routes.find((r) => r.target.family === 4 && r.target.containsAddress(ip));
      if (!route || taken.has(ip.ipKey())) continue;
      return ip.withPort(route.target.port);
    }
  }
  return undefined;
}

function toBig(ip: Uint8Array): bigint {
  let v = 0n;
  for (const b of ip) v = (v << 8n) | BigInt(b);
  return v;
}

function fromBig(v: bigint): Uint8Array {
  const b = new Uint8Array(16);
  for (let i = 15; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

function randomU64(random: (n: number) => Uint8Array): bigint {
  const r = random(8);
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(r[i] ?? 0);
  return v;
}

const M64 = 0xffff_ffff_ffff_ffffn;

/**
 * Picks an IPv6 address from the pools: first trial (if the low-64-bit span is >= 2^40 - 1)
 * puts the member address into the low 64 bits of the range start; later trials are random in
 * the range. Accepted if inside an on-link (no `via`) IPv6 route and not in `taken`.
 */
export function pickIpv6(
  pools: IpPool[],
  routes: PlanRoute[],
  address: number,
  taken: TakenIps,
  random: (n: number) => Uint8Array,
): InetAddress | undefined {
  for (const p of pools) {
    if (p.start.family !== 6) continue;
    const s = toBig(p.start.ip);
    const e = toBig(p.end.ip);
    if (e < s) continue;
    const sHi = s >> 64n, sLo = s & M64, eHi = e >> 64n, eLo = e & M64;
    for (let k = 0; k < MAX_TRIALS; k++) {
      let v: bigint;
      if (k === 0 && eLo - sLo >= 0xff_ffff_ffffn) {
        v = (sHi << 64n) | ((sLo + BigInt(address)) & M64);
      } else {
        const hi = eHi > sHi ? sHi + (randomU64(random) % (eHi - sHi + 1n)) : sHi;
        const lo = eLo > sLo ? sLo + (randomU64(random) % (eLo - sLo + 1n)) : sLo;
        v = (hi << 64n) | lo;
      }
      if (v < s || v > e) continue;
      const ip = new InetAddress(fromBig(v), 0);
      const route = routes.find((r) =>
        r.target.family === 6 && r.via === undefined && r.target.containsAddress(ip)
      );
      if (!route || taken.has(ip.ipKey())) continue;
      return ip.withPort(route.target.port);
    }
  }
  return undefined;
}
