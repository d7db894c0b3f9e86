// `zt run --userspace`: the userspace network stacks, and the local proxy, --forward and --expose around them (settings: userspace_settings.ts; loaded only in userspace mode).
import type { NetworkInfo } from "../vl2/network.ts";
import type { Logger } from "./logger.ts";
import { type MappingHandle, startExpose, startForward } from "./proxy_relay.ts";
import { networkDomains } from "./overlay_resolver.ts";
import { type ProxyHandle, startProxy } from "./socks_proxy.ts";
import { UserspaceNet } from "./userspace_net.ts";
import type { UserspaceSettings } from "./userspace_settings.ts";

export {
  DEFAULT_PROXY_ADDR,
  kernelTapLikely,
  parseListenAddr,
  type UserspaceFlags,
  type UserspaceSettings,
  userspaceSettings,
} from "./userspace_settings.ts";

/** What userspace mode runs besides the node. */
export class UserspaceMode {
  readonly net: UserspaceNet;
  proxy: ProxyHandle | undefined;
  readonly mappings: MappingHandle[] = [];

  constructor(net = new UserspaceNet()) {
    this.net = net;
  }

  /**
   * Starts the proxy and the mappings; with `networks` (the joined networks), names under a
   * network's DNS domain resolve through that network's DNS servers.
   * @throws when a port cannot be bound.
   */
  start(s: UserspaceSettings, log: Logger, networks?: () => NetworkInfo[]): void {
    if (networks) this.net.enableNames(() => networkDomains(networks()));
    if (s.proxy) {
      this.proxy = startProxy({
        ...s.proxy,
        dial: (h, p) => this.net.connect(h, p),
        resolve: (name) => this.net.resolve(name),
        udp: (towards) => this.net.udp(0, towards),
        ...(s.auth ? { auth: s.auth } : {}),
        log,
      });
      log.info(
        `userspace: SOCKS5 / HTTP CONNECT proxy on ${this.proxy.addr.hostname}:${this.proxy.addr.port}` +
          (s.auth ? " (username/password required)" : ""),
      );
    }
    for (const m of s.forwards) {
      this.mappings.push(startForward(this.net, m, log));
      log.info(`userspace: forwarding 127.0.0.1:${m.listenPort} → ${m.host}:${m.port} (overlay)`);
    }
    for (const m of s.exposes) {
      this.mappings.push(startExpose(this.net, m, log));
      log.info(`userspace: overlay port ${m.listenPort} → ${m.host}:${m.port}`);
    }
  }

  /** Stops the proxy and the mappings. */
  async close(): Promise<void> {
    for (const m of this.mappings) m.close();
    await this.proxy?.close();
  }
}
