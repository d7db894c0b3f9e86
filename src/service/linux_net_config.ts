// The OS network configuration of one Linux interface (the NetConfig role): managed addresses and routes through iproute2, multicast memberships from /proc.
import type { NetConfig } from "../core/frame_port.ts";
import type { InetAddress } from "../vl1/inet_address.ts";
import type { MulticastGroup } from "../vl2/multicast.ts";
import type { Route } from "../vl2/network_config.ts";
import type { ManagedPolicy, SystemRoute } from "./managed_diff.ts";
import { type ApplyReport, type IpRunner, ManagedRoutes, runIp } from "./managed_routes.ts";

/** The broadcast MAC as a 48-bit number. */
const BROADCAST = 0xffff_ffff_ffff;

/**
 * Link-layer multicast MACs of interface `dev` from `/proc/net/dev_mcast` text (lines
 * "index name refcount global hexmac"), sorted, without duplicates.
 */
export function parseDevMcast(text: string, dev: string): number[] {
  const out = new Set<number>();
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || f[1] !== dev || !/^[0-9a-fA-F]{12}$/.test(f[4])) continue;
    out.add(parseInt(f[4], 16));
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * The {@link NetConfig} of Linux interface `deviceName`: addresses and routes applied with
 * iproute2 (diffed against what zt applied), link-layer multicast memberships read from
 * `/proc/net/dev_mcast`. Separate from the interface's frames (the TAP device).
 */
export class LinuxNetConfig implements NetConfig {
  /** The interface. */
  readonly deviceName: string;
  readonly #managed: ManagedRoutes;

  /** Configuration of `deviceName` (an existing interface) run through `run` (default `ip`). */
  constructor(deviceName: string, run: IpRunner = runIp) {
    this.deviceName = deviceName;
    this.#managed = new ManagedRoutes(deviceName, run);
  }

  /** Addresses zt applied to the interface (port = prefix bits). */
  get addresses(): InetAddress[] {
    return this.#managed.addresses;
  }

  /** Routes zt applied to the interface. */
  get routes(): SystemRoute[] {
    return this.#managed.routes;
  }

  /** Makes the applied addresses exactly `addresses` (diffed against what was applied). */
  setAddresses(addresses: InetAddress[]): Promise<ApplyReport> {
    return this.#managed.setAddresses(addresses);
  }

  /** Makes the applied routes exactly `routes` (diffed against what was applied). */
  setRoutes(routes: SystemRoute[]): Promise<ApplyReport> {
    return this.#managed.setRoutes(routes);
  }

  /** Applies a network config's addresses and routes as `policy` allows. */
  syncManaged(
    assigned: InetAddress[],
    routes: Route[],
    policy: ManagedPolicy,
  ): Promise<ApplyReport> {
    return this.#managed.sync(assigned, routes, policy);
  }

  /**
   * The interface's kernel link-layer memberships plus (broadcast, IPv4) for each applied IPv4
   * address (spec §5.3).
   */
  multicastGroups(): MulticastGroup[] {
    let text = "";
    try {
      text = Deno.readTextFileSync("/proc/net/dev_mcast");
    } catch {
      // no procfs: only the ARP groups
    }
    const groups: MulticastGroup[] = parseDevMcast(text, this.deviceName).map((mac) => ({
      mac,
      adi: 0,
    }));
    for (const a of this.addresses) {
      const v4 = a.ipv4Number();
      if (v4 !== undefined) groups.push({ mac: BROADCAST, adi: v4 });
    }
    return groups;
  }

  /** Forgets what was applied (the interface is going away with its addresses and routes). */
  forget(): void {
    this.#managed.forget();
  }
}
