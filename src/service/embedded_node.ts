// The embeddable zt (libzt-like): a node in a home with zt's own network stack, joined networks, and Deno.Conn-shaped TCP plus UDP into the overlay; no TAP, no root, no FFI needed.
import { Logger, type LogLevel } from "./logger.ts";
import { createNode } from "./node_factory.ts";
import { networkDomains } from "./overlay_resolver.ts";
import { Service } from "./service.ts";
import {
  type OverlayConn,
  type OverlayListener,
  type OverlayUdp,
  UserspaceNet,
  type UserspaceNetOptions,
} from "./userspace_net.ts";

/** Options of {@link startEmbeddedNode}. */
export interface EmbeddedNodeOptions {
  /** Home directory (identity, planet, networks.d; created if missing). */
  home: string;
  /** UDP/API port (default 0: random in 20000..65499). */
  port?: number;
  /** Log level (default "warn"); lines go to stderr. */
  logLevel?: LogLevel;
  /** Run the embedded network controller (default false). */
  controller?: boolean;
  /** Stack tunables (TCP buffers, limits). */
  stack?: Pick<UserspaceNetOptions, "tcp" | "limits">;
}

/** A running embedded node. */
export class EmbeddedNode {
  /** The service underneath (API, networks, controller). */
  readonly service: Service;
  /** The userspace stacks (one per joined network). */
  readonly net: UserspaceNet;

  /** @internal use {@link startEmbeddedNode}. */
  constructor(service: Service, net: UserspaceNet) {
    this.service = service;
    this.net = net;
  }

  /** This node's ZeroTier address (10 hex digits). */
  get address(): string {
    return this.service.node.identity.address.toString();
  }

  /**
   * Joins network `nwid` (16 hex digits) and waits (up to `timeoutMs`) until it has a managed
   * address; returns the addresses ("ip/bits"). `o.allowDNS` sets the network's `allowDNS`
   * (names under its DNS domain then resolve in {@link resolve} and {@link connect}).
   * @throws Error on a bad id or when no address arrives in time (not authorized, no controller).
   */
  async join(
    nwid: string,
    timeoutMs = 30_000,
    o: { allowDNS?: boolean } = {},
  ): Promise<string[]> {
    if (!/^[0-9a-fA-F]{16}$/.test(nwid)) throw new Error(`zt: bad network id "${nwid}"`);
    const nets = this.service.networks;
    if (!nets) throw new Error("zt: this node has no VL2 layer");
    const id = BigInt("0x" + nwid);
    nets.join(Date.now(), id);
    if (o.allowDNS !== undefined) nets.setLocalConf(id, { allowDNS: o.allowDNS });
    await this.net.waitForAddress(4, timeoutMs).catch((e) => {
      // IPv6-only networks are fine too
      if (!this.net.addresses().length) throw e;
    });
    return this.net.addresses();
  }

  /** Leaves network `nwid`. */
  leave(nwid: string): boolean {
    return this.service.networks?.leave(Date.now(), BigInt("0x" + nwid)) ?? false;
  }

  /**
   * The overlay IP of `host`: an IP as is, or a name under the DNS domain of a joined network
   * whose `allowDNS` is set, asked of that network's DNS servers over the overlay (other names
   * are refused, never looked up on the host).
   */
  resolve(host: string): Promise<string> {
    return this.net.resolve(host);
  }

  /** Opens a TCP connection to `host` (an overlay IP, or a name as {@link resolve}) port `port`. */
  connect(host: string, port: number, timeoutMs?: number): Promise<OverlayConn> {
    return this.net.connect(host, port, timeoutMs);
  }

  /** Listens on TCP `port` on every joined network. */
  listen(port: number, backlog?: number): OverlayListener {
    return this.net.listen(port, backlog);
  }

  /** A UDP socket on `port` (0 = ephemeral) on the network that reaches `towards`. */
  udp(port = 0, towards?: string): OverlayUdp {
    return this.net.udp(port, towards);
  }

  /** Pings `host` (an overlay IP); resolves with the first round-trip time, ms. */
  ping(host: string, timeoutMs?: number): Promise<number> {
    return this.net.ping(host, timeoutMs);
  }

  /** Stops the node (connections are reset, networks stay joined in the home). */
  async close(): Promise<void> {
    await this.service.stop();
  }
}

/**
 * Starts a node in `home` with zt's userspace network stack (no interface is created).
 * @throws Error when the home or the port cannot be used.
 */
export async function startEmbeddedNode(o: EmbeddedNodeOptions): Promise<EmbeddedNode> {
  const net = new UserspaceNet(o.stack ?? {});
  const service = await Service.start({
    home: o.home,
    port: o.port ?? 0,
    log: new Logger(o.logLevel ?? "warn"),
    createNode,
    controller: o.controller ?? false,
    createTap: () => net.createTap(),
    onTransportOpened: (kind) => net.transportOpened(kind),
    deviceName: (nwid) => `userspace-${nwid.toString(16).padStart(16, "0")}`,
  });
  net.enableNames(() => networkDomains(service.networks?.infos() ?? []));
  return new EmbeddedNode(service, net);
}
