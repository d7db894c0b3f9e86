// Port mapping for the tertiary port: NAT-PMP first, then UPnP IGD (nat_pmp.ts, upnp_igd.ts), renewed while running, removed on stop.
//
// Facts (the reference's port mapper, read as behaviour): it maps only the tertiary UDP port,
// asks NAT-PMP first and falls back to UPnP, names the mapping "ZeroTier/<address>@<port>",
// leases for twice its 120 s refresh period and refreshes every 120 s; the mapped public address
// is added to the node's local interface addresses (so peers learn it). Retries back off from
// 0.5 s to 12 s while no gateway is found. zt also removes the mapping when it stops.
import { InetAddress } from "../vl1/inet_address.ts";
import type { Logger } from "./logger.ts";
import { natPmpMapUdp, natPmpPublicAddress } from "./nat_pmp.ts";
import {
  findIgd,
  type IgdService,
  upnpAddUdpMapping,
  upnpDeleteUdpMapping,
  upnpExternalIp,
} from "./upnp_igd.ts";

/** Refresh period (the reference's 120 s). */
export const PORT_MAPPING_REFRESH_MS = 120_000;
/** Time allowed for one request to a gateway. */
const REQUEST_TIMEOUT_MS = 5_000;
/** Time allowed to remove the mapping when stopping (within `zt run`'s 2 s shutdown). */
const UNMAP_TIMEOUT_MS = 1_500;

/** A mapping obtained from a gateway. */
export interface Mapping {
  /** Public address and port. */
  external: InetAddress;
  /** How it was made. */
  method: "nat-pmp" | "upnp";
}

/** One way of mapping (NAT-PMP, UPnP, or a fake in tests). */
export interface MappingMethod {
  /** Name for logs. */
  readonly name: "nat-pmp" | "upnp";
  /** Creates or renews the mapping; rejects on failure. */
  map(signal: AbortSignal): Promise<InetAddress>;
  /** Removes the mapping (best effort). */
  unmap(signal: AbortSignal): Promise<void>;
  /** Releases sockets. */
  close(): Promise<void>;
}

/** The IPv4 default route's gateway and interface from `/proc/net/route`, if any. */
export function defaultGateway(routeText?: string): { gateway: string; iface: string } | undefined {
  let text = routeText;
  if (text === undefined) {
    try {
      text = Deno.readTextFileSync("/proc/net/route");
    } catch {
      return undefined;
    }
  }
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[1] !== "00000000" || f[7] !== "00000000") continue;
    const g = Number.parseInt(f[2], 16);
    if (!Number.isFinite(g) || g === 0) continue;
    // /proc/net/route prints the address as a host-order (little-endian) word
    const gateway = [g & 0xff, (g >>> 8) & 0xff, (g >>> 16) & 0xff, (g >>> 24) & 0xff].join(".");
    return { gateway, iface: f[0] };
  }
  return undefined;
}

/** The first IPv4 address of interface `iface`. */
function interfaceIpv4(iface: string): string | undefined {
  try {
    return Deno.networkInterfaces().find((i) => i.name === iface && i.family === "IPv4")
      ?.address;
  } catch {
    return undefined;
  }
}

/** A usable public IPv4 address and port, or an error naming what the gateway gave. */
function publicAddress(ip: string, port: number): InetAddress {
  const ext = InetAddress.fromIp(ip, port);
  if (!ext || ext.family !== 4 || ext.ip.every((b) => b === 0)) {
    throw new Error(`gateway gave no usable public address (${ip || "none"})`);
  }
  return ext;
}

/**
 * NAT-PMP toward the default gateway (RFC 6886), lease `leaseS` seconds. `localIp` is implied by
 * the source address of the requests (NAT-PMP maps to the client that asks).
 */
export function natPmpMethod(
  gateway: string,
  _localIp: string,
  port: number,
  leaseS: number,
): MappingMethod {
  return {
    name: "nat-pmp",
    async map(signal) {
      const m = await natPmpMapUdp(gateway, port, leaseS, signal);
      return publicAddress(await natPmpPublicAddress(gateway, signal), m.externalPort);
    },
    async unmap(signal) {
      await natPmpMapUdp(gateway, port, 0, signal);
    },
    close() {
      return Promise.resolve(); // a socket per request, closed with it
    },
  };
}

/** UPnP IGD: SSDP discovery on the LAN, then AddPortMapping / DeletePortMapping over SOAP. */
export function upnpMethod(
  localIp: string,
  port: number,
  leaseS: number,
  description: string,
  ssdpTarget?: { host: string; port: number },
): MappingMethod {
  let svc: IgdService | undefined;
  return {
    name: "upnp",
    async map(signal) {
      svc ??= await findIgd(localIp, signal, ssdpTarget);
      const s = svc;
      try {
        await upnpAddUdpMapping(s, localIp, port, leaseS, description, signal);
        return publicAddress(await upnpExternalIp(s, signal), port);
      } catch (e) {
        svc = undefined; // find the gateway again next time
        throw e;
      }
    },
    async unmap(signal) {
      if (svc) await upnpDeleteUdpMapping(svc, port, signal);
    },
    close() {
      svc = undefined;
      return Promise.resolve();
    },
  };
}

/** Options of {@link PortMapper}. */
export interface PortMapperOptions {
  /** The local UDP port to map (the tertiary port). */
  port: number;
  /** Mapping description ("ZeroTier/<address>@<port>"). */
  description: string;
  /** The mapping changed (undefined = none). */
  onChange: (m: Mapping | undefined) => void;
  /** Logger. */
  log: Logger;
  /** Refresh period, ms (the lease is twice this). */
  refreshMs?: number;
  /** Builds the methods to try, in order, for the current gateway (default NAT-PMP then UPnP). */
  methods?: () => MappingMethod[] | undefined;
  /** Retry delay bounds while nothing works, ms (default 500..12000). */
  retryMs?: [number, number];
}

/**
 * Keeps a mapping of one UDP port alive: maps, renews every refresh period (re-mapping when the
 * gateway lost it), falls back from NAT-PMP to UPnP, and removes it on {@link stop}.
 */
export class PortMapper {
  readonly #o: PortMapperOptions;
  readonly #refreshMs: number;
  #mapping: Mapping | undefined;
  #active: MappingMethod | undefined;
  #methods: MappingMethod[] = [];
  #stopped = false;
  readonly #abort = new AbortController();
  #wake: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #loop: Promise<void>;
  /** Mapping attempts and renewals that succeeded / failed. */
  readonly stats = { mapped: 0, failed: 0 };

  /** Starts mapping at once. */
  constructor(o: PortMapperOptions) {
    this.#o = o;
    this.#refreshMs = o.refreshMs ?? PORT_MAPPING_REFRESH_MS;
    this.#loop = this.#run();
  }

  /** The current mapping, if any. */
  get mapping(): Mapping | undefined {
    return this.#mapping;
  }

  /** The default methods: NAT-PMP then UPnP toward the default route's gateway. */
  #defaultMethods(): MappingMethod[] | undefined {
    const r = defaultGateway();
    const ip = r ? interfaceIpv4(r.iface) : undefined;
    if (!r || !ip) return undefined;
    const lease = Math.round((this.#refreshMs * 2) / 1000);
    return [
      natPmpMethod(r.gateway, ip, this.#o.port, lease),
      upnpMethod(ip, this.#o.port, lease, this.#o.description),
    ];
  }

  /** Sleeps `ms` or until {@link stop}. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, ms);
    });
  }

  /** Sets the mapping and reports a change. */
  #set(m: Mapping | undefined): void {
    const same = m && this.#mapping && m.method === this.#mapping.method &&
      m.external.equals(this.#mapping.external);
    if (same || (!m && !this.#mapping)) return;
    this.#mapping = m;
    if (m) {
      this.#o.log.info(
        `port mapping (${m.method}): ${m.external} \u2192 local port ${this.#o.port}`,
      );
    } else this.#o.log.info(`port mapping for local port ${this.#o.port} lost`);
    try {
      this.#o.onChange(m);
    } catch (e) {
      this.#o.log.warn(`port mapping listener failed: ${e instanceof Error ? e.message : e}`);
    }
  }

  /** The mapping loop. */
  async #run(): Promise<void> {
    const [minRetry, maxRetry] = this.#o.retryMs ?? [500, 12_000];
    let retry = minRetry;
    while (!this.#stopped) {
      if (this.#methods.length === 0) {
        const m = (this.#o.methods ?? (() => this.#defaultMethods()))();
        if (!m || m.length === 0) {
          await this.#sleep(retry);
          retry = Math.min(maxRetry, retry * 2);
          continue;
        }
        this.#methods = m;
      }
      // the method that worked last time first, then the others in order
      const order = this.#active
        ? [this.#active, ...this.#methods.filter((x) => x !== this.#active)]
        : this.#methods;
      let ok = false;
      for (const method of order) {
        if (this.#stopped) break;
        try {
          const signal = AbortSignal.any([
            this.#abort.signal,
            AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          ]);
          const ext = await method.map(signal);
          if (this.#stopped) break;
          this.#active = method;
          this.stats.mapped++;
          this.#set({ external: ext, method: method.name });
          ok = true;
          break;
        } catch (e) {
          this.stats.failed++;
          this.#o.log.debug(
            `port mapping via ${method.name} failed: ${e instanceof Error ? e.message : e}`,
          );
        }
      }
      if (this.#stopped) break;
      if (ok) {
        retry = minRetry;
        await this.#sleep(this.#refreshMs);
      } else {
        this.#set(undefined);
        this.#active = undefined;
        await this.#sleep(retry);
        retry = Math.min(maxRetry, retry * 2);
        // look for the gateway again (the default route may have changed)
        await this.#closeMethods();
      }
    }
  }

  /** Closes every method's sockets. */
  async #closeMethods(): Promise<void> {
    const ms = this.#methods;
    this.#methods = [];
    await Promise.all(ms.map((m) => m.close().catch(() => {})));
  }

  /** Stops renewing and removes the mapping (bounded in time). Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return await this.#loop;
    this.#stopped = true;
    this.#abort.abort();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#wake?.();
    await this.#loop;
    if (this.#active && this.#mapping) {
      try {
        await this.#active.unmap(AbortSignal.timeout(UNMAP_TIMEOUT_MS));
        this.#o.log.info(`port mapping ${this.#mapping.external} removed`);
      } catch (e) {
        this.#o.log.warn(`removing the port mapping failed: ${e instanceof Error ? e.message : e}`);
      }
    }
    this.#mapping = undefined;
    await this.#closeMethods();
  }
}
