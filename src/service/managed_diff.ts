// Pure planning of managed IPs and routes: which of a network config's addresses/routes may be applied
// (allowManaged / allowGlobal / allowDefault), and the add/remove diff against what is applied now.
import type { ManagedPolicy } from "../core/frame_port.ts";
import { InetAddress, IpScope } from "../vl1/inet_address.ts";
import type { Route } from "../vl2/network_config.ts";

/** The local per-network settings that gate managed addresses and routes (spec §11.1). */
export type { ManagedPolicy };

/** The reference's local defaults: managed on, global and default off. */
export const DEFAULT_MANAGED_POLICY: ManagedPolicy = Object.freeze({
  allowManaged: true,
  allowGlobal: false,
  allowDefault: false,
});

/** A route as installed on the interface: target network, optional gateway, source address. */
export interface SystemRoute {
  /** Target network with host bits cleared; port = prefix bits. */
  target: InetAddress;
  /** Gateway, or undefined for an on-link route. */
  via?: InetAddress;
  /** Preferred source address (one of ours, port = its prefix bits). */
  src?: InetAddress;
}

/** What zt has applied to one interface. */
export interface ManagedState {
  /** Addresses (port = prefix bits), sorted by `InetAddress.compare`, no duplicates. */
  addresses: InetAddress[];
  /** Routes, sorted by target, unique targets. */
  routes: SystemRoute[];
}

/** Things to add and to remove to get from one list to another. */
export interface ListDiff<T> {
  /** Present in the desired list only. */
  add: T[];
  /** Present in the current list only. */
  remove: T[];
}

/** The next state and the two diffs leading to it (see {@link planManaged}). */
export interface ManagedPlan {
  /** State after applying both diffs. */
  next: ManagedState;
  /** Address changes. */
  addresses: ListDiff<InetAddress>;
  /** Route changes (a changed via/src shows as remove + add). */
  routes: ListDiff<SystemRoute>;
}

/** Prefix length of an address/network (kept in the port), clamped to the family's width. */
export function prefixBits(a: InetAddress): number {
  return Math.min(a.port, a.family === 4 ? 32 : 128);
}

/** Whether `a` is a default route target: an all-zero IP with prefix length 0. */
export function isDefaultRoute(a: InetAddress): boolean {
  return a.port === 0 && a.ip.every((b) => b === 0);
}

/** Number of leading bits two IPs of the same family share (0 for different families). */
export function matchingPrefixBits(a: InetAddress, b: InetAddress): number {
  if (a.family !== b.family) return 0;
  let n = 0;
  for (let i = 0; i < a.ip.length; i++) {
    const x = a.ip[i] ^ b.ip[i];
    if (x === 0) {
      n += 8;
      continue;
    }
    return n + Math.clz32(x) - 24;
  }
  return n;
}

/**
 * Whether a managed address or route target may be applied: allowManaged gates everything; a
 * whitelist (if any) must contain it; default routes need allowDefault; global-scope ones need
 * allowGlobal; unusable, multicast, loopback and link-local ones never; private ones always.
 */
export function managedTargetAllowed(policy: ManagedPolicy, target: InetAddress): boolean {
  if (!policy.allowManaged) return false;
  const wl = policy.allowManagedWhitelist;
  if (wl && wl.length > 0) {
    const ok = wl.some((n) => n.containsAddress(target) && prefixBits(n) <= prefixBits(target));
    if (!ok) return false;
  }
  if (isDefaultRoute(target)) return policy.allowDefault;
  switch (target.scope()) {
    case IpScope.NONE:
    case IpScope.MULTICAST:
    case IpScope.LOOPBACK:
    case IpScope.LINK_LOCAL:
      return false;
    case IpScope.GLOBAL:
      return policy.allowGlobal;
    default:
      return true;
  }
}

/** Identity of a route for diffing: target, gateway and source. */
export function routeKey(r: SystemRoute): string {
  return `${r.target.toString()} via ${r.via?.toIpString() ?? "-"} src ${
    r.src?.toIpString() ?? "-"
  }`;
}

/** The assigned addresses that may be applied under `policy`, sorted and deduplicated. */
export function desiredAddresses(assigned: InetAddress[], policy: ManagedPolicy): InetAddress[] {
  const out = assigned.filter((a) => managedTargetAllowed(policy, a)).sort(InetAddress.compare);
  return out.filter((a, i) => i === 0 || !out[i - 1].equals(a));
}

/**
 * Splits a default route into its two halves (0.0.0.0/1 + 128.0.0.0/1, ::/1 + 8000::/1) so it
 * overrides the system default route without replacing it; other targets pass through.
 */
export function splitDefaultRoute(target: InetAddress): InetAddress[] {
  if (!isDefaultRoute(target)) return [target];
  const hi = new Uint8Array(target.ip.length);
  hi[0] = 0x80;
  return [new InetAddress(target.ip, 1), new InetAddress(hi, 1)];
}

/**
 * The routes to install for a network config, as the reference does on Linux:
 * - the target must pass {@link managedTargetAllowed};
 * - a route whose gateway is one of our own IPs (assigned or on the device) is skipped;
 * - the source is our IP of the target's family sharing the most leading bits with the target
 *   (ties: the later one in address order); no such IP -> skipped;
 * - a route exactly implied by a managed address (same prefix length, contains it) is skipped,
 *   since adding the address adds that route;
 * - a default route is split into two /1 halves; the first route per target wins.
 * @param routes the config's routes.
 * @param assigned all assigned addresses of the config (before policy filtering).
 * @param managed the addresses actually applied ({@link desiredAddresses}).
 * @param policy allow flags.
 * @param deviceIps other IPs the interface has (optional).
 */
export function desiredRoutes(
  routes: Route[],
  assigned: InetAddress[],
  managed: InetAddress[],
  policy: ManagedPolicy,
  deviceIps: InetAddress[] = [],
): SystemRoute[] {
  const myIps = [...deviceIps, ...assigned].sort(InetAddress.compare);
  const byTarget = new Map<string, SystemRoute>();
  for (const r of routes) {
    const target = r.target;
    if (!managedTargetAllowed(policy, target)) continue;
    const via = r.via;
    if (via && via.family === target.family && myIps.some((ip) => ip.ipEquals(via))) continue;
    let src: InetAddress | undefined;
    let best = 0;
    for (const ip of myIps) {
      if (ip.family !== target.family) continue;
      const m = matchingPrefixBits(ip, target);
      if (m >= best) {
        best = m;
        src = ip;
      }
    }
    if (!src) continue;
    const implied = managed.some((ip) =>
      prefixBits(ip) === prefixBits(target) && target.containsAddress(ip)
    );
    if (implied) continue;
    for (const t of splitDefaultRoute(target)) {
      const net = t.network();
      const key = net.toString();
      if (byTarget.has(key)) continue;
      const sr: SystemRoute = { target: net, src };
      if (via) sr.via = via;
      byTarget.set(key, sr);
    }
  }
  return [...byTarget.values()].sort((a, b) => InetAddress.compare(a.target, b.target));
}

/** Add/remove lists turning address list `current` into `desired` (equality: IP + bits). */
export function diffAddresses(
  current: InetAddress[],
  desired: InetAddress[],
): ListDiff<InetAddress> {
  const cur = new Set(current.map((a) => a.key()));
  const des = new Set(desired.map((a) => a.key()));
  return {
    add: desired.filter((a) => !cur.has(a.key())),
    remove: current.filter((a) => !des.has(a.key())),
  };
}

/** Add/remove lists turning route list `current` into `desired` (equality: {@link routeKey}). */
export function diffRoutes(current: SystemRoute[], desired: SystemRoute[]): ListDiff<SystemRoute> {
  const cur = new Set(current.map(routeKey));
  const des = new Set(desired.map(routeKey));
  return {
    add: desired.filter((r) => !cur.has(routeKey(r))),
    remove: current.filter((r) => !des.has(routeKey(r))),
  };
}

/** Nothing applied. */
export function emptyManagedState(): ManagedState {
  return { addresses: [], routes: [] };
}

/**
 * Plans the sync of one network: from what is applied (`current`) to what the config and policy
 * call for. Applying `addresses.remove`, then `addresses.add`, then `routes.remove` and
 * `routes.add` yields `next`.
 */
export function planManaged(
  current: ManagedState,
  assigned: InetAddress[],
  routes: Route[],
  policy: ManagedPolicy,
  deviceIps: InetAddress[] = [],
): ManagedPlan {
  const addrs = desiredAddresses(assigned, policy);
  const rts = desiredRoutes(routes, assigned, addrs, policy, deviceIps);
  return {
    next: { addresses: addrs, routes: rts },
    addresses: diffAddresses(current.addresses, addrs),
    routes: diffRoutes(current.routes, rts),
  };
}
