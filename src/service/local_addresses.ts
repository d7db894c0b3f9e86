// This host's interface addresses usable for ZeroTier traffic (listeningOn, direct path pushes).
import { InetAddress } from "../vl1/inet_address.ts";

/**
 * Interface name prefixes never used for ZeroTier traffic, per OS, as the reference skips them:
 * loopback, our own virtual interfaces (zt*), and other tunnels (tun*, tap*; feth*, utun* on
 * macOS), so zt never advertises or listens on an address that itself rides the overlay.
 */
export function builtInInterfacePrefixBlacklist(os: string = Deno.build.os): string[] {
  switch (os) {
    case "linux":
      return ["lo", "zt", "tun", "tap"];
    case "darwin":
      return ["lo", "zt", "tun", "tap", "feth", "utun"];
    default:
      return ["lo", "zt"];
  }
}

/** What to leave out besides loopback and link-local addresses. */
export interface InterfaceFilter {
  /** local.conf `settings.interfacePrefixBlacklist`: more interface name prefixes to skip. */
  prefixBlacklist?: readonly string[];
  /** local.conf `physical` entries with `blacklist: true` (ip/bits). */
  blacklist?: readonly InetAddress[];
  /** Addresses assigned to our own virtual interfaces (whatever their names). */
  ownAddresses?: readonly InetAddress[];
  /** Interface name prefixes always skipped (default {@link builtInInterfacePrefixBlacklist}). */
  builtIn?: readonly string[];
}

/** Reads the interface list; empty if it cannot be read. */
function systemInterfaces(): Deno.NetworkInterfaceInfo[] {
  try {
    return Deno.networkInterfaces();
  } catch {
    return [];
  }
}

/**
 * Interface addresses with `port`, sorted: non-loopback, non-link-local, not on an interface
 * whose name starts with a blacklisted prefix, not inside a blacklisted network, not one of our
 * own overlay addresses. With explicit `bind` addresses, those (minus wildcards) instead.
 */
export function localInterfaceAddresses(
  port: number,
  bind: InetAddress[] = [],
  filter: InterfaceFilter = {},
  interfaces: () => Deno.NetworkInterfaceInfo[] = systemInterfaces,
): InetAddress[] {
  if (bind.length > 0) {
    return bind.filter((a) => !a.ip.every((x) => x === 0)).map((a) => a.withPort(port));
  }
  const prefixes = [
    ...(filter.builtIn ?? builtInInterfacePrefixBlacklist()),
    ...(filter.prefixBlacklist ?? []),
  ].filter((p) => p.length > 0);
  const own = new Set((filter.ownAddresses ?? []).map((a) => a.toIpString()));
  const seen = new Set<string>();
  const out: InetAddress[] = [];
  for (const i of interfaces()) {
    if (prefixes.some((p) => i.name.startsWith(p))) continue;
    const a = InetAddress.fromIp(i.address.replace(/%.*$/, ""), port);
    if (!a) continue;
    if (a.family === 4 && a.ip[0] === 127) continue;
    if (a.family === 6 && a.ip[0] === 0xfe && (a.ip[1] & 0xc0) === 0x80) continue;
    if (a.family === 6 && a.ip.slice(0, 15).every((x) => x === 0)) continue;
    if (own.has(a.toIpString())) continue;
    if (filter.blacklist?.some((n) => n.containsAddress(a))) continue;
    if (seen.has(a.key())) continue;
    seen.add(a.key());
    out.push(a);
  }
  return out.sort(InetAddress.compare);
}
