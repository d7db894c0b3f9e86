// The OS network configuration role in memory: records every wanted state it is given (tests and the simulator).
import type { ManagedPolicy, NetConfig, NetConfigReport } from "../core/frame_port.ts";
import type { MulticastGroup } from "../vl2/multicast.ts";
import type { InetAddress } from "../vl1/inet_address.ts";
import type { Route } from "../vl2/network_config.ts";

/** One wanted state given to {@link FakeNetConfig.syncManaged}. */
export interface NetConfigCall {
  /** Assigned addresses (port = prefix bits), as given. */
  assigned: InetAddress[];
  /** Routes, as given. */
  routes: Route[];
  /** The policy they were given under. */
  policy: ManagedPolicy;
}

/**
 * A {@link NetConfig} that changes nothing (the model is Tailscale's `router_fake.go`): each
 * `syncManaged` is recorded in {@link calls} and reported as one change; the multicast groups
 * are what the test puts in {@link groups}.
 */
export class FakeNetConfig implements NetConfig {
  /** Every wanted state, oldest first. */
  readonly calls: NetConfigCall[] = [];
  /** What {@link multicastGroups} reports. */
  groups: MulticastGroup[] = [];

  /** Records the wanted state. */
  syncManaged(
    assigned: InetAddress[],
    routes: Route[],
    policy: ManagedPolicy,
  ): Promise<NetConfigReport> {
    this.calls.push({ assigned: [...assigned], routes: [...routes], policy: { ...policy } });
    return Promise.resolve({
      ran: [["sync", String(assigned.length), String(routes.length)]],
      failed: [],
    });
  }

  /** The last wanted state, if any. */
  get last(): NetConfigCall | undefined {
    return this.calls.at(-1);
  }

  /** A copy of {@link groups}. */
  multicastGroups(): MulticastGroup[] {
    return this.groups.slice();
  }
}
